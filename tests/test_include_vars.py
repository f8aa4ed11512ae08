"""``include_vars``: files and folders of variables, their search path and their precedence; on the local
connection and against ansible-core."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import titan_ops
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report

PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars: {a: play}
  tasks:
    - {name: a file under vars/, include_vars: one.yml}
    - {name: over play vars, debug: {msg: "{{ a }} {{ b }}"}}
    - {name: under a name, include_vars: {file: one.yml, name: bag}}
    - {name: show bag, debug: {var: bag}}
    - {name: a folder, include_vars: {dir: vd}}
    - {name: a folder one level, include_vars: {dir: vd, depth: 1, name: flat}}
    - {name: show flat, debug: {var: flat}}
    - {name: matching, include_vars: {dir: vd, files_matching: "^x", name: matched}}
    - {name: show matched, debug: {var: matched}}
    - {name: missing, include_vars: nope.yml, ignore_errors: true}
    - {name: set_fact, set_fact: {a: fact}}
    - {name: again, include_vars: one.yml}
    - {name: set_fact wins, debug: {msg: "{{ a }} {{ c }} {{ f }}"}}
"""


def _project(folder: Path) -> tuple[Path, Path]:
    (folder / "vars").mkdir()
    (folder / "vars" / "one.yml").write_text('a: 1\nb: "{{ a }}"\n')
    (folder / "vd" / "sub").mkdir(parents=True)
    (folder / "vd" / "x.yml").write_text("c: 3\n")
    (folder / "vd" / "y.json").write_text('{"d": 4}\n')
    (folder / "vd" / "sub" / "w.yml").write_text("f: 6\n")
    playbook = folder / "play.yml"
    playbook.write_text(PLAYBOOK)
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"h1": {
        "ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}}}}))
    return playbook, inventory


def _compared(result: dict) -> dict:
    return {key: value for key, value in result.items()
            if key in ("msg", "bag", "flat", "matched", "ansible_facts", "failed") and value is not False}


def test_include_vars_loads_files_and_folders_below_set_fact(tmp_path):
    playbook, inventory = _project(tmp_path)
    result = titan_ops.run(playbook, inventory)
    by_name = {r.task: r for r in result.host_results("h1")}
    assert by_name["over play vars"].msg == "1 1"
    assert by_name["a file under vars/"].result["ansible_included_var_files"] == [str(tmp_path / "vars" / "one.yml")]
    assert by_name["show bag"].result["bag"] == {"a": 1, "b": 1}
    assert by_name["a folder"].result["ansible_included_var_files"] == [
        str(tmp_path / "vd" / "x.yml"), str(tmp_path / "vd" / "y.json"), str(tmp_path / "vd" / "sub" / "w.yml")]
    assert by_name["show flat"].result["flat"] == {"c": 3, "d": 4}
    assert by_name["show matched"].result["matched"] == {"c": 3}
    assert by_name["missing"].failed and "nope.yml" in by_name["missing"].msg
    assert by_name["set_fact wins"].msg == "fact 3 6"


@pytest.mark.oracle
def test_include_vars_matches_ansible(tmp_path):
    playbook, inventory = _project(tmp_path)
    code, report = ansible_report(playbook, inventory)
    result = titan_ops.run(playbook, inventory)
    theirs = [(task["task"]["name"], task["hosts"]["h1"]) for task in report["plays"][0]["tasks"]]
    ours = result.host_results("h1")
    assert [r.task for r in ours] == [name for name, _ in theirs]
    for mine, (name, expected) in zip(ours, theirs):
        if name == "missing":  # both fail; the wording differs
            assert mine.failed and expected["failed"]
            continue
        assert _compared(mine.result) == _compared(expected), name
    assert result.exit_code == code
