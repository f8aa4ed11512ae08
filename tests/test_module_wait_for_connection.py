"""``wait_for_connection`` on the local connection and against a closed port on loopback, and against
ansible-core."""

from __future__ import annotations

import pytest
import yaml

from tests.local_oracle import ORACLE_PYTHON, play_ansible, play_titan, project

PLAYBOOK = """
- hosts: h
  gather_facts: false
  tasks:
    - {name: up, wait_for_connection: {timeout: 30}}
    - {name: in check mode, wait_for_connection: {}, check_mode: true}
- hosts: down
  gather_facts: false
  tasks:
    - {name: never up, wait_for_connection: {timeout: 2, sleep: 1}, ignore_errors: true}
    - {name: after it, debug: {msg: still here}}
"""


def _project(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    hosts = {"h": {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON},
             "d": {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody"}}
    (folder / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"h": hosts["h"]}, "children": {
        "down": {"hosts": {"d": hosts["d"]}}}}}))
    return folder


def test_waits_until_a_command_runs_or_fails_at_the_timeout(tmp_path):
    folder = _project(tmp_path)
    side = play_titan(folder, tmp_path / "base", ("changed", "msg", "elapsed"))
    assert [(name, status) for name, status, _ in side.tasks] == [("up", "ok"), ("in check mode", "skipped")]
    assert side.tasks[0][2]["changed"] is False and isinstance(side.tasks[0][2]["elapsed"], int)
    down = play_titan(folder, tmp_path / "down", ("msg",), host="d")
    assert [(name, status) for name, status, _ in down.tasks] == [("never up", "failed"), ("after it", "ok")]
    assert down.tasks[0][2]["msg"].startswith("timed out waiting for ping module test: ")
    assert "connection refused" in down.tasks[0][2]["msg"]


@pytest.mark.oracle
def test_matches_ansible(tmp_path):
    folder = _project(tmp_path)
    for host in ("h", "d"):
        theirs = play_ansible(folder, tmp_path / f"ansible-{host}", ("changed",), host=host)
        ours = play_titan(folder, tmp_path / f"titan-{host}", ("changed",), host=host)
        assert ours.tasks == theirs.tasks, host
        assert ours.rc == theirs.rc
