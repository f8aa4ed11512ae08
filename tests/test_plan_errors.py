"""The plan stage: a play keyword, vars file, host pattern or limit that is wrong is one located error
line and exit code 5 (1 for a limit that matches nothing, as ansible) before any host is touched."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from titan_ops.cli import main

INVENTORY = """
all:
  hosts:
    h1: {ansible_connection: local}
    h2: {ansible_connection: local}
  children:
    web: {hosts: {h1: null}}
"""

FIRST_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: touch the marker
      command: touch {marker}
"""


def _run(tmp_path: Path, second_play: str, *options: str, files: dict[str, str] | None = None) -> tuple[int, str]:
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(FIRST_PLAY.format(marker=tmp_path / "marker") + textwrap.dedent(second_play))
    return main(["run", "-i", str(tmp_path / "inventory.yml"), str(playbook), *options]), str(playbook)


BAD_PLAYS = {
    "serial_word": ("serial: abc", r":9:3: 'serial': a batch size must be a number or a percentage, got 'abc'"),
    "serial_template_word": ("serial: \"{{ 'abc' }}\"", r":9:3: 'serial': a batch size must be a number"),
    "serial_template_error": ("serial: \"{{ batch | int + }}\"", r":9:3: 'serial': .*syntax error"),
    "max_fail_unclosed_template": ("max_fail_percentage: '{{ x'", r":9:3: 'max_fail_percentage': .*syntax error"),
    "max_fail_too_big": ("max_fail_percentage: \"{{ 150 }}\"",
                         r":9:3: 'max_fail_percentage': must be a number from 0 to 100, got 150"),
    "max_fail_undefined": ("max_fail_percentage: \"{{ nope }}\"", r":9:3: 'max_fail_percentage': .*'nope' is undefined"),
    "strategy_unsupported": ("strategy: \"{{ 'debug' }}\"",
                             r":9:3: 'strategy': the strategy 'debug' is not supported by titan-ops"),
    "gather_facts_not_boolean": ("gather_facts: \"{{ 'maybe' }}\"", r":9:3: 'gather_facts': must be a boolean"),
    "tags_undefined": ("tags: \"{{ nope }}\"", r":9:3: 'tags': .*'nope' is undefined"),
    "missing_vars_file": ("vars_files: [vars/missing.yml]",
                          r":9:3: 'vars_files': vars file not found: .*vars/missing.yml"),
    "no_alternative_found": ("vars_files: [[vars/a.yml, \"vars/{{ inventory_hostname }}.yml\"]]",
                             r":9:3: 'vars_files': none of these vars files exists: .*vars/a.yml, .*vars/h2.yml "
                             r"\(for host h2\)"),
    "vars_file_undefined_name": ("vars_files: [\"vars/{{ nope }}.yml\"]",
                                 r":9:3: 'vars_files': the file name 'vars/\{\{ nope \}\}.yml' for host h1: .*'nope'"),
}


@pytest.mark.parametrize("name", BAD_PLAYS)
def test_bad_play_keyword_is_located_before_any_host_is_touched(name, tmp_path, capsys):
    keyword, message = BAD_PLAYS[name]
    facts = "" if keyword.startswith("gather_facts") else "gather_facts: false"
    second = f"""
    - hosts: all
      {keyword}
      {facts}
      tasks:
        - debug: msg=never
    """
    rc, playbook = _run(tmp_path, second, files={"vars/h1.yml": "x: 1\n"})
    err = capsys.readouterr().err
    assert rc == 5
    assert re.fullmatch(rf"ERROR! {re.escape(playbook)}{message}.*\n", err), err
    assert not (tmp_path / "marker").exists()


def test_bad_hosts_pattern_is_located(tmp_path, capsys):
    rc, playbook = _run(tmp_path, "- hosts: web[0\n  tasks: []\n")
    assert rc == 5
    assert capsys.readouterr().err == (f"ERROR! {playbook}:7:3: 'hosts': malformed host pattern 'web[0': "
                                       "unbalanced '[' or ']'\n")
    assert not (tmp_path / "marker").exists()


def test_hosts_with_an_undefined_variable_is_located(tmp_path, capsys):
    rc, playbook = _run(tmp_path, "- hosts: \"{{ target }}\"\n  tasks: []\n")
    assert rc == 5
    assert capsys.readouterr().err.startswith(f"ERROR! {playbook}:7:3: 'hosts': undefined variable: 'target'")


@pytest.mark.parametrize("limit", ["h[1", "h1]", "web[0:1"])
def test_a_limit_with_an_unclosed_bracket_is_an_error(limit, tmp_path, capsys):
    rc, _ = _run(tmp_path, "", "--limit", limit)
    assert rc == 5
    assert capsys.readouterr().err == f"ERROR! '--limit': malformed host pattern '{limit}': unbalanced '[' or ']'\n"
    assert not (tmp_path / "marker").exists()


def test_a_limit_that_matches_no_host_exits_1(tmp_path, capsys):
    rc, _ = _run(tmp_path, "", "--limit", "nosuchhost")
    assert rc == 1
    assert capsys.readouterr().err == ("ERROR! '--limit': no host of the inventory matches 'nosuchhost': "
                                       "no hosts to target\n")
    assert not (tmp_path / "marker").exists()


def test_a_limit_that_leaves_a_play_without_hosts_is_not_an_error(tmp_path, capsys):
    rc, _ = _run(tmp_path, "- hosts: web\n  tasks: [{debug: {msg: web}}]\n", "--limit", "h2")
    assert rc == 0
    assert (tmp_path / "marker").exists()
