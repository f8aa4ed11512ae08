"""Check mode holds: ``ansible_check_mode`` and ``ansible_diff_mode`` are the run's -C and -D, whatever a
task's or block's own ``check_mode:``/``diff:`` says, so a task guarded by ``when: not ansible_check_mode``
never runs under -C (local hosts; the oracle test compares with ansible-core)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import titan_ops
from tests.oracle import QUIET_ENV, require_oracle

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: a read-only probe, run for real
      shell: echo {{ ansible_check_mode }} {{ ansible_diff_mode }} > {{ out }}/seen-by-probe
      check_mode: false
    - name: a destructive step guarded by the run's check mode, itself marked check_mode false
      command: touch {{ out }}/destroyed-own
      check_mode: false
      when: not ansible_check_mode
    - name: guarded steps in a block marked check_mode false
      block:
        - shell: echo {{ ansible_check_mode }} {{ ansible_diff_mode }} > {{ out }}/seen-in-block
        - command: touch {{ out }}/destroyed-in-block
          when: not ansible_check_mode
      check_mode: false
      diff: false
    - name: a guarded step after them
      command: touch {{ out }}/destroyed-after
      check_mode: false
      when: not ansible_check_mode
    - name: a task forced into check mode sees the run's flag
      shell: echo {{ ansible_check_mode }} > {{ out }}/seen-forced
      check_mode: true
    - name: that one records it for real
      shell: echo {{ ansible_check_mode }} > {{ out }}/seen-forced
      check_mode: false
      when: ansible_check_mode
"""


def _write(tmp_path: Path) -> Path:
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    localhost: {ansible_connection: local}\n")
    return playbook


def _files(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text().strip() for path in sorted(folder.iterdir())}


def _titan(tmp_path: Path, check: bool, diff: bool) -> dict[str, str]:
    out = tmp_path / "titan"
    out.mkdir()
    result = titan_ops.run(_write(tmp_path), tmp_path / "inventory.yml", check=check, diff=diff,
                           extra_vars={"out": str(out)})
    assert result.exit_code == 0
    return _files(out)


def test_a_guarded_destructive_task_never_runs_under_check(tmp_path):
    assert _titan(tmp_path, check=True, diff=True) == {
        "seen-by-probe": "True True", "seen-forced": "True", "seen-in-block": "True True"}


def test_without_check_the_guarded_tasks_run(tmp_path):
    assert _titan(tmp_path, check=False, diff=False) == {
        "destroyed-after": "", "destroyed-in-block": "", "destroyed-own": "",
        "seen-by-probe": "False False", "seen-in-block": "False False"}


@pytest.mark.oracle
@pytest.mark.parametrize("flags", [("-C", "-D"), ()])
def test_same_as_ansible(tmp_path, flags):
    playbook = _write(tmp_path)
    theirs = tmp_path / "ansible"
    theirs.mkdir()
    done = subprocess.run([str(require_oracle()), "-i", "localhost,", "-c", "local", str(playbook), *flags,
                           "-e", f"out={theirs}"], capture_output=True, text=True, env={**os.environ, **QUIET_ENV},
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _titan(tmp_path, check=bool(flags), diff=bool(flags)) == _files(theirs)
