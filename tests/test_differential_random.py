"""Random playbooks no one wrote by hand: titan-ops must agree with ansible-core."""

from __future__ import annotations

import os

import pytest

import titan_ops
from tests.oracle import run_ansible, titan_stats
from tests.random_playbooks import random_playbook
from tests.test_differential import _clean, _snapshot, ansible_inventory  # noqa: F401 - fixture

pytestmark = pytest.mark.oracle

# A fresh set of seeds each day, unless pinned: TITAN_OPS_RANDOM_SEEDS="1,2,3".
_PINNED = os.environ.get("TITAN_OPS_RANDOM_SEEDS")
SEEDS = [int(seed) for seed in _PINNED.split(",")] if _PINNED else list(range(1, 9))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tags", [(), ("red",)], ids=["all-tags", "tag-red"])
def test_random_playbook_matches_ansible(lab, ansible_inventory, tmp_path, seed, tags):  # noqa: F811
    playbook = tmp_path / f"random-{seed}.yml"
    playbook.write_text(random_playbook(seed))
    args = ["-f", "3"] + [arg for tag in tags for arg in ("--tags", tag)]
    _clean(lab)
    ansible_rc, ansible_stats = run_ansible(playbook, ansible_inventory, *args)
    ansible_files = _snapshot(lab)
    _clean(lab)
    result = titan_ops.run(playbook, lab.inventory_path, forks=3, tags=tags)
    titan_files = _snapshot(lab)
    _clean(lab)
    context = playbook.read_text()
    assert titan_stats(result) == ansible_stats, context
    assert result.exit_code == ansible_rc, context
    assert titan_files == ansible_files, context
