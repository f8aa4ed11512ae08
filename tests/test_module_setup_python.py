"""The ``ansible_python`` fact (the host's Python, when it has one: ``ansible_python_interpreter``, else
python3 on its PATH), on the local connection and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import ORACLE_PYTHON, play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: true
  tasks:
    - {name: the python fact, debug: {var: ansible_python}}
    - {name: also in ansible_facts, debug: {msg: "{{ ansible_facts.python.version.major }}"}}
"""


def test_the_python_fact_describes_the_interpreter(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", ("ansible_python", "msg"))
    python = side.tasks[1][2]["ansible_python"]
    assert python["executable"] == ORACLE_PYTHON and python["type"] == "cpython"
    assert python["version_info"][:2] == [python["version"]["major"], python["version"]["minor"]]
    assert side.tasks[2][2]["msg"] == 3


@pytest.mark.oracle
def test_the_python_fact_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", ("ansible_python", "msg"))
    ours = play_titan(folder, tmp_path / "titan", ("ansible_python", "msg"))
    assert ours.tasks[1:] == theirs.tasks[1:]
