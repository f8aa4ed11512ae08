"""Ansible's filters and tests, and the ``ansible._protomatter`` plugins titan-ops gives a meaning to, as
ansible-core 2.19 has them.

Each value case is an expression and the value ansible-core gives it (a failure case: words of its
message); the fast tests evaluate them with titan-ops's templar, the oracle tests show that
ansible-core gives those very values and messages. The playbook cases are small playbooks on the local
connection whose own ``assert`` tasks state what ansible-core does.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

import titan_ops
from titan_ops.errors import PlaybookError, TemplateError
from titan_ops.templating import Templar
from titan_ops.trust import Authored, trusted
from tests.oracle import ORACLE_BIN, QUIET_ENV, titan_stats

INVENTORY = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
VARIABLES = {"fruits": [{"name": "apple", "enjoy": True}, {"name": "orange", "enjoy": False}],
             "container": {"key": {"subkey": "value"}}}

# expression: the value ansible-core gives it
VALUES: dict[str, Any] = {
    "fruits | groupby('enjoy') | ansible._protomatter.finalize":
        [[False, [{"name": "orange", "enjoy": False}]], [True, [{"name": "apple", "enjoy": True}]]],
    "(fruits | groupby('enjoy') | ansible._protomatter.finalize)[0] == [false, [fruits[1]]]": True,
    "{'a': (1, 2), 'b': omit} | ansible._protomatter.finalize == {'a': [1, 2]}": True,
    "'text' is ansible._protomatter.tagged_with('TrustedAsTemplate')": False,
}

# expression: words of the message of its failure in ansible-core
FAILURES: dict[str, str] = {
    "undefined_thing | ansible._protomatter.finalize": "'undefined_thing' is undefined",
    "1 is ansible._protomatter.tagged_with('NoSuchTag')": "Unknown tag name 'NoSuchTag'.",
}


def _evaluate(expression: str) -> Any:
    return Templar().evaluate(Authored(expression), trusted(VARIABLES))


@pytest.mark.parametrize("expression", list(VALUES))
def test_titan_ops_gives_ansibles_value(expression):
    assert json.loads(json.dumps(_evaluate(expression))) == VALUES[expression]


@pytest.mark.parametrize("expression", list(FAILURES))
def test_titan_ops_fails_as_ansible(expression):
    with pytest.raises(TemplateError, match=FAILURES[expression].replace("(", r"\(").replace(")", r"\)")):
        _evaluate(expression)


def _ansible_results(tmp_path: Path, expressions: list[str]) -> list[dict[str, Any]]:
    """ansible-playbook's result of ``debug: msg: "{{ expression }}"`` for each expression, in order."""
    tasks = [{"debug": {"msg": "{{ " + expression + " }}"}, "ignore_errors": True} for expression in expressions]
    playbook = tmp_path / "values.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": VARIABLES,
                                     "tasks": tasks}]))
    (tmp_path / "inventory").write_text(INVENTORY)
    done = subprocess.run([str(ORACLE_BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory"), str(playbook)],
                          capture_output=True, text=True, env={**os.environ, **QUIET_ENV, **_RECORDER}, timeout=300)
    assert '{"plays"' in done.stdout, done.stdout + done.stderr
    record = json.loads(done.stdout[done.stdout.index('{"plays"'):])
    return [task["hosts"]["localhost"] for task in record["plays"][0]["tasks"]]


_RECORDER = {"ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "oracle_callback"),
             "ANSIBLE_STDOUT_CALLBACK": "titan_record"}


@pytest.mark.oracle
def test_ansible_core_gives_those_values_and_failures(tmp_path):
    results = _ansible_results(tmp_path, [*VALUES, *FAILURES])
    values = {expression: result.get("msg") for expression, result in zip(VALUES, results) if not result.get("failed")}
    assert values == VALUES
    messages = dict(zip(FAILURES, [result["msg"] for result in results[len(VALUES):] if result.get("failed")]))
    assert [expression for expression, words in FAILURES.items() if words not in messages.get(expression, "")] == []


def _recap(ok: int, changed: int = 0, failures: int = 0, ignored: int = 0) -> dict[str, int]:
    return {"ok": ok, "changed": changed, "unreachable": 0, "failures": failures, "skipped": 0, "rescued": 0,
            "ignored": ignored}


# name: (tasks, expected recap of localhost)
CASES: dict[str, tuple[str, dict[str, int]]] = {
    "authored values are trusted as templates, set_fact's literal even once registered": ("""
        - set_fact: {literal: bar}
          register: kept
        - assert:
            that:
              - kept.ansible_facts.literal is ansible._protomatter.tagged_with('TrustedAsTemplate')
              - literal is ansible._protomatter.tagged_with('TrustedAsTemplate')
              - play_text is ansible._protomatter.tagged_with('TrustedAsTemplate')
        """, _recap(2)),
    "values from a host, a lookup, a rendered template and !unsafe are not": ("""
        - command: echo from-the-host
          register: printed
          changed_when: false
        - set_fact:
            rendered: "{{ play_text }} and more"
            looked_up: "{{ lookup('list', play_list) }}"
        - assert:
            that:
              - printed.stdout is not ansible._protomatter.tagged_with('TrustedAsTemplate')
              - rendered is not ansible._protomatter.tagged_with('TrustedAsTemplate')
              - looked_up is not ansible._protomatter.tagged_with('TrustedAsTemplate')
              - unsafe_text is not ansible._protomatter.tagged_with('TrustedAsTemplate')
        """, _recap(3)),
}
PLAY_VARS = "    play_text: plain\n    play_list: [one]\n    unsafe_text: !unsafe '{{ not_rendered }}'\n"


def _playbook(tmp_path: Path, tasks: str) -> Path:
    path = tmp_path / "case.yml"
    path.write_text("- hosts: localhost\n  gather_facts: false\n  vars:\n" + PLAY_VARS + "  tasks:\n"
                    + textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ") + "\n")
    (tmp_path / "inventory").write_text(INVENTORY)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_titan_ops_gives_ansibles_outcome(tmp_path, name):
    tasks, expected = CASES[name]
    result = titan_ops.run(_playbook(tmp_path, tasks), tmp_path / "inventory")
    failures = [(r.task, r.msg) for r in result.host_results("localhost") if r.failed and not r.ignored]
    assert titan_stats(result)["localhost"] == expected, failures


@pytest.mark.oracle
@pytest.mark.parametrize("name", list(CASES))
def test_ansible_core_gives_the_expected_outcome(tmp_path, name):
    tasks, expected = CASES[name]
    done = subprocess.run([str(ORACLE_BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory"),
                           str(_playbook(tmp_path, tasks))],
                          capture_output=True, text=True, env={**os.environ, **QUIET_ENV, **_RECORDER}, timeout=120)
    assert '{"plays"' in done.stdout, done.stdout + done.stderr
    record = json.loads(done.stdout[done.stdout.index('{"plays"'):])
    assert {key: record["stats"]["localhost"][key] for key in expected} == expected, done.stdout[-3000:]


@pytest.mark.parametrize("plugin", ["ansible._protomatter.origin", "ansible._protomatter.dump_object",
                                    "ansible._protomatter.apply_trust"])
def test_other_protomatter_plugins_are_refused_by_name_at_validation(tmp_path, plugin):
    with pytest.raises(PlaybookError, match=f"No filter named '{plugin}'"):
        titan_ops.run(_playbook(tmp_path, f'- debug: {{msg: "{{{{ play_text | {plugin} }}}}"}}'),
                      tmp_path / "inventory")
