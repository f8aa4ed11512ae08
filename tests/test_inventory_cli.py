"""``titan-ops inventory``: the same text ansible-inventory prints, and ``--list-hosts``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from titan_ops.commands import inventory as inventory_command

from .inventory_cases import oracle

CASES_DIR = Path(__file__).parent / "inventory_cases"
SOURCES = {
    "yaml": [str(CASES_DIR / "yaml_basic" / "inventory.yml")],
    "dir": [str(CASES_DIR / "precedence")],
    "two": [str(CASES_DIR / "ini_hosts" / "hosts"), str(CASES_DIR / "yaml_json" / "inventory.json")],
}
VIEWS = {
    "list": ["--list"],
    "host": ["--host", "h1"],
    "host_web": ["--host", "web1.example.com"],
    "graph": ["--graph"],
    "graph_vars": ["--graph", "--vars"],
    "graph_group": ["--graph", "deep"],
    "yaml_list": ["--list", "-y"],
    "yaml_host": ["--host", "h2", "--yaml"],
    "limited_list": ["--list", "--limit", "web:db"],
}
COMPARED = [("yaml", "list"), ("yaml", "host_web"), ("yaml", "graph_vars"), ("yaml", "yaml_list"),
            ("yaml", "limited_list"), ("dir", "list"), ("dir", "host"), ("dir", "graph"), ("dir", "graph_group"),
            ("dir", "yaml_host"), ("two", "list"), ("two", "graph_vars"), ("two", "limited_list")]


def run_command(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    inventory_command.register(parser.add_subparsers())
    args = parser.parse_args(["inventory", *argv])
    code = args.handler(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def inventory_args(name: str) -> list[str]:
    return [word for source in SOURCES[name] for word in ("-i", source)]


@pytest.fixture(scope="module")
def ansible_outputs() -> dict[tuple[str, str], oracle.Outcome]:
    commands = [["ansible-inventory", *inventory_args(name), *VIEWS[view]] for name, view in COMPARED]
    commands += [["ansible", *inventory_args("two"), "all", "--list-hosts", "--limit", "prod:&db:!node*"]]
    return dict(zip([*COMPARED, ("two", "list_hosts")], oracle.run(commands)))


@pytest.mark.oracle
@pytest.mark.parametrize(("name", "view"), COMPARED)
def test_prints_what_ansible_inventory_prints(name, view, ansible_outputs, capsys):
    code, out, err = run_command(capsys, *inventory_args(name), *VIEWS[view])
    theirs = ansible_outputs[name, view]
    assert (code, err) == (0, "")
    if "-y" in VIEWS[view] or "--yaml" in VIEWS[view]:
        assert yaml.safe_load(out) == yaml.safe_load(theirs.out)
    else:
        assert out == theirs.out


@pytest.mark.oracle
def test_list_hosts_prints_names_one_a_line_in_ansible_order(ansible_outputs, capsys):
    code, out, _ = run_command(capsys, *inventory_args("two"), "--list-hosts", "-l", "prod:&db:!node*")
    assert code == 0
    assert out.splitlines() == oracle.listed_hosts(ansible_outputs["two", "list_hosts"])
    code, out, _ = run_command(capsys, *inventory_args("two"), "--list-hosts")
    assert out.splitlines()[:3] == ["lonely", "bastion.example.com", "10.0.0.5"]


def test_list_hosts_with_a_limit_file(tmp_path, capsys):
    limit = tmp_path / "limit.txt"
    limit.write_text("web2\n\nweb3\n")
    code, out, _ = run_command(capsys, "-i", "web1,web2,web3,", "--list-hosts", "--limit", f"@{limit}")
    assert (code, out) == (0, "web2\nweb3\n")


def test_without_inventory_only_the_implicit_localhost(capsys):
    code, out, _ = run_command(capsys, "--list")
    assert code == 0
    assert out == ('{\n    "_meta": {\n        "hostvars": {},\n        "profile": "inventory_legacy"\n    },\n'
                   '    "all": {\n        "children": [\n            "ungrouped"\n        ]\n    }\n}\n')
    code, out, _ = run_command(capsys, "--host", "localhost")
    assert code == 0 and '"ansible_connection": "local"' in out


def test_warnings_go_to_stderr(tmp_path, capsys):
    source = tmp_path / "inv.yml"
    source.write_text("web:\n  hosts: {w1: }\n  hostz: {w2: }\nbroken: [1]\n")
    code, out, err = run_command(capsys, "-i", str(source), "--list-hosts")
    assert (code, out) == (0, "w1\n")
    assert "[WARNING]: Skipping unexpected key 'hostz' in group 'web'" in err
    assert "[WARNING]: Skipping 'broken'" in err


def test_list_hosts_prints_nothing_when_nothing_matches(capsys):
    assert run_command(capsys, "-i", "web1,", "--list-hosts", "-l", "nosuch") == (0, "", "")
