"""Bad inventories: a one-line InventoryError naming file and line, exit code 5, and Ansible refuses them too."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from titan_ops.commands import inventory as inventory_command
from titan_ops.errors import InventoryError
from titan_ops.inventory import load_inventory

from .inventory_cases import oracle

BAD = Path(__file__).parent / "inventory_cases" / "bad"

# source (under inventory_cases/bad), the file the error must name (same when None), its line, words of the message
CASES = [
    ("yaml_syntax.yml", None, 4, "YAML syntax error"),
    ("yaml_hosts_list.yml", None, 2, "'hosts' entry for group 'all'"),
    ("yaml_host_vars_list.yml", None, 3, "variables of host 'a'"),
    ("yaml_vars_list.yml", None, 2, "'vars' entry for group 'web'"),
    ("yaml_self_child.yml", None, 5, "child of itself"),
    ("yaml_cycle.yml", None, 6, "recursive dependency loop"),
    ("yaml_all_child.yml", None, 3, "recursive dependency loop"),
    ("yaml_bad_range.yml", None, 3, "web[1:x]"),
    ("yaml_group_name_int.yml", None, 3, "group name"),
    ("yaml_host_name_int.yml", None, 3, "must be a string"),
    ("ini_bad_section.ini", None, 3, "invalid section entry '[web app]'"),
    ("ini_unknown_type.ini", None, 3, "unknown type: foo"),
    ("ini_bad_range.ini", None, 2, "equal-length"),
    ("ini_range_letters.ini", None, 2, "begin <= end"),
    ("ini_range_no_end.ini", None, 3, "end value"),
    ("ini_unclosed_range.ini", None, 1, "no closing ']'"),
    ("ini_unclosed_quote.ini", None, 2, "No closing quotation"),
    ("ini_var_no_equals.ini", None, 2, "key=value"),
    ("ini_vars_no_equals.ini", None, 4, "key=value"),
    ("ini_undefined_child.ini", None, 2, "undefined group 'missing'"),
    ("ini_undefined_vars.ini", None, 1, "undefined group 'ghost'"),
    ("ini_cycle.ini", None, 4, "recursive dependency loop"),
    ("ini_self_child.ini", None, 2, "child of itself"),
    ("ini_all_child.ini", None, 2, "recursive dependency loop"),
    ("ini_trailing_colon.ini", None, 2, "'h1:'"),
    ("ini_priority.ini", None, 4, "ansible_group_priority"),
    ("ini_children_two_words.ini", None, 2, "group name"),
    ("noext_yaml_broken", None, 4, "YAML syntax error"),
    ("noext_ini_broken", None, 3, "unknown type: oops"),
    ("vars_broken", "vars_broken/group_vars/web.yml", 3, "YAML syntax error"),
    ("vars_list", "vars_list/group_vars/web.yml", 1, "mapping"),
    ("dir_with_bad_file", "dir_with_bad_file/02-bad.ini", 4, "undefined group 'nope'"),
]


def run_command(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    inventory_command.register(parser.add_subparsers())
    args = parser.parse_args(["inventory", *argv])
    return args.handler(args)


@pytest.fixture(scope="module")
def ansible_outcomes() -> dict[str, oracle.Outcome]:
    names = [case[0] for case in CASES]
    return dict(zip(names, oracle.run([["ansible-inventory", "-i", str(BAD / name), "--list"] for name in names])))


@pytest.mark.parametrize(("source", "named", "line", "words"), CASES)
def test_bad_inventory_names_file_and_line(source, named, line, words):
    with pytest.raises(InventoryError) as caught:
        load_inventory(BAD / source)
    error = caught.value
    assert error.location.file == str(BAD / (named or source))
    assert error.location.line == line
    assert words in str(error)
    assert f"{BAD / (named or source)}:{line}" in str(error) and "\n" not in str(error)


@pytest.mark.oracle
@pytest.mark.parametrize("source", [case[0] for case in CASES])
def test_ansible_refuses_the_same_inventory(source, ansible_outcomes):
    assert ansible_outcomes[source].rc != 0, ansible_outcomes[source].out


@pytest.mark.parametrize(("source", "named", "line", "words"), CASES[::4])
def test_cli_prints_one_error_line_and_exits_5(source, named, line, words, capsys):
    assert run_command("-i", str(BAD / source), "--list") == 5
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"ERROR! {load_error(BAD / source)}\n"
    assert f"{BAD / (named or source)}:{line}" in captured.err and "Traceback" not in captured.err


def load_error(source: Path) -> str:
    with pytest.raises(InventoryError) as caught:
        load_inventory(source)
    return str(caught.value)


def test_missing_source_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope.ini"
    with pytest.raises(InventoryError) as caught:
        load_inventory(missing)
    assert str(missing) in str(caught.value) and "not found" in str(caught.value)
    assert run_command("-i", str(missing), "--list") == 5


def test_inventory_plugin_configs_and_scripts_are_refused(tmp_path):
    plugin = tmp_path / "aws.yml"
    plugin.write_text("# dynamic\nplugin: amazon.aws.aws_ec2\n")
    with pytest.raises(InventoryError, match="inventory plugins are not supported") as caught:
        load_inventory(plugin)
    assert caught.value.location.line == 2
    script = tmp_path / "inventory.sh"
    script.write_text("#!/bin/sh\necho '{}'\n")
    os.chmod(script, 0o755)
    with pytest.raises(InventoryError, match="dynamic inventory scripts"):
        load_inventory(script)


@pytest.mark.parametrize("pattern", ["~(", "!", "web:&", "~a)"])
def test_bad_patterns_raise(pattern):
    inventory = load_inventory("web1,web2,")
    with pytest.raises(InventoryError):
        inventory.list_hosts(pattern)


def test_missing_limit_file_raises(tmp_path, capsys):
    inventory = load_inventory("web1,web2,")
    with pytest.raises(InventoryError, match="limit file"):
        inventory.list_hosts("all", f"@{tmp_path / 'nope.txt'}")
    assert run_command("-i", "web1,", "--list-hosts", "-l", f"@{tmp_path / 'nope.txt'}") == 5
    assert capsys.readouterr().err.startswith("ERROR! ")


@pytest.mark.parametrize("argv", [["--host", "nosuch"], ["--graph", "nosuch"], [], ["--list-hosts", "-l", "~("]])
def test_cli_option_errors_exit_5(argv, capsys):
    assert run_command("-i", "web1,web2,", *argv) == 5
    err = capsys.readouterr().err
    assert err.startswith("ERROR! ") and err.count("\n") == 1
