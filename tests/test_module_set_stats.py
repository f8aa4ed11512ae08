"""``set_stats`` on the local connection: the run's custom stats, in its result and after the recap."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

import titan_ops
from tests.forked_cli import run_cli
from tests.oracle import QUIET_ENV, require_oracle
from titan_ops.redaction import MASK

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: counted
      set_stats:
        data: {count: 1, names: ["{{ inventory_hostname }}"], d: {a: 1}}
      throttle: 1  # (one host after the other: the hosts' names join the list in a known order)
    - name: added to
      set_stats:
        data: {count: 2, names: [x], d: {b: 2}, s: str}
    - name: per host
      set_stats:
        data: {ph: "{{ inventory_hostname }}"}
        per_host: true
    - name: another type is ignored
      set_stats:
        data: {count: text}
    - name: replaced
      set_stats:
        data: {s: new}
        aggregate: false
      register: replaced
    - name: from the host
      command: echo '{{ "{{" }} 6 * 7 }}'
      register: echoed
    - name: data, never a template
      set_stats:
        data: {echoed: "{{ echoed.stdout }}"}
        per_host: true
        aggregate: false
"""
HOSTS = {"h1": {"ansible_connection": "local"}, "h2": {"ansible_connection": "local"}}


def _project(tmp_path, playbook: str = PLAYBOOK):
    (tmp_path / "play.yml").write_text(playbook)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": HOSTS}}))
    return tmp_path / "play.yml", tmp_path / "inventory.yml"


def test_set_stats_adds_up_per_host_and_for_the_run(tmp_path):
    result = titan_ops.run(*_project(tmp_path))
    assert result.exit_code == 0
    assert result.global_custom_stats == {"count": 6, "names": ["h1", "h2", "x", "x"],
                                          "d": {"a": 1, "b": 2}, "s": "new"}
    assert result.custom_stats == {"h1": {"ph": "h1", "echoed": "{{ 6 * 7 }}"},
                                   "h2": {"ph": "h2", "echoed": "{{ 6 * 7 }}"}}
    registered = result.host_results("h1")[4].result
    assert registered["ansible_stats"] == {"data": {"s": "new"}, "per_host": False, "aggregate": False}
    recorded = json.loads(json.dumps(result.to_dict(), default=str))
    assert recorded["global_custom_stats"]["names"] == ["h1", "h2", "x", "x"]
    assert recorded["custom_stats"]["h2"] == {"ph": "h2", "echoed": "{{ 6 * 7 }}"}


def test_a_stat_name_that_is_no_variable_name_fails(tmp_path):
    result = titan_ops.run(*_project(tmp_path, """
- hosts: h1
  gather_facts: false
  tasks:
    - set_stats: {data: {"not a name": 1}}
"""))
    failed = result.host_results("h1")[0]
    assert failed.status.value == "failed"
    assert failed.result["msg"].startswith("The variable name 'not a name' is not valid.")
    assert result.global_custom_stats == {}


def test_secrets_in_stats_are_masked(tmp_path):
    result = titan_ops.run(*_project(tmp_path, """
- hosts: h1
  gather_facts: false
  vars: {db_password: hunter2-secret}
  tasks:
    - set_stats: {data: {login: "admin:{{ db_password }}", api_token: plain-value}}
    - set_stats: {data: {hidden: not-for-eyes}}
      no_log: true
"""))
    assert result.global_custom_stats == {"login": f"admin:{MASK}", "api_token": MASK, "hidden": MASK}
    assert "hunter2-secret" not in json.dumps(result.to_dict(), default=str)


def test_custom_stats_show_after_the_recap_with_the_setting(tmp_path):
    _project(tmp_path)
    env = {**os.environ, "ANSIBLE_SHOW_CUSTOM_STATS": "1"}
    shown = run_cli(["run", "play.yml", "-i", "inventory.yml"], cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "\tRUN: { \"count\": 6," in shown.stdout
    assert "\th1: { \"echoed\": \"{{ 6 * 7 }}\", \"ph\": \"h1\"}" in shown.stdout
    env["ANSIBLE_SHOW_CUSTOM_STATS"] = "0"
    assert "CUSTOM STATS" not in run_cli(["run", "play.yml", "-i", "inventory.yml"], cwd=tmp_path, env=env).stdout


def _custom_stats_lines(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("CUSTOM STATS:"))
    return [line for line in lines[start:] if not line.startswith("titan-ops: ")]


@pytest.mark.oracle
def test_custom_stats_are_shown_as_ansible_shows_them(tmp_path):
    _project(tmp_path)
    env = {**os.environ, **QUIET_ENV, "ANSIBLE_SHOW_CUSTOM_STATS": "1",
           "ANSIBLE_PYTHON_INTERPRETER": "/opt/titan-ops-oracle/bin/python"}
    theirs = subprocess.run([str(require_oracle()), "-i", "inventory.yml", "play.yml"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    ours = run_cli(["run", "play.yml", "-i", "inventory.yml"], cwd=tmp_path, env=env)
    assert (ours.returncode, theirs.returncode) == (0, 0), theirs.stdout + theirs.stderr
    assert _custom_stats_lines(ours.stdout) == _custom_stats_lines(theirs.stdout)
