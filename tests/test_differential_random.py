"""Random playbooks no one wrote by hand: titan-ops must agree with ansible-core.

Each session draws fresh seeds (a failure names its seed); replay one with
``TITAN_OPS_RANDOM_SEEDS=SEED[,SEED...]`` and print its playbook with ``python -m tests.random_playbooks SEED``.
"""

from __future__ import annotations

import json
import os
import random

import pytest

import titan_ops
from tests.oracle import run_ansible, titan_stats
from tests.random_playbooks import random_playbook
from tests.test_differential import _clean, _snapshot, ansible_inventory  # noqa: F401 - fixture

pytestmark = pytest.mark.oracle

_PINNED = os.environ.get("TITAN_OPS_RANDOM_SEEDS")
SEEDS = ([int(seed) for seed in _PINNED.split(",")] if _PINNED
         else random.SystemRandom().sample(range(1, 10**6), 8))
# How a seed's playbook is run: drawn from the seed, so that a replay runs it the same way.
MODES = {"all-tags": {}, "tag-red": {"tags": ("red",)}, "check": {"check": True}}


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{seed}" for seed in SEEDS])
def test_random_playbook_matches_ansible(lab, ansible_inventory, tmp_path, seed):  # noqa: F811
    case = random_playbook(seed)
    mode = list(MODES)[seed % len(MODES)]
    options = MODES[mode]
    playbook = tmp_path / f"random-{seed}.yml"
    playbook.write_text(case.text)
    args = ["-f", "3", "-e", json.dumps(case.extra_vars)]
    args += [arg for tag in options.get("tags", ()) for arg in ("--tags", tag)]
    args += ["--check"] if options.get("check") else []
    _clean(lab)
    ansible_rc, ansible_stats = run_ansible(playbook, ansible_inventory, *args)
    ansible_files = _snapshot(lab)
    _clean(lab)
    result = titan_ops.run(playbook, lab.inventory_path, forks=3, extra_vars=case.extra_vars, **options)
    titan_files = _snapshot(lab)
    _clean(lab)
    context = (f"seed {seed} ({mode}): replay with TITAN_OPS_RANDOM_SEEDS={seed}, "
               f"see it with python -m tests.random_playbooks {seed}\n{case.text}")
    assert titan_stats(result) == ansible_stats, context
    assert result.exit_code == ansible_rc, context
    assert titan_files == ansible_files, context
