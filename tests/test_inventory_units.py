"""Unit tests of the inventory's parts: ranges, addresses, INI typing, pattern splitting, the API's edges."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from titan_ops.errors import InventoryError
from titan_ops.inventory import load_inventory
from titan_ops.inventory.addresses import split_port
from titan_ops.inventory.patterns import split_pattern
from titan_ops.inventory.ranges import RangeError, expand_host_range
from titan_ops.inventory.values import parse_ini_value, to_json
from titan_ops.trust import Authored, Unsafe


@pytest.mark.parametrize(("name", "expected"), [
    ("plain", ["plain"]),
    ("web[01:03].example.com", ["web01.example.com", "web02.example.com", "web03.example.com"]),
    ("db-[a:c]", ["db-a", "db-b", "db-c"]),
    ("n[1:10:4]", ["n1", "n5", "n9"]),
    ("n[:2]", ["n0", "n1", "n2"]),
    ("n[5:1:-2]", ["n5", "n3"]),
    ("p[001:010:3]", ["p001", "p004", "p007", "p010"]),
    ("x[y:B]", ["xy", "xz", "xA", "xB"]),
    ("r[1:2]c[a:b]", ["r1ca", "r1cb", "r2ca", "r2cb"]),
    ("n[3:1]", []),
])
def test_host_ranges_expand(name, expected):
    assert expand_host_range(name) == expected


@pytest.mark.parametrize(("name", "message"), [
    ("n[1]", "begin:end"), ("n[1:]", "end value"), ("n[01:100]", "equal-length"), ("n[c:a]", "begin <= end"),
    ("n[1:x]", "'x'"), ("n[1:3:0]", "zero"), ("n[1:3", "closing"), ("n[1:2:3:4]", "begin:end"),
])
def test_bad_host_ranges(name, message):
    with pytest.raises(RangeError, match=re.escape(message)):
        expand_host_range(name)


@pytest.mark.parametrize(("address", "expected"), [
    ("host", ("host", None)), ("host:22", ("host", 22)), ("10.0.0.1:2222", ("10.0.0.1", 2222)),
    ("fe80::1", ("fe80::1", None)), ("[fe80::1]:22", ("fe80::1", 22)), ("[::1]", ("::1", None)),
    ("web[1:3]", ("web[1:3]", None)), ("web[1:3]:22", ("web[1:3]", 22)), ("host:abc", None), ("a b", None),
])
def test_split_port(address, expected):
    assert split_port(address) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42), ("-7", -7), ("0x1F", 31), ("1_000", 1000), ("3.5", 3.5), ("1e3", 1000.0), ("True", True),
    ("true", "true"), ("yes", "yes"), ("None", None), ("none", "none"), ("'quoted'", "quoted"),
    ('"a" "b"', "ab"), ("[1, 'a']", [1, "a"]), ("(1, 2)", [1, 2]), ("{'k': {1: None}}", {"k": {1: None}}),
    ("{k: 1}", "{k: 1}"), ("text # words", "text # words"), ("7 # comment", 7), ("", ""), ("1+2", "1+2"),
    ("1j", "1j"), ("...", "..."), ("b'x'", Unsafe("x")),
])
def test_ini_values_are_typed_as_python_literals(text, expected):
    value = parse_ini_value(text)
    text_type = Authored if type(expected) is str else type(expected)  # inventory text is authored: a template
    assert value == expected and type(value) is text_type


def test_to_json_matches_ansible_inventory_forms():
    value = {1: (1, 2), False: Unsafe("{{ x }}"), None: {1.5: "f"}}
    assert to_json(value) == {"1": [1, 2], "false": {"__ansible_unsafe": "{{ x }}"}, "null": {"1.5": "f"}}
    assert to_json(value, mark_unsafe=False)["false"] == "{{ x }}"


@pytest.mark.parametrize(("pattern", "terms"), [
    ("all", ["all"]), ("web:db", ["web", "db"]), ("web:&db:!x", ["web", "&db", "!x"]),
    ("web , db", ["web", "db"]), ("web,db:!x", ["web", "db:!x"]), ("web[0:2]:db[1]", ["web[0:2]", "db[1]"]),
    ("db[1:2]", ["db[1:2]"]), ("fe80::1", ["fe80::1"]), ("host:22", ["host:22"]), ("", []), (":", []),
    (["web", "db:app"], ["web", "db", "app"]),
])
def test_split_pattern(pattern, terms):
    assert split_pattern(pattern) == terms


@pytest.mark.parametrize("pattern", ["db[1", "db]", "web[0:1", "db[[1]]", "web:db[0"])
def test_a_pattern_with_unbalanced_brackets_is_refused(pattern):
    """ansible reads ``db[1`` as the terms ``db`` and ``1``: a run on all of db when [1] was meant."""
    with pytest.raises(InventoryError, match=r"malformed host pattern .*unbalanced"):
        split_pattern(pattern)


@pytest.fixture()
def web_inventory(tmp_path: Path):
    source = tmp_path / "hosts"
    source.write_text("[web]\nweb[1:3]\n[db]\ndb1\nweb2\n[all:vars]\nregion=eu\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "localhost.yml").write_text("from_file: yes\n")
    return load_inventory(source)


def test_implicit_localhost_is_not_in_all(web_inventory):
    assert web_inventory.host_names() == ["web1", "web2", "web3", "db1"]
    assert web_inventory.list_hosts("localhost") == ["localhost"]
    assert web_inventory.list_hosts("127.0.0.1:web[0]") == ["127.0.0.1", "web1"]
    assert web_inventory.list_hosts("all:&localhost") == []
    assert web_inventory.list_hosts("localhost", limit="web") == []
    assert web_inventory.has_host("localhost") and web_inventory.has_host("::1")
    assert not web_inventory.has_host("nosuch")
    assert web_inventory.group_names("localhost") == []
    assert "localhost" not in web_inventory.groups()["all"]
    assert web_inventory.host_vars("localhost") == {"region": "eu", "ansible_connection": "local",
                                                    "ansible_python_interpreter": sys.executable,
                                                    "from_file": True}


def test_explicit_localhost_answers_for_every_local_name(tmp_path):
    source = tmp_path / "inv.ini"
    source.write_text("[local]\nlocalhost ansible_connection=local\n")
    inventory = load_inventory(source)
    assert inventory.list_hosts("127.0.0.1") == ["localhost"]
    assert inventory.host_vars("127.0.0.1") == {"ansible_connection": "local"}


def test_unknown_host_raises(web_inventory):
    with pytest.raises(InventoryError, match="nosuch"):
        web_inventory.host_vars("nosuch")
    with pytest.raises(InventoryError, match="nosuch"):
        web_inventory.group_names("nosuch")


def test_host_vars_are_copies(web_inventory):
    web_inventory.host_vars("web1")["region"] = "changed"
    assert web_inventory.host_vars("web1")["region"] == "eu"


def test_list_hosts_takes_a_list_of_patterns_like_hosts_in_a_play(web_inventory):
    assert web_inventory.list_hosts(["db", "web[0]"]) == ["db1", "web2", "web1"]


def test_empty_inventory_and_host_lists():
    empty = load_inventory(None)
    assert empty.host_names() == [] and empty.list_hosts("all") == []
    assert empty.groups() == {"all": [], "ungrouped": []}
    listed = load_inventory(["a,b:2222,", "c,"])
    assert listed.host_names() == ["a", "b", "c"]
    assert listed.host_vars("b") == {"ansible_port": 2222}


def test_yaml_warnings_are_kept(tmp_path):
    source = tmp_path / "inv.yml"
    source.write_text("web:\n  hosts: {w1: }\n  host: {w2: }\nbad: 5\n")
    inventory = load_inventory(source)
    assert inventory.host_names() == ["w1"]
    assert len(inventory.warnings) == 2


def test_sources_may_be_paths(tmp_path):
    (tmp_path / "a.yml").write_text("g:\n  hosts: {h: }\n")
    assert load_inventory(tmp_path / "a.yml").host_names() == ["h"]
    assert load_inventory([tmp_path]).sources == (str(tmp_path),)


def test_docs_examples_run(tmp_path):
    """docs/inventory.md: the Python example runs, the YAML and INI examples load."""
    text = (Path(__file__).parents[1] / "docs" / "inventory.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/inventory.md", "exec"), {})  # noqa: S102 - our own documentation
    for suffix in ("yaml", "ini"):
        (example,) = re.findall(rf"```{suffix}\n(.*?)```", text, re.S)
        source = tmp_path / f"example.{suffix}"
        source.write_text(example)
        assert load_inventory(source).host_names()
