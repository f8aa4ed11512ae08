"""A module given none, or more than one, of arguments it needs exactly one of: the task fails (when it
handles its failure) with ansible-core's wording, which playbooks test for."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: none, command: null, args: {chdir: /}, ignore_errors: true}
    - {name: both, command: echo testing, args: {argv: [echo, testing]}, ignore_errors: true}
"""


def test_exactly_one_of_is_worded_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", ("msg",))
    assert [(name, status) for name, status, _ in side.tasks] == [("none", "failed"), ("both", "failed")]
    assert "one of the following is required: cmd, argv" in side.tasks[0][2]["msg"]
    assert "parameters are mutually exclusive: cmd|argv" in side.tasks[1][2]["msg"]


@pytest.mark.oracle
def test_wording_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", ("msg",))
    assert "one of the following is required" in theirs.tasks[0][2]["msg"]
    assert "parameters are mutually exclusive" in theirs.tasks[1][2]["msg"]
    ours = play_titan(folder, tmp_path / "titan", ("msg",))
    assert [task[:2] for task in ours.tasks] == [task[:2] for task in theirs.tasks]
