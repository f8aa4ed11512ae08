"""Bad input (issue 12 §5): one located error line, exit code 5, before any host is touched.

Each case runs the real ``titan-ops`` command in a process of its own (tests/forked_cli.py: a hang is a
failure, not a stuck suite) and asserts: exit code 5, exactly one line on stderr naming ``file:line:column`` (or the option),
no traceback, and no marker file from the task that would have run first.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest

from tests.forked_cli import Finished, run_cli

REPO = Path(__file__).resolve().parent.parent
DEADLINE = 60
"""Seconds a bad input may take to be refused before the test calls it a hang."""

INVENTORY = "all:\n  hosts:\n    h1: {ansible_connection: local}\n"


def titan_ops(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Finished:
    return run_cli(args, cwd=cwd, env={**os.environ, **(env or {})}, timeout=DEADLINE)


def assert_located(done: Finished, where: str) -> str:
    """Exit 5 and exactly one ``ERROR! <where>...`` line on stderr (``where``: a regex); the line."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert re.match(rf"ERROR! {where}", lines[0]), lines[0]
    assert done.returncode == 5, (done.returncode, done.stderr)
    return lines[0]


def playbook(tmp_path: Path, play_keys: str = "", tasks: str = "", name: str = "playbook.yml") -> Path:
    """A play whose first task touches ``marker``, with ``play_keys`` and further ``tasks`` (YAML, dedented)."""
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    keys = textwrap.indent(textwrap.dedent(play_keys), "  ")
    more = textwrap.indent(textwrap.dedent(tasks), "    ")
    path = tmp_path / name
    path.write_text(f"- hosts: all\n  gather_facts: false\n{keys}  tasks:\n"
                    f"    - command: touch {tmp_path / 'marker'}\n{more}")
    return path


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Finished:
    return titan_ops("run", "-i", "inventory.yml", *args, cwd=tmp_path, env=env)


def untouched(tmp_path: Path) -> bool:
    return not (tmp_path / "marker").exists()


# -- play keywords and files the play names ------------------------------------------------------

def test_serial_that_is_no_number(tmp_path):
    playbook(tmp_path, "serial: abc\n")
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:3:3: 'serial'")
    assert untouched(tmp_path)


def test_max_fail_percentage_with_an_unclosed_template(tmp_path):
    playbook(tmp_path, "max_fail_percentage: '{{ x'\n")
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:3:3: 'max_fail_percentage'")
    assert untouched(tmp_path)


def test_missing_vars_file_of_a_later_play(tmp_path):
    path = playbook(tmp_path)
    path.write_text(path.read_text() + "- hosts: all\n  vars_files: [missing.yml]\n  tasks: []\n")
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:6:3: 'vars_files': vars file not found")
    assert untouched(tmp_path)


# -- text that is not UTF-8 ------------------------------------------------------------------------

def test_playbook_that_is_not_utf8(tmp_path):
    path = playbook(tmp_path, tasks="- debug: msg=caf\xe9\n")
    path.write_bytes(path.read_bytes().replace("caf\xe9".encode(), b"caf\xe9"))
    line = assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:5:21: ")
    assert "UTF-8" in line
    assert untouched(tmp_path)


def test_binary_playbook(tmp_path):
    playbook(tmp_path)
    (tmp_path / "binary.yml").write_bytes(bytes(range(256)) * 4)
    assert_located(run(tmp_path, "binary.yml"), r"binary\.yml:\d+:\d+: ")


def test_inventory_that_is_not_utf8(tmp_path):
    playbook(tmp_path)
    (tmp_path / "inventory.yml").write_bytes(b"all:\n  hosts:\n    h\xff1: {ansible_connection: local}\n")
    assert_located(run(tmp_path, "playbook.yml"), r"inventory\.yml:3:6: ")
    assert untouched(tmp_path)


def test_binary_inventory(tmp_path):
    playbook(tmp_path)
    (tmp_path / "inventory.yml").write_bytes(bytes(range(256)) * 4)
    assert_located(run(tmp_path, "playbook.yml"), r"inventory\.yml:\d+:\d+: ")
    assert untouched(tmp_path)


def test_extra_vars_file_that_is_not_utf8(tmp_path):
    playbook(tmp_path)
    (tmp_path / "vars.yml").write_bytes(b"a: 1\nb: \"\xfe\"\n")
    assert_located(run(tmp_path, "-e", "@vars.yml", "playbook.yml"), r"vars\.yml:2:5: ")
    assert untouched(tmp_path)


@pytest.mark.parametrize("where", ["playbook.yml", "inventory.yml", "vars.yml"])
def test_a_control_character_yaml_refuses_is_located(where, tmp_path):
    playbook(tmp_path)
    (tmp_path / "vars.yml").write_text("a: 1\nb: 2\n")
    path = tmp_path / where
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace(":", ":\x00", 1)
    path.write_text("".join(lines))
    assert_located(run(tmp_path, "-e", "@vars.yml", "playbook.yml"), rf"{where.replace('.', '[.]')}:2:\d+: .*#x0000")
    assert untouched(tmp_path)


def test_an_inventory_fault_after_a_byte_order_mark_libyaml_reads_is_located(tmp_path):
    # libyaml reads a byte order mark within an indentation; PyYAML's pure-Python composer does not (fuzzer find)
    playbook(tmp_path)
    (tmp_path / "inventory.yml").write_text("all:\n  children:\n    g:\n\ufeff      hosts:\n"
                                            "        h1: {ansible_connection: local}\n  vars: 5\n")
    assert_located(run(tmp_path, "playbook.yml"), r"inventory\.yml:6:3: invalid 'vars' entry")
    assert untouched(tmp_path)


# -- structures past a bound -------------------------------------------------------------------------

def test_400_nested_blocks(tmp_path):
    nested = "".join("    " * depth + "- block:\n" for depth in range(400)) + "    " * 400 + "- debug: msg=deep\n"
    playbook(tmp_path, tasks=nested)
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:\d+:\d+: ")
    assert untouched(tmp_path)


@pytest.mark.parametrize("depth", [150, 5000])
def test_json_inventory_nested_past_the_bound(depth, tmp_path):
    playbook(tmp_path)
    (tmp_path / "inventory.json").write_text('{"all": {"hosts": {"h1": {"ansible_connection": "local"}}, '
                                             f'"vars": {{"x": {"[" * depth}{"]" * depth}}}}}}}')
    assert_located(titan_ops("run", "-i", "inventory.json", "playbook.yml", cwd=tmp_path),
                   r"inventory\.json:1:\d+: nested more than 100 levels")
    assert untouched(tmp_path)


ALIAS_BOMB = "".join(
    [f"  a0: &a0 [{', '.join(['lol'] * 9)}]\n"]
    + [f"  a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)])


def test_yaml_alias_bomb_in_a_playbook(tmp_path):
    playbook(tmp_path, "vars:\n" + textwrap.indent(ALIAS_BOMB, "  "))
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:\d+:\d+: .*alias")
    assert untouched(tmp_path)


def test_yaml_alias_bomb_in_an_inventory(tmp_path):
    playbook(tmp_path)
    (tmp_path / "inventory.yml").write_text(INVENTORY + "  vars:\n" + textwrap.indent(ALIAS_BOMB, "  "))
    assert_located(run(tmp_path, "playbook.yml"), r"inventory\.yml:\d+:\d+: .*alias")
    assert untouched(tmp_path)


def test_yaml_alias_bomb_in_extra_vars(tmp_path):
    playbook(tmp_path)
    (tmp_path / "vars.yml").write_text(textwrap.dedent(ALIAS_BOMB))
    assert_located(run(tmp_path, "-e", "@vars.yml", "playbook.yml"), r"vars\.yml:\d+:\d+: .*alias")
    assert untouched(tmp_path)


def test_host_range_of_a_hundred_million_hosts(tmp_path):
    playbook(tmp_path)
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    web[1:100000000]: {ansible_connection: local}\n")
    assert_located(run(tmp_path, "playbook.yml"), r"inventory\.yml:3:\d+: .*web\[1:100000000\]")
    assert untouched(tmp_path)


# -- templates past the sandbox's limits ---------------------------------------------------------------

def test_range_of_a_trillion_items(tmp_path):
    playbook(tmp_path, tasks="- debug: msg=\"{{ range(10**12) | list }}\"\n")
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:5:7: 'msg': a range of")
    assert untouched(tmp_path)


def test_power_of_a_hundred_million_digits(tmp_path):
    playbook(tmp_path, tasks="- debug: msg=\"{{ 10 ** 100000000 }}\"\n")
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:5:7: 'msg': 10 \*\* 100000000")
    assert untouched(tmp_path)


CATASTROPHIC = "{{ '%s!' | regex_search('(a|aa)+c') }}" % ("a" * 64)
"""Exponential backtracking: without a deadline, longer than the age of the universe."""


def test_catastrophic_regex_in_a_task(tmp_path):
    playbook(tmp_path, tasks=f"- debug:\n    msg: \"{CATASTROPHIC}\"\n")
    line = assert_located(run(tmp_path, "playbook.yml", env={"TITAN_OPS_TEMPLATE_TIMEOUT": "0.3"}),
                          r"playbook\.yml:6:\d+: 'msg': ")
    assert "deadline" in line
    assert untouched(tmp_path)


def test_catastrophic_regex_in_a_play_keyword(tmp_path):
    playbook(tmp_path, f"serial: \"{CATASTROPHIC}\"\n")
    line = assert_located(run(tmp_path, "playbook.yml", env={"TITAN_OPS_TEMPLATE_TIMEOUT": "0.3"}),
                          r"playbook\.yml:3:3: 'serial': ")
    assert "deadline" in line
    assert untouched(tmp_path)


# -- names that lead nowhere ------------------------------------------------------------------------------

def test_notify_of_a_handler_that_does_not_exist(tmp_path):
    playbook(tmp_path, tasks="- debug: msg=hi\n  notify: no such handler\n")
    assert_located(run(tmp_path, "playbook.yml"), r"playbook\.yml:5:7: 'notify': the handler 'no such handler'")
    assert untouched(tmp_path)


def test_a_reserved_argument_name_even_in_a_task_that_ignores_its_errors(tmp_path):
    playbook(tmp_path, tasks="- set_fact: {_ansible_foo: bar}\n  ignore_errors: true\n")
    assert_located(run(tmp_path, "playbook.yml"),
                   r"playbook\.yml:5:18: '_ansible_foo': the prefix '_ansible_' is reserved for internal use")
    assert untouched(tmp_path)


def test_limit_with_an_unclosed_bracket(tmp_path):
    playbook(tmp_path)
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    lab[1:4]: {ansible_connection: local}\n")
    assert_located(run(tmp_path, "-l", "lab[1", "playbook.yml"), r"'--limit': malformed host pattern 'lab\[1'")
    assert untouched(tmp_path)


def test_runbook_against_an_inventory_without_its_titan_variables(tmp_path):
    (tmp_path / "inventory.yml").write_text(textwrap.dedent("""\
        all:
          vars: {ansible_connection: local}
          children:
            db: {hosts: {db1: {}}}
        """))
    line = assert_located(titan_ops("run", "-i", "inventory.yml", str(REPO / "playbooks/db-check.yml"),
                                    cwd=tmp_path), r".*playbooks/db-check\.yml:\d+:\d+: ")
    assert re.search(r"'titan_\w+'", line) and "inventory.yml" in line, line


def test_titan_variables_with_a_fallback_or_set_by_the_playbook_are_not_asked_of_the_inventory(tmp_path):
    path = playbook(tmp_path, tasks="""\
        - set_fact: {titan_late: 1}
        - debug: msg="{{ titan_early | default(0) }} {{ titan_late }} {{ titan_checked }}"
          when: titan_checked is defined
        - debug: msg="{{ titan_unknown | no_such_filter }}"
          ignore_errors: true
        """)
    path.write_text(path.read_text() + "- hosts: all\n  tasks: [{debug: {msg: '{{ titan_late }}'}}]\n")
    done = run(tmp_path, "playbook.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not untouched(tmp_path)


def test_every_runbook_finds_its_titan_variables_in_the_example_inventory():
    from titan_ops import load_inventory, load_playbook
    from titan_ops.engine.included import IncludedFiles
    from titan_ops.engine.plan import inventory_needs
    from titan_ops.templating import Templar

    inventory = load_inventory([str(REPO / "inventory/production")])
    for path in sorted((REPO / "playbooks").glob("*.yml")):
        loaded, templar = load_playbook(str(path)), Templar()
        for play, needs in zip(loaded.plays, inventory_needs(loaded.plays, templar,
                                                             IncludedFiles(loaded, templar).tasks)):
            for host in inventory.list_hosts(play.hosts):
                missing = [need.name for need in needs if need.name not in inventory.host_vars(host)]
                assert not missing, (path.name, host, missing)


# -- records of earlier runs and incidents -------------------------------------------------------------------

@pytest.mark.parametrize("shape", [
    {"plays": 3},
    [1, 2],
    {"plays": [{"name": "p", "hosts": [], "tasks": {"h1": [{"module": "triage", "result": "not a mapping"}]}}]},
    {"plays": [{"name": "p", "hosts": [], "tasks": ["not", "a", "mapping"]}]},
])
def test_triage_of_a_json_file_of_the_wrong_shape(shape, tmp_path):
    (tmp_path / "run.json").write_text(json.dumps(shape, indent=2))
    assert_located(titan_ops("triage", "--from-json", "run.json", cwd=tmp_path), r"run\.json:\d+:\d+: ")


def test_the_run_result_schema_names_every_field_triage_reads():
    """The schema closes the triage task's facts, policy and baseline: each must list the fields of its class."""
    from dataclasses import fields

    from titan_ops.triage import Baseline, HealthFacts, TriagePolicy

    schema = json.loads((REPO / "titan_ops/schemas/run-result.json").read_text())["$defs"]
    for kind, properties in ((HealthFacts, schema["facts"]["properties"]),
                             (TriagePolicy, schema["triage"]["properties"]["policy"]["properties"]),
                             (Baseline, schema["triage"]["properties"]["baseline"]["properties"])):
        assert set(properties) == {field.name for field in fields(kind)}, kind.__name__


def test_incident_timeline_with_a_cut_line(tmp_path):
    incidents = tmp_path / "incidents"
    assert titan_ops("incident", "open", "--dir", str(incidents), "--id", "INC-1", "a test incident",
                     cwd=tmp_path).returncode == 0
    for text in ("first note", "second note", "third note"):
        assert titan_ops("incident", "note", "--dir", str(incidents), "INC-1", text, cwd=tmp_path).returncode == 0
    timeline = incidents / "INC-1" / "timeline.jsonl"
    lines = timeline.read_text().splitlines()
    lines[2] = lines[2][:40]
    timeline.write_text("\n".join(lines) + "\n")
    done = titan_ops("incident", "report", "--dir", str(incidents), "INC-1", cwd=tmp_path)
    assert_located(done, r".*INC-1/timeline\.jsonl:3:\d+: a damaged line")
    assert "first note" in done.stdout and "third note" in done.stdout


def test_an_entry_appended_after_a_cut_last_line_starts_a_line_of_its_own(tmp_path):
    incidents = tmp_path / "incidents"
    assert titan_ops("incident", "open", "--dir", str(incidents), "--id", "INC-1", "a test incident",
                     cwd=tmp_path).returncode == 0
    timeline = incidents / "INC-1" / "timeline.jsonl"
    timeline.write_bytes(timeline.read_bytes() + b'{"kind": "note", "text": "cut sho')
    assert titan_ops("incident", "note", "--dir", str(incidents), "INC-1", "after the cut",
                     cwd=tmp_path).returncode == 5
    done = titan_ops("incident", "report", "--dir", str(incidents), "INC-1", cwd=tmp_path)
    assert_located(done, r".*INC-1/timeline\.jsonl:2:\d+: a damaged line")
    assert "after the cut" in done.stdout
