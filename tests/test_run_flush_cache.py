"""``--flush-cache``: accepted, and a run starts with no facts from an earlier one, with or without it."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.forked_cli import run_cli
from tests.local_oracle import project
from tests.oracle import QUIET_ENV, require_oracle

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: nothing from an earlier run, assert: {that: cached is undefined}}
    - {name: cache it, set_fact: {cached: yes, cacheable: true}}
"""


def _titan(folder, *options):
    return run_cli(["run", "-i", "inventory.yml", "play.yml", *options], cwd=folder)


def test_flush_cache_is_accepted_and_no_fact_outlives_its_run(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    assert _titan(folder).returncode == 0
    done = _titan(folder, "--flush-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _titan(folder).returncode == 0


@pytest.mark.oracle
def test_flush_cache_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    for options in ((), ("--flush-cache",), ()):
        theirs = subprocess.run([str(require_oracle()), "-i", "inventory.yml", "play.yml", *options], cwd=folder,
                                capture_output=True, text=True, env={**os.environ, **QUIET_ENV}, timeout=120)
        assert _titan(folder, *options).returncode == theirs.returncode == 0
