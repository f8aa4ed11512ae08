"""Differential tests: titan-ops' inventory against ansible-core on the fixture inventories.

For every case: ``to_list_json()`` against ``ansible-inventory --list``
(whole-dict equality), ``host_vars`` against ``--host`` and ``_meta``,
``graph`` against ``--graph --vars``, the YAML listing against ``--list
--yaml``, and ``list_hosts`` against ``ansible PATTERN --list-hosts`` for a
long list of patterns and limits.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from titan_ops.inventory import Inventory, load_inventory
from titan_ops.inventory.values import to_json

from .inventory_cases import oracle

pytestmark = pytest.mark.oracle

CASES_DIR = Path(__file__).parent / "inventory_cases"
LIMIT_FILE = CASES_DIR / "limits" / "hosts.txt"

CASES: dict[str, list[str]] = {
    "ini_hosts": ["ini_hosts/hosts"],
    "ini_typing": ["ini_typing/typing.ini"],
    "yaml_basic": ["yaml_basic/inventory.yml"],
    "yaml_json": ["yaml_json/inventory.json"],
    "yaml_noext": ["yaml_noext/hosts"],
    "precedence_dir": ["precedence"],
    "precedence_file": ["precedence/inventory.ini"],
    "mixed_dir": ["mixed_dir"],
    "multi_source": ["multi_source/a/inv.ini", "multi_source/b/inv.yml"],
    "multi_source_reversed": ["multi_source/b/inv.yml", "multi_source/a/inv.ini"],
    "multi_source_repeated": ["multi_source/a/inv.ini", "multi_source/b/inv.yml", "multi_source/a/inv.ini"],
    "yaml_and_ini_files": ["yaml_basic/inventory.yml", "ini_hosts/hosts"],
    "ungrouped_cases": ["ungrouped_cases/inv.yml"],
    "deep_tree": ["deep_tree/inv.ini"],
    "pending_ini": ["pending_ini/inv.ini"],
    "patterns": ["patterns/inv.ini"],
    "localhost_explicit": ["localhost_explicit/inv.yml"],
    "host_list": ["alpha,beta:2222,[fe80::9]:22, gamma ,"],
}

FULL_CASES = ("patterns", "ini_hosts", "yaml_basic")
"""Cases checked against every pattern and limit below; the others against CORE_PATTERNS and their names."""
CORE_PATTERNS = ["all", "*", "ungrouped", "all:!ungrouped", "localhost", "nosuch", "~.*1", "*[0]"]
GENERIC_PATTERNS = [
    "all", "*", "ungrouped", "all:!ungrouped", "web", "db", "web:db", "web,db", "db:web", "web , db", "web::db",
    "web:&db", "web:!db", "!db", "&db", "!db:web", "&db:web", "web:&prod:!db", "prod:&stage", "web:db:!web*",
    "web[0]", "web[-1]", "web[1]", "web[1:]", "web[0:2]", "web[1-2]", "web[10]", "web[-10]", "web[2:1]",
    "db[0:1]:&web", "web[0],db[-1]", "all[0]", "all[-1]", "all[1:3]", "ungrouped[0]",
    "web*", "*.example.com", "w?b*", "[wd]*", "web0[1-3]*", "*[!0-9]", "~web", "~^db", "~.*example", "~eb",
    "nosuch", "nosuch:web", "web:!nosuch", "!nosuch", "all:&nosuch", "WEB", "Web",
    "localhost", "127.0.0.1", "::1", "localhost:web", "all:localhost", "localhost:&all", "local*",
    "fe80::1", "10.0.0.5", "10.0.0.*", "web:22", "", ":",
]
"""(``db[1``, which ansible reads as ``db`` and ``1``, is refused by titan-ops: test_inventory_units.)"""
MAGIC_CASES = ("ini_hosts", "yaml_basic", "precedence_dir", "ungrouped_cases")
"""Cases whose group_names and groups variables are compared (through ``ansible -m debug``)."""
LIMITS = [("all", "web"), ("all", "web[0:1]:db"), ("web", "!db"), ("all", f"@{LIMIT_FILE}"),
          ("db", "web:&db"), ("all", "nosuch"), ("all", f"db*,@{LIMIT_FILE}"), ("*", "~.*[13]")]


def sources(case: str) -> list[str]:
    return [str(CASES_DIR / item) if (CASES_DIR / item).exists() else item for item in CASES[case]]


def inventory_args(case: str) -> list[str]:
    return [word for source in sources(case) for word in ("-i", source)]


def patterns_for(case: str, inventory: Inventory) -> list[str]:
    """Generic patterns plus, for this inventory, each group and some hosts in several forms."""
    full = case in FULL_CASES
    groups = list(inventory.groups())
    hosts = inventory.host_names()[:4 if full else 2]
    group_forms = ("{}", "{}[0]", "{}[-1]", "{}[1:]", "!{}") if full else ("{}", "{}[-1]", "!{}")
    specific = [form.format(name) for name in groups for form in group_forms]
    specific += [form.format(name) for name in hosts for form in ("{}", "all:!{}", "~{}")]
    return list(dict.fromkeys((GENERIC_PATTERNS if full else CORE_PATTERNS) + specific))


@pytest.fixture(scope="module")
def inventories() -> dict[str, Inventory]:
    return {case: load_inventory(sources(case)) for case in CASES}


@pytest.fixture(scope="module")
def answers(inventories: dict[str, Inventory]) -> dict[tuple[Any, ...], oracle.Outcome]:
    """Every oracle answer the tests below need, computed in one batch."""
    commands: dict[tuple[Any, ...], list[str]] = {}
    for case, inventory in inventories.items():
        args = inventory_args(case)
        commands[case, "list"] = ["ansible-inventory", *args, "--list"]
        commands[case, "yaml"] = ["ansible-inventory", *args, "--list", "--yaml"]
        commands[case, "graph"] = ["ansible-inventory", *args, "--graph", "--vars"]
        for host in [*inventory.host_names()[:3], *inventory.host_names()[-2:], "localhost"]:
            commands[case, "host", host] = ["ansible-inventory", *args, "--host", host]
        for pattern in patterns_for(case, inventory):
            commands[case, "pattern", pattern] = ["ansible", *args, pattern, "--list-hosts"]
        if case in FULL_CASES:
            for pattern, limit in LIMITS:
                commands[case, "limit", pattern, limit] = ["ansible", *args, pattern, "--list-hosts", "--limit", limit]
            for group in inventory.groups():
                commands[case, "subgraph", group] = ["ansible-inventory", *args, "--graph", group]
    for case in MAGIC_CASES:
        commands[case, "magic"] = ["ansible", *inventory_args(case), "all", "-m", "debug", "-o",
                                   "-a", "msg={{ {'group_names': group_names, 'groups': groups} }}"]
    return dict(zip(commands, oracle.run(list(commands.values()))))


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> str:
    return request.param


def test_list_equals_ansible_inventory_list(case, inventories, answers):
    assert inventories[case].to_list_json() == oracle.json_out(answers[case, "list"])


def test_host_vars_equal_ansible_inventory_host(case, inventories, answers):
    inventory = inventories[case]
    listed = oracle.json_out(answers[case, "list"])["_meta"]["hostvars"]
    for host in inventory.host_names():
        assert to_json(inventory.host_vars(host)) == listed.get(host, {}), host
    for key in answers:
        if key[:2] == (case, "host"):
            theirs = oracle.json_out(answers[key])
            ours = to_json(inventory.host_vars(key[2]), mark_unsafe=False)
            if "ansible_python_interpreter" in theirs and ours.get("ansible_python_interpreter") == sys.executable:
                ours["ansible_python_interpreter"] = theirs["ansible_python_interpreter"]
            assert ours == theirs, key


def test_graph_equals_ansible_inventory_graph(case, inventories, answers):
    inventory = inventories[case]
    assert inventory.graph(with_vars=True) == answers[case, "graph"].out.rstrip("\n")
    for key, outcome in answers.items():
        if key[:2] == (case, "subgraph"):
            assert inventory.graph(key[2]) == outcome.out.rstrip("\n"), key


def test_yaml_list_equals_ansible_inventory_yaml(case, inventories, answers):
    assert inventories[case].to_list_yaml() == yaml.safe_load(answers[case, "yaml"].out)


def _compare(ours: list[str], theirs: list[str], pattern: str, ordered: bool) -> str | None:
    """A description of the difference, or None.

    Where Ansible's order is arbitrary, compare sets, and skip slices (they
    select different hosts from run to run there).
    """
    if not ordered and "[" in pattern:
        return None
    if ours == theirs or not ordered and sorted(ours) == sorted(theirs):
        return None
    return f"{pattern!r}: ours {ours} != ansible {theirs}"


def test_list_hosts_equals_ansible_list_hosts(case, inventories, answers):
    inventory = inventories[case]
    ordered = oracle.order_is_defined(oracle.json_out(answers[case, "list"]))
    differences = []
    for key, outcome in answers.items():
        if key[:2] == (case, "pattern"):
            difference = _compare(inventory.list_hosts(key[2]), oracle.listed_hosts(outcome), key[2], ordered)
        elif key[:2] == (case, "limit"):
            difference = _compare(inventory.list_hosts(key[2], key[3]), oracle.listed_hosts(outcome),
                                  f"{key[2]} --limit {key[3]}", ordered)
        else:
            continue
        if difference:
            differences.append(difference)
    assert not differences, "\n".join(differences)


def test_host_names_is_all_in_ansible_order(case, inventories, answers):
    ordered = oracle.order_is_defined(oracle.json_out(answers[case, "list"]))
    ours = inventories[case].host_names()
    assert _compare(ours, oracle.listed_hosts(answers[case, "pattern", "all"]), "all", ordered) is None


@pytest.mark.parametrize("magic_case", MAGIC_CASES)
def test_group_names_and_groups_equal_ansible_magic_variables(magic_case, inventories, answers):
    inventory = inventories[magic_case]
    magic = oracle.debug_values(answers[magic_case, "magic"], "msg")
    assert {host: inventory.group_names(host) for host in inventory.host_names()} == \
        {host: values["group_names"] for host, values in magic.items()}
    groups = next(iter(magic.values()))["groups"]
    if oracle.order_is_defined(oracle.json_out(answers[magic_case, "list"])):
        assert inventory.groups() == groups
    else:
        assert {name: sorted(hosts) for name, hosts in inventory.groups().items()} == \
            {name: sorted(hosts) for name, hosts in groups.items()}
