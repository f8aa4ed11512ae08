"""``add_host`` and ``group_by`` change the run's inventory (later plays target what they add), never
the caller's; on the local connection and against ansible-core."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.inventory import load_inventory
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: add one
      add_host:
        name: new1
        groups: [added, extra]
        myvar: 5
        ansible_connection: local
    - name: add in a loop
      add_host: {hostname: "dyn-{{ item }}", groups: loopgrp, ansible_connection: local}
      loop: [a, b]
    - name: add free form
      add_host: name=new2 groups=added,web ansible_connection=local
    - {name: group by color, group_by: {key: "color_{{ color }}"}}
    - {name: group under parents, group_by: {key: "x_{{ color }}", parents: [allx, ally]}}
    - name: what the groups are now
      debug: {msg: "{{ groups | dict2items | map(attribute='key') | sort }} {{ groups['added'] }}"}
      run_once: true
    - name: a new host's variables
      debug: {msg: "{{ hostvars['new1'].myvar }} {{ group_names }}"}
- hosts: added
  gather_facts: false
  tasks:
    - {name: on added hosts, debug: {msg: "{{ inventory_hostname }} {{ group_names }} {{ myvar | default('none') }}"}}
- hosts: color_red:x_blue
  gather_facts: false
  tasks:
    - {name: on new groups, debug: {msg: "{{ inventory_hostname }} {{ group_names }}"}}
- hosts: allx
  gather_facts: false
  tasks:
    - {name: on parents, debug: {msg: "{{ inventory_hostname }}"}}
"""


def _project(folder: Path) -> tuple[Path, Path]:
    playbook = folder / "play.yml"
    playbook.write_text(PLAYBOOK)
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON},
        "hosts": {"h1": {"color": "red"}, "h2": {"color": "blue"}},
        "children": {"web": {"hosts": {"h1": None}}}}}))
    return playbook, inventory


def _shown(result) -> list[tuple[str, str, object]]:
    return [(play.name, r.task, r.result.get("msg")) for play in result.plays
            for results in play.tasks.values() for r in results if r.module == "debug"]


def test_later_plays_target_added_hosts_and_groups_and_the_inventory_is_untouched(tmp_path):
    playbook, inventory_path = _project(tmp_path)
    inventory = load_inventory(inventory_path)
    result = titan_ops.run(playbook, inventory)
    assert result.exit_code == 0
    shown = _shown(result)
    assert ("added", "on added hosts", "new1 ['added', 'extra'] 5") in shown
    assert ("added", "on added hosts", "new2 ['added', 'web'] none") in shown
    assert sorted(msg for play, _, msg in shown if play == "color_red:x_blue") == \
        ["h1 ['allx', 'ally', 'color_red', 'web', 'x_red']", "h2 ['allx', 'ally', 'color_blue', 'x_blue']"]
    assert sorted(msg for play, _, msg in shown if play == "allx") == ["h1", "h2"]  # hosts finish in any order
    add = next(r for r in result.host_results("h1") if r.task == "add one")
    assert add.changed and add.result["add_host"] == {"host_name": "new1", "groups": ["added", "extra"],
                                                      "host_vars": {"myvar": 5, "ansible_connection": "local"}}
    assert [r.task for r in result.host_results("h2")].count("add one") == 0  # once, not once per host
    assert inventory.host_names() == ["h1", "h2"] and "added" not in inventory.groups()


@pytest.mark.oracle
def test_add_host_and_group_by_match_ansible(tmp_path):
    playbook, inventory = _project(tmp_path)
    code, report = ansible_report(playbook, inventory)
    result = titan_ops.run(playbook, inventory)
    theirs = [(play["play"]["name"], task["task"]["name"], host, outcome.get("msg"))
              for play in report["plays"] for task in play["tasks"] for host, outcome in sorted(task["hosts"].items())
              if task["task"]["name"].startswith(("on ", "what", "a new"))]
    ours = [(play, task, host, msg) for play, task, msg, host in
            ((play.name, r.task, r.result.get("msg"), r.host) for play in result.plays
             for results in play.tasks.values() for r in results if r.module == "debug")]
    assert sorted(ours) == sorted(theirs)
    assert result.exit_code == code
    assert {host: (stats.ok, stats.changed) for host, stats in result.stats.items()} == \
        {host: (stats["ok"], stats["changed"]) for host, stats in report["stats"].items()}
