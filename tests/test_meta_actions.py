"""meta: end_batch, clear_host_errors, clear_facts, refresh_inventory and reset_connection, on the local
connection, on the lab (a reset logs in again), and against ansible-core."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report
from tests.test_connection_ssh import accepted_logins

PLAYBOOK = """
- name: batches
  hosts: all
  gather_facts: false
  serial: 2
  tasks:
    - {meta: end_batch, when: inventory_hostname == 'h3'}
    - {name: after end_batch, debug: {msg: "{{ inventory_hostname }}"}}
- name: errors
  hosts: all
  gather_facts: false
  tasks:
    - {name: h1 fails, fail: {msg: boom}, when: inventory_hostname == 'h1'}
    - meta: clear_host_errors
    - {name: after clearing, debug: {msg: "{{ inventory_hostname }}"}}
- name: facts
  hosts: all
  gather_facts: true
  tasks:
    - set_fact: {kept: yes}
    - meta: clear_facts
    - {name: after clear_facts, debug: {msg: "{{ ansible_hostname is defined }} {{ kept }}"}}
- name: inventory
  hosts: all
  gather_facts: false
  tasks:
    - name: a new host in the inventory's folder
      copy:
        dest: "{{ inventory_dir }}/late.yml"
        content: "late:\\n  hosts:\\n    h4:\\n      ansible_connection: local\\n"
      delegate_to: localhost
      run_once: true
    - meta: refresh_inventory
    - meta: reset_connection
- name: late
  hosts: late
  gather_facts: false
  tasks:
    - {name: on the new host, debug: {msg: "{{ inventory_hostname }}"}}
"""


def _project(folder: Path) -> tuple[Path, Path]:
    inventory = folder / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {name: {
        "ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON} for name in ("h1", "h2", "h3")}}}))
    playbook = folder / "play.yml"
    playbook.write_text(PLAYBOOK.replace("{{ inventory_dir }}", str(inventory)))
    return playbook, inventory


def _shown(result) -> list[tuple[str, str, object]]:
    return sorted((play.name, r.task, r.host) for play in result.plays for results in play.tasks.values()
                  for r in results if r.task.startswith(("after", "on the")))


def test_meta_actions(tmp_path):
    playbook, inventory = _project(tmp_path)
    result = titan_ops.run(playbook, inventory)
    shown = _shown(result)
    assert [host for play, _, host in shown if play == "batches"] == ["h1", "h2"]  # h3's batch ended at once
    assert [host for play, _, host in shown if play == "errors"] == ["h2", "h3"]
    assert {host for play, _, host in shown if play == "late"} == {"h4"}
    facts = [r.msg for r in result.host_results("h1") if r.task == "after clear_facts"]
    assert facts == ["False True"]
    assert result.stats["h1"].failed == 1 and result.exit_code == 0  # cleared: h1 ran the later plays
    assert (inventory / "late.yml").exists()


def test_an_unknown_meta_action_is_refused(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  tasks: [{meta: end_role}]\n")
    with pytest.raises(PlaybookError, match="end_role"):
        load_playbook(playbook)


def test_reset_connection_logs_in_again(lab, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: lab1\n  gather_facts: false\n  tasks:\n    - command: 'true'\n"
                        "    - meta: reset_connection\n    - command: 'true'\n")
    before = accepted_logins(lab, "lab1")
    assert titan_ops.run(playbook, lab.inventory_path).exit_code == 0
    assert accepted_logins(lab, "lab1") == before + 2


@pytest.mark.oracle
def test_meta_actions_match_ansible(tmp_path):
    playbook, inventory = _project(tmp_path)
    code, report = ansible_report(playbook, inventory)
    (inventory / "late.yml").unlink()
    result = titan_ops.run(playbook, inventory)
    theirs = sorted((play["play"]["name"], task["task"]["name"], host) for play in report["plays"]
                    for task in play["tasks"] for host in task["hosts"]
                    if task["task"]["name"].startswith(("after", "on the")))
    assert _shown(result) == theirs
    assert result.exit_code == code
    facts = next(play for play in report["plays"] if play["play"]["name"] == "facts")["tasks"][-1]["hosts"]["h1"]["msg"]
    assert [r.msg for r in result.host_results("h1") if r.task == "after clear_facts"] == [facts]
    assert {host: (stats.ok, stats.failed) for host, stats in result.stats.items()} == \
        {host: (stats["ok"], stats["failures"]) for host, stats in report["stats"].items()}
