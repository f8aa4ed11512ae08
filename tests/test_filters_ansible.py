"""Ansible's filters and tests, and the ``ansible._protomatter`` plugins titan-ops gives a meaning to, as
ansible-core 2.19 has them.

Each value case is an expression and the value ansible-core gives it (a failure case: words of its
message); the fast tests evaluate them with titan-ops's templar, the oracle tests show that
ansible-core gives those very values and messages. The playbook cases are small playbooks on the local
connection whose own ``assert`` tasks state what ansible-core does.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import titan_ops
from titan_ops.errors import PlaybookError, TemplateError
from titan_ops.sandbox import LimitReached
from titan_ops.templating import Templar
from titan_ops.trust import Authored, trusted
from tests.oracle import ansible_record, titan_stats

INVENTORY = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
VARIABLES = {"fruits": [{"name": "apple", "enjoy": True}, {"name": "orange", "enjoy": False}],
             "container": {"key": {"subkey": "value"}}, "documents": "---\na: 1\n---\nb: 2\n",
             "users": [{"name": "alice", "groups": ["wheel", "adm"]}, {"name": "bob"}]}

# expression: the value ansible-core gives it
VALUES: dict[str, Any] = {
    "fruits | groupby('enjoy') | ansible._protomatter.finalize":
        [[False, [{"name": "orange", "enjoy": False}]], [True, [{"name": "apple", "enjoy": True}]]],
    "(fruits | groupby('enjoy') | ansible._protomatter.finalize)[0] == [false, [fruits[1]]]": True,
    "{'a': (1, 2), 'b': omit} | ansible._protomatter.finalize == {'a': [1, 2]}": True,
    "'text' is ansible._protomatter.tagged_with('TrustedAsTemplate')": False,
    "2 | extract(['a', 'b', 'c'])": "c",
    "['x', 'y'] | map('extract', {'x': 42, 'y': 31}) | list": [42, 31],
    "'key' | extract(container, 'subkey')": "value",
    "'key' | extract(container, ['badsubkey', 'deeper']) | default('a')": "a",
    "'key' | extract(not_a_container) | default('a')": "a",
    "[1, None, [3, [4, 'null']], 'None'] | flatten": [1, 3, 4],
    "[1, None, [3, [4]]] | flatten(levels=1, skip_nulls=False)": [1, None, 3, [4]],
    "'https://www.python.org/example-1' | b64encode(urlsafe=True)": "aHR0cHM6Ly93d3cucHl0aG9uLm9yZy9leGFtcGxlLTE=",
    "'aHR0cHM6Ly93d3cucHl0aG9uLm9yZy9leGFtcGxlLTE=' | b64decode(urlsafe=True)": "https://www.python.org/example-1",
    "{'b': [1, 1, 2, 3]} | combine({'b': [3, 4]}, list_merge='append_rp')": {"b": [1, 1, 2, 3, 4]},
    "{'b': [1, 2]} | combine({'b': [2, 3]}, list_merge='prepend_rp')": {"b": [2, 3, 1]},
    "None | combine": {},
    "'foo=bar=baz' | regex_replace('=', ':', mandatory_count=2)": "foo:bar:baz",
    "'%Y-%m-%d' | strftime(1585247522, utc=True)": "2020-03-26",
    "'%Y-%m-%d %H' | strftime('1585247522.0', utc=True)": "2020-03-26 18",
    "('1993-03-26 01:23:45' | to_datetime).year": 1993,
    "('26/03/1993' | to_datetime('%d/%m/%Y')).month": 3,
    "']]^' | regex_escape(re_type='posix_basic') | length": 6,
    "'a.b*' | regex_escape | length": 6,
    "documents | from_yaml_all": [{"a": 1}, {"b": 2}],
    "None | from_yaml_all": [],
    "None | from_yaml": None,
    "100 | random(seed=1337)": 79,
    "['a', 'b', 'c', 'd'] | random(seed='titan')": "d",
    "[1, 2, 3, 4, 5] | shuffle(seed=1337)": [2, 1, 4, 3, 5],
    "22 | shuffle": 22,
    "20 | random(start=10, step=2) in [10, 12, 14, 16, 18]": True,
    "'monkeys' | to_uuid": "0d03a178-da0f-5b51-934e-cda9c76578c3",
    "'boo!' | comment": "#\n# boo!\n#",
    "'boo!' | comment(style='cblock')": "/*\n *\n * boo!\n *\n */",
    "'boo!' | comment(decoration='-- ')": "--\n-- boo!\n--",
    "'boo!' | comment('xml', prefix_count=2)": "<!--\n -\n -\n - boo!\n -\n-->",
    "users | subelements('groups', skip_missing=True) | map('last') | list": ["wheel", "adm"],
    "[1, 3] | zip([2, 4]) | list": [[1, 2], [3, 4]],
    "[1, 3] | zip([2, 4]) | flatten": [1, 2, 3, 4],
    "[1] | zip_longest([2, 4], fillvalue=0) | list": [[1, 2], [0, 4]],
    "['1,2', '3'] | map('split', ',') | flatten | map('int') | list": [1, 2, 3],
    "None | quote": "''",
    "not_defined | map('upper') is undefined": True,
    "undef('must be set') | default('given')": "given",
}

# expression: words of the message of its failure in ansible-core
FAILURES: dict[str, str] = {
    "undefined_thing | ansible._protomatter.finalize": "'undefined_thing' is undefined",
    "1 is ansible._protomatter.tagged_with('NoSuchTag')": "Unknown tag name 'NoSuchTag'.",
    "'hash' | hash('nope')": "unsupported hash type nope",
    "[{'a': 1}] | combine(foo='bar')": "'recursive' and 'list_merge' are the only valid keyword arguments",
    "[{'a': 1}, [{'b': 2}]] | combine({'c': 3})": "failed to combine variables, expected dicts but got",
    "'foo=bar=baz' | regex_replace('=', ':', mandatory_count=1)": "'=' should match 1 times, but matches ",
    "'hello' | regex_search('hello', 'unknown')": "Unknown argument",
    "'%Y' | strftime('foo')": "Invalid value for epoch value (foo)",
    "']]^' | regex_escape(re_type='posix_extended')": "Regex type (posix_extended) not yet implemented",
    "']]^' | regex_escape(re_type='haha')": "Invalid regex type (haha)",
    "None | random": "random can only be used on sequences and integers",
    "[1, 2] | random(start=1)": "start and step can only be used with integer values",
    "'hey' | to_uuid(namespace=22)": "Invalid value '22' for 'namespace'",
    "hey | mandatory": "Mandatory variable 'hey' not defined.",
    "hey | mandatory('You did not give me a variable')": "You did not give me a variable",
    "'boo' | comment(style='invalid')": "Invalid style 'invalid'.",
    "True | subelements('foo')": "obj must be a list of dicts or a nested dict",
    "{} | subelements(17)": "subelements must be a list or a string",
    "users | subelements('groups')": "could not find 'groups' key in iterated item",
    "users | subelements('name')": "should point to a list",
    "[{'k': 1}] | subelements('items')": "could not find 'items' key in iterated item",
    "['abc'] | subelements('0')": "the key 0 should point to a dictionary, got 'abc'",
    "True | items2dict": "items2dict requires a list",
    "[True] | items2dict": "items2dict requires a list of dictionaries",
    "[{'key': 'a'}] | items2dict": "items2dict requires each dictionary in the list to contain the keys 'key' and 'value'",
    "True | path_join": "|path_join expects string or sequence",
    "'/foo/bar' | commonpath": "|commonpath expects sequence",
    "undef('must be set') ~ 'x'": "must be set",
    "undef() ~ 'x'": "Mandatory variable has not been overridden",
}


def test_password_hash_without_passlib_fails_as_ansible_core_does(monkeypatch):
    """passlib is not a dependency of titan-ops (nor of ansible-core): without it, ansible-core's words."""
    monkeypatch.setitem(sys.modules, "passlib.hash", None)
    with pytest.raises(TemplateError, match="Unable to encrypt nor hash, passlib must be installed"):
        _evaluate("'secret' | password_hash('sha512')")


def test_the_password_given_to_password_hash_is_a_secret_from_then_on(monkeypatch):
    """Hashed or not (here: no passlib), the plain password is reported to the run's masking."""
    monkeypatch.setitem(sys.modules, "passlib.hash", None)
    templar, secrets = Templar(), []
    templar.on_secret = secrets.extend
    with pytest.raises(TemplateError):
        templar.render(Authored("{{ plain | password_hash('sha512') }}"), {"plain": "correct horse"})
    assert secrets == ["correct horse"]


# hashes ansible-core 2.19 gives with passlib on its path (libpass 1.9.4), the salt fixed
PASSWORD_HASHES = {
    "'secret' | password_hash('sha512', salt='abcdefgh')": "$6$rounds=656000$abcdefgh$/Ei/7YaGhLUaj/.Vzhbn8/qTav7sn"
                                                           "BIiSWc4ltNfH/h5CKGCnV8KtAzHxd56WDXc3DF7SfbULGkU/EoGIlOV70",
    "'secret' | password_hash('sha256', salt='abcdefgh', rounds=5000)": "$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms."
                                                                       "fwqE5y16JVM.",
    "'secret' | password_hash('md5', salt='abcdefgh')": "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1",
}


@pytest.mark.parametrize("expression", list(PASSWORD_HASHES))
def test_password_hash_with_passlib_gives_ansibles_hashes(expression):
    pytest.importorskip("passlib.hash", reason="passlib comes with the optional extra titan-ops[passwords]")
    assert _evaluate(expression) == PASSWORD_HASHES[expression]


@pytest.mark.parametrize("expression", ["'x' | comment(prefix_count=100000000)",
                                        "'x' | comment(postfix_count=100000000)",
                                        "'x' | comment(prefix='%s', prefix_count=10000000)" % ("#" * 1000),
                                        "'x' | comment(postfix='%s', postfix_count=10000000)" % ("#" * 1000),
                                        "('x' * 5000000) | comment(newline='', decoration='%s')" % ("#" * 1000),
                                        "'x' | password_hash('sha512', rounds=999999999)",
                                        "'x' | password_hash('sha512', rounds='999999999')",
                                        "'x' | password_hash('sha512', rounds=999999999.0)"])
def test_what_would_outgrow_the_sandbox_is_refused(expression):
    with pytest.raises(LimitReached, match="refused"):
        _evaluate(expression)


@pytest.mark.parametrize("expression", ["['text'] | map(attribute='__class__') | list",
                                        "['text'] | subelements('__class__')",
                                        "[cycler] | map(attribute='__init__') | list",
                                        "[cycler] | subelements('__init__.__globals__')",
                                        "[{'a': cycler}] | subelements(['a', '__init__'])"])
def test_an_attribute_the_sandbox_forbids_is_refused_through_any_filter(expression):
    with pytest.raises(TemplateError, match="access to attribute '__(class|init)__' of '(str|type)' object is unsafe"):
        _evaluate(expression)


def _evaluate(expression: str) -> Any:
    return Templar().evaluate(Authored(expression), trusted(VARIABLES))


@pytest.mark.parametrize("expression", list(VALUES))
def test_titan_ops_gives_ansibles_value(expression):
    assert json.loads(json.dumps(_evaluate(expression))) == VALUES[expression]


@pytest.mark.parametrize("expression", list(FAILURES))
def test_titan_ops_fails_as_ansible(expression):
    with pytest.raises(TemplateError, match=re.escape(FAILURES[expression])):
        _evaluate(expression)


def _ansible_results(tmp_path: Path, expressions: list[str]) -> list[dict[str, Any]]:
    """ansible-playbook's result of ``debug: msg: "{{ expression }}"`` for each expression, in order."""
    tasks = [{"debug": {"msg": "{{ " + expression + " }}"}, "ignore_errors": True} for expression in expressions]
    playbook = tmp_path / "values.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": VARIABLES,
                                     "tasks": tasks}]))
    (tmp_path / "inventory").write_text(INVENTORY)
    record = ansible_record("-i", str(tmp_path / "inventory"), str(playbook))
    return [task["hosts"]["localhost"] for task in record["plays"][0]["tasks"]]


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
    "one {{ expression }} with '}}' inside is evaluated whole; an undefined value inside it fails": ("""
        - set_fact:
            combined: "{{ {'a': 1} | combine({'k': {'n': [1]}}) }}"
        - assert: {that: "combined.k.n == [1]"}
        - set_fact:
            broken: "{{ {'a': 1} | combine({'k': {'n': [not_defined]}}) }}"
          register: failing
          ignore_errors: true
        - assert:
            that: failing.msg is contains("'not_defined' is undefined")
        """, _recap(4, ignored=1)),
    "group_vars and host_vars beside the playbook (the inventory elsewhere), above the inventory's": ("""
        - assert:
            that:
              - from_host_vars == 'playbook host_vars'
              - from_group_vars == 'playbook group_vars'
              - both == 'playbook host_vars'
        """, _recap(1)),
    "a backslash in a {{ }} string is kept as written; in conditions and template files, jinja2's escapes": (r"""
        - set_fact:
            groups_found: "{{ 'goodbye' | regex_search('(good)(bye)', '\\2', '\\1') }}"
            kept: >-
              {{ 'a\tb' | length }}
            from_file: "{{ lookup('template', 'backslash.j2') }}"
        - assert:
            that:
              - groups_found == ['bye', 'good']
              - kept == 4
              - '''a\tb'' | length == 3'
              - from_file | trim == '3'
        """, _recap(2)),
}
FILES = {"templates/backslash.j2": "{{ 'a\\tb' | length }}\n",
         "group_vars/all.yml": "from_group_vars: playbook group_vars\nboth: playbook group_vars\n",
         "host_vars/localhost.yml": "from_host_vars: playbook host_vars\nboth: playbook host_vars\n",
         "inventory/host_vars/localhost.yml": "both: inventory host_vars\n"}
PLAY_VARS = "    play_text: plain\n    play_list: [one]\n    unsafe_text: !unsafe '{{ not_rendered }}'\n"


def _playbook(tmp_path: Path, tasks: str) -> Path:
    path = tmp_path / "case.yml"
    path.write_text("- hosts: localhost\n  gather_facts: false\n  vars:\n" + PLAY_VARS + "  tasks:\n"
                    + textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ") + "\n")
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "inventory" / "hosts").write_text(INVENTORY)
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_titan_ops_gives_ansibles_outcome(tmp_path, name):
    tasks, expected = CASES[name]
    result = titan_ops.run(_playbook(tmp_path, tasks), tmp_path / "inventory" / "hosts")
    failures = [(r.task, r.msg) for r in result.host_results("localhost") if r.failed and not r.ignored]
    assert titan_stats(result)["localhost"] == expected, failures


@pytest.mark.oracle
@pytest.mark.parametrize("name", list(CASES))
def test_ansible_core_gives_the_expected_outcome(tmp_path, name):
    tasks, expected = CASES[name]
    record = ansible_record("-i", str(tmp_path / "inventory" / "hosts"), str(_playbook(tmp_path, tasks)))
    assert {key: record["stats"]["localhost"][key] for key in expected} == expected, record


@pytest.mark.parametrize("plugin", ["ansible._protomatter.origin", "ansible._protomatter.dump_object",
                                    "ansible._protomatter.apply_trust"])
def test_other_protomatter_plugins_are_refused_by_name_at_validation(tmp_path, plugin):
    with pytest.raises(PlaybookError, match=f"No filter named '{plugin}'"):
        titan_ops.run(_playbook(tmp_path, f'- debug: {{msg: "{{{{ play_text | {plugin} }}}}"}}'),
                      tmp_path / "inventory" / "hosts")
