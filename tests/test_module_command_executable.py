"""``command`` with ``executable``: ignored with Ansible's warning (command runs no shell); ``shell`` uses it.
On the local connection and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: command, command: echo $0, args: {executable: /bogus}}
    - {name: shell, shell: echo $0, args: {executable: /bin/bash}}
"""
KEYS = ("changed", "stdout", "warnings")


def test_command_ignores_executable_and_warns(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert side.tasks == [
        ("command", "changed", {"changed": True, "stdout": "$0", "warnings": [
            "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. "
            "Not using '/bogus'."]}),
        ("shell", "changed", {"changed": True, "stdout": "/bin/bash"})]


@pytest.mark.oracle
def test_command_executable_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
