"""``command`` and ``shell`` in check mode: skipped, unless ``creates`` or ``removes`` (a path or a glob) says
whether they would run; ``creates: yes`` is the path ``True``. On the local connection and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  check_mode: true
  tasks:
    - {name: plain, command: "true"}
    - {name: creates a boolean, command: {cmd: "true", creates: yes}}
    - {name: creates there, command: {cmd: "true", creates: "{{ base }}"}}
    - {name: removes not there, shell: {cmd: "true", removes: "{{ base }}/nothing"}}
    - {name: removes there, shell: {cmd: "true", removes: "{{ base }}"}}
    - {name: creates a glob, command: {cmd: "true", creates: "{{ base | dirname }}/*"}}
    - {name: removes a glob, command: {cmd: "true", removes: "{{ base }}/*.nothing"}}
    - {name: a shell, shell: "true"}
    - {name: run anyway, command: "echo ran", check_mode: false}
"""
KEYS = ("changed", "skipped", "msg", "stdout", "rc")


def test_check_mode_says_whether_a_command_would_run(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert [(name, status, result.get("msg")) for name, status, result in side.tasks] == [
        ("plain", "skipped", "Command would have run if not in check mode"),
        ("creates a boolean", "changed", "Command would have run if not in check mode"),
        ("creates there", "ok", "Would not run command since 'BASE' exists"),
        ("removes not there", "ok", "Would not run command since 'BASE/nothing' does not exist"),
        ("removes there", "changed", "Command would have run if not in check mode"),
        ("creates a glob", "ok", f"Would not run command since '{tmp_path}/*' exists"),
        ("removes a glob", "ok", "Would not run command since 'BASE/*.nothing' does not exist"),
        ("a shell", "skipped", "Command would have run if not in check mode"),
        ("run anyway", "changed", None)]


@pytest.mark.oracle
def test_check_mode_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks[:-1] == theirs.tasks[:-1]
    assert ours.tasks[-1][:2] == theirs.tasks[-1][:2] and ours.tasks[-1][2]["stdout"] == theirs.tasks[-1][2]["stdout"]
