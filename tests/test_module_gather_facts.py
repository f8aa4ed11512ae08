"""``gather_facts`` as a task, on the local connection and against ansible-core."""

from __future__ import annotations

import platform

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: facts wanted, gather_facts: {gather_subset: distribution}, when: ansible_distribution is not defined}
    - {name: facts known, debug: {msg: "{{ ansible_distribution }} {{ ansible_hostname }} {{ ansible_system }}"}}
    - {name: not again, gather_facts: {parallel: true}, when: ansible_distribution is not defined}
"""
KEYS = ("changed", "msg")


def test_gather_facts_task_sets_the_facts_setup_gathers(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert [status for _, status, _ in side.tasks] == ["ok", "ok", "skipped"]
    assert side.tasks[1][2]["msg"].endswith(f" {platform.node().split('.')[0]} Linux")


@pytest.mark.oracle
def test_gather_facts_task_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
    assert ours.rc == theirs.rc
