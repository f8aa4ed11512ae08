"""Random playbooks no one wrote by hand: titan-ops must agree with ansible-core.

Each session draws fresh seeds (8, or ``TITAN_OPS_RANDOM_COUNT``; a failure names its seed and how to replay
it); replay given ones with ``TITAN_OPS_RANDOM_SEEDS=SEED[,SEED...]`` and print a seed's playbook with
``python -m tests.random_playbooks SEED``. The first seed also runs on three local hosts (tests/random_local.py,
which compares hundreds of seeds in an hour without the lab: ``python -m tests.random_local COUNT``).
"""

from __future__ import annotations

import os

import pytest

import titan_ops
from tests.conftest import session_random
from tests.oracle import run_ansible, titan_stats
from tests.random_local import compare
from tests.random_playbooks import random_playbook
from tests.test_differential import _clean, _snapshot, ansible_inventory  # noqa: F401 - fixture

pytestmark = pytest.mark.oracle

_PINNED = os.environ.get("TITAN_OPS_RANDOM_SEEDS")
SEEDS = ([int(seed) for seed in _PINNED.split(",")] if _PINNED
         else session_random().sample(range(1, 10**6), int(os.environ.get("TITAN_OPS_RANDOM_COUNT", "8"))))


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed-{seed}" for seed in SEEDS])
def test_random_playbook_matches_ansible(lab, ansible_inventory, tmp_path, seed):  # noqa: F811
    case = random_playbook(seed)
    playbook = tmp_path / f"random-{seed}.yml"
    playbook.write_text(case.text)
    for path, text in case.files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    context = (f"seed {seed} ({case.mode}): replay with TITAN_OPS_RANDOM_SEEDS={seed} .venv/bin/python -m pytest -q "
               f"tests/test_differential_random.py; see it with python -m tests.random_playbooks {seed}\n{case.text}")
    print(context)  # shown when anything below fails, an error of either side included
    _clean(lab)
    ansible_rc, ansible_stats = run_ansible(playbook, ansible_inventory, *case.ansible_args(), stopped=True)
    ansible_files = _snapshot(lab)
    _clean(lab)
    result = titan_ops.run(playbook, lab.inventory_path, **case.options)
    titan_files = _snapshot(lab)
    _clean(lab)
    if ansible_stats is None:  # an error stopped ansible's run (and its recap): titan-ops' must stop there too
        assert result.error is not None, context
    else:
        assert titan_stats(result) == ansible_stats, context
    assert result.exit_code == ansible_rc, context
    assert titan_files == ansible_files, context


def test_random_playbook_on_local_hosts_matches_ansible(tmp_path):
    seed = SEEDS[0]
    assert compare(seed, tmp_path) == [], f"seed {seed}: replay with python -m tests.random_local --seeds {seed}"
