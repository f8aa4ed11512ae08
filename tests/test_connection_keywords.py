"""The ``connection``, ``remote_user`` and ``port`` keywords (play, block, task) and the play's
``force_handlers``: a host's own variables win over the keywords, the keywords over the run's options."""

from __future__ import annotations

from pathlib import Path

import yaml

import titan_ops
from titan_ops.engine.results import Status
from tests.test_checks_modules import ORACLE_PYTHON


def test_connection_keyword_and_force_handlers_play_keyword(tmp_path: Path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {
        "far": {"ansible_host": "203.0.113.9", "ansible_python_interpreter": ORACLE_PYTHON},
        "pinned": {"ansible_host": "203.0.113.10", "ansible_connection": "ssh"}}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text("""
- hosts: pinned
  gather_facts: false
  tasks:
    - {name: the host's variable wins, command: hostname, connection: local, ignore_unreachable: true}
- hosts: far
  gather_facts: false
  connection: local
  force_handlers: true
  tasks:
    - {name: local by the keyword, command: hostname, notify: handler}
    - {name: fails, fail: {msg: boom}}
  handlers:
    - {name: handler, debug: {msg: handled}}
""")
    result = titan_ops.run(playbook, inventory, connect_timeout=2)
    far = {r.task: r for r in result.host_results("far")}
    assert far["local by the keyword"].status is Status.CHANGED
    assert "handler" in far  # force_handlers: the failed host still runs its handler
    pinned = result.host_results("pinned")
    assert [r.status for r in pinned] == [Status.UNREACHABLE]


def test_remote_user_and_port_keywords(lab, tmp_path: Path):
    host = lab.host("lab1")
    inventory = tmp_path / "inventory.yml"
    common = {"ansible_host": "127.0.0.1", "ansible_ssh_private_key_file": str(lab.client_key_path),
              "ansible_ssh_known_hosts_file": str(lab.known_hosts_path)}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {
        "by-keywords": common,
        "own-user": {**common, "ansible_user": "root", "ansible_port": host.port}}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: all
  gather_facts: false
  remote_user: root
  port: {host.port}
  tasks:
    - {{name: as root, command: id -un}}
- hosts: all
  gather_facts: false
  tasks:
    - {{name: as nobody, command: id -un, remote_user: nobody, port: {host.port}}}
""")
    result = titan_ops.run(playbook, inventory, connect_timeout=5)
    by_keywords = {r.task: r for r in result.host_results("by-keywords")}
    assert by_keywords["as root"].stdout == "root"
    own = {r.task: r for r in result.host_results("own-user")}
    assert own["as root"].stdout == "root" and own["as nobody"].stdout == "root"  # ansible_user wins
    nobody = by_keywords["as nobody"]  # a login of its own, as nobody, whom the lab does not let in
    assert nobody.status is Status.UNREACHABLE and "authentication failed for user nobody" in nobody.msg
