"""assert, fail and pause on the controller, and assert/fail against ansible-core as the oracle."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

import titan_ops
from titan_ops.engine.results import Status
from tests.oracle import QUIET_ENV, require_oracle, titan_stats

ORACLE_PYTHON = "/opt/titan-ops-oracle/bin/python"
RECORDER = {"ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "oracle_callback"),
            "ANSIBLE_STDOUT_CALLBACK": "titan_record"}

CHECKS_PLAYBOOK = """
- name: checks
  hosts: all
  gather_facts: false
  vars:
    limit: 3
    names: [a, b]
  tasks:
    - name: one expression
      assert: {that: "limit == 3"}
    - name: a list and a success message
      assert:
        that: ["names | length == 2", "'a' in names"]
        success_msg: "all {{ names | length }} fine"
    - name: quiet
      assert: {that: "limit > 1", quiet: true}
    - name: the second of three fails
      assert:
        that: ["limit == 3", "limit == 4", "limit == 5"]
        fail_msg: "limit is {{ limit }}"
      ignore_errors: true
    - name: msg alias as a list
      assert: {that: "names | length > 5", msg: ["too", "few"]}
      ignore_errors: true
    - name: a bare boolean
      assert: {that: true}
    - name: not a boolean
      assert: {that: "limit"}
      ignore_errors: true
    - name: fail without a message
      fail: {}
      ignore_errors: true
    - name: fail skipped
      fail: {msg: never}
      when: limit == 4
    - name: fail on h2 only
      fail: {msg: "{{ inventory_hostname }} is out"}
      when: inventory_hostname == 'h2'
    - name: after the failure
      assert: {that: "inventory_hostname == 'localhost'"}
"""

COMPARED_KEYS = ("msg", "assertion", "evaluated_to", "failed", "changed", "skipped")


def _local_inventory(tmp_path: Path) -> Path:
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}
             for name in ("localhost", "h2")}
    path = tmp_path / "local.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    return path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "play.yml"
    path.write_text(textwrap.dedent(text))
    return path


def ansible_report(playbook: Path, inventory: Path) -> tuple[int, dict[str, Any]]:
    """ansible-playbook's exit code and its whole JSON callback report."""
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook)], capture_output=True,
                          text=True, env={**os.environ, **QUIET_ENV, **RECORDER}, timeout=120)
    assert "{" in done.stdout, f"no JSON from ansible-playbook (rc={done.returncode}): {done.stdout}{done.stderr}"
    return done.returncode, json.loads(done.stdout[done.stdout.index("{"):])


def compared(result: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The ``keys`` of ``result`` it has; a ``failed`` or ``skipped`` flag that is false counts as absent."""
    return {key: result[key] for key in keys
            if key in result and not (key in ("failed", "skipped") and result[key] is False)}


def _oracle_results(report: dict[str, Any], host: str) -> list[tuple[str, dict[str, Any]]]:
    return [(task["task"]["name"], task["hosts"][host]) for play in report["plays"] for task in play["tasks"]
            if host in task["hosts"]]


@pytest.mark.oracle
def test_assert_and_fail_match_ansible(tmp_path):
    playbook = _write(tmp_path, CHECKS_PLAYBOOK)
    inventory = _local_inventory(tmp_path)
    code, report = ansible_report(playbook, inventory)
    result = titan_ops.run(playbook, inventory)

    assert result.exit_code == code == 2
    assert titan_stats(result) == {host: {key: stats[key] for key in titan_stats(result)[host]}
                                   for host, stats in report["stats"].items()}
    for host in ("localhost", "h2"):
        ours = result.host_results(host)
        theirs = _oracle_results(report, host)
        assert [r.task for r in ours] == [name for name, _ in theirs]
        for mine, (name, expected) in zip(ours, theirs):
            if name == "not a boolean":  # both fail; the wording differs
                assert mine.status is Status.FAILED and expected["failed"] is True
                assert "boolean" in mine.msg and "int" in mine.msg
                continue
            assert compared(mine.result, COMPARED_KEYS) == compared(expected, COMPARED_KEYS), (host, name)


def test_assert_result_fields(tmp_path):
    playbook = _write(tmp_path, CHECKS_PLAYBOOK)
    result = titan_ops.run(playbook, _local_inventory(tmp_path))
    by_name = {r.task: r for r in result.host_results("localhost")}
    assert by_name["one expression"].result == {"changed": False, "failed": False, "msg": "All assertions passed"}
    assert by_name["a list and a success message"].msg == "all 2 fine"
    second = by_name["the second of three fails"]
    assert second.status is Status.FAILED and second.ignored
    assert second.result["assertion"] == "limit == 4" and second.result["evaluated_to"] is False
    assert second.msg == "limit is 3"
    assert by_name["fail without a message"].msg == "Failed as requested from task"
    assert result.host_results("h2")[-1].msg == "h2 is out"


def test_assert_undefined_variable_names_it(tmp_path):
    playbook = _write(tmp_path, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - assert: {that: "missing_thing == 1"}
        """)
    result = titan_ops.run(playbook, _local_inventory(tmp_path))
    failure = result.host_results("localhost")[0]
    assert failure.status is Status.FAILED
    assert "missing_thing" in failure.msg and "play.yml" in failure.msg


def test_pause_waits_on_the_controller_and_also_in_check_mode(tmp_path):
    playbook = _write(tmp_path, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - pause: {seconds: 0.2}
        """)
    for check in (False, True):
        result = titan_ops.run(playbook, _local_inventory(tmp_path), check=check)
        pause = result.host_results("localhost")[0]
        assert pause.status is Status.OK
        assert pause.result["stdout"] == "Paused for 0.2 seconds"
        assert pause.result["user_input"] == "" and pause.result["rc"] == 0
        assert pause.duration >= 0.2


def test_pause_rejects_a_prompt_before_running(tmp_path):
    playbook = _write(tmp_path, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - pause: {prompt: "press enter"}
        """)
    try:
        titan_ops.run(playbook, _local_inventory(tmp_path))
    except titan_ops.TitanOpsError as error:
        assert "prompt" in str(error) and "play.yml" in str(error)
    else:
        raise AssertionError("a pause with a prompt was accepted")
