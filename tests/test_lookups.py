"""Lookups (``lookup()``, ``query()``/``q()``) and the ``with_<lookup>`` loops, on the local connection,
and against ansible-core."""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.errors import PlaybookError, TemplateError
from titan_ops.playbook import load_playbook
from titan_ops.templating import Templar
from titan_ops.trust import Authored, trusted
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A playbook folder with files/ and templates/ beside it."""
    (tmp_path / "files").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "files" / "motd.txt").write_text("hello {{ not_rendered }}\n\n")
    (tmp_path / "files" / "b.conf").write_text("b\n")
    (tmp_path / "plain.txt").write_text("plain\n")
    (tmp_path / "templates" / "greeting.j2").write_text("Hi {{ who }}, {{ count + 1 }}\n")
    (tmp_path / "templates" / "native.j2").write_text("{{ [count, count] }}\n")
    return tmp_path


def evaluate(expression: str, project: Path, **variables):
    """``expression`` as a playbook holds it, with ``variables`` as a vars file holds them."""
    return Templar().evaluate(Authored(expression), trusted({"playbook_dir": str(project), **variables}))


@pytest.mark.parametrize("expression,expected", [
    ("lookup('env', 'TITAN_LOOKUP_TEST')", "from env"),
    ("lookup('env', 'TITAN_LOOKUP_TEST', 'TITAN_LOOKUP_NONE')", "from env,"),
    ("query('env', 'TITAN_LOOKUP_TEST', 'TITAN_LOOKUP_NONE')", ["from env", ""]),
    ("lookup('env', 'TITAN_LOOKUP_NONE', default='d')", "d"),
    ("lookup('file', 'motd.txt')", "hello {{ not_rendered }}"),
    ("lookup('file', 'motd.txt', rstrip=false)", "hello {{ not_rendered }}\n\n"),
    ("lookup('file', 'motd.txt', 'plain.txt')", "hello {{ not_rendered }},plain"),
    ("lookup('template', 'greeting.j2')", "Hi you, 3\n"),
    ("lookup('template', 'greeting.j2', template_vars={'who': 'me'})", "Hi me, 3\n"),
    ("lookup('template', 'native.j2')", [2, 2]),
    ("lookup('vars', 'derived')", 3),
    ("lookup('vars', 'nope', default=0)", 0),
    ("q('fileglob', '*.conf')", ["{project}/files/b.conf"]),
    ("lookup('fileglob', '*.txt')", "{project}/files/motd.txt"),
    ("lookup('pipe', 'echo one; echo two')", "one\ntwo"),
    ("lookup('lines', 'printf \"a\\nb\\n\"')", "a,b"),
    ("lookup('items', [1, [2, [3]]])", [1, [2, [3]]]),
    ("q('list', [1, [2]])", [[1, [2]]]),
    ("lookup('dict', {'a': 1})", {"key": "a", "value": 1}),
    ("lookup('indexed_items', ['a', 'b'])", [[0, "a"], [1, "b"]]),
    ("lookup('sequence', 'start=1 end=3')", "1,2,3"),
    ("q('sequence', 'start=1 end=3 format=h%02d')", ["h01", "h02", "h03"]),
    ("q('sequence', '4:w%d')", ["w1", "w2", "w3", "w4"]),
    ("q('sequence', start=5, end=1, stride=-2)", ["5", "3", "1"]),
    ("lookup('first_found', ['nope.txt', 'plain.txt'])", "{project}/plain.txt"),
    ("lookup('first_found', files=['nope', 'b.conf'], paths=['files'])", "{project}/files/b.conf"),
    ("q('first_found', 'nope', skip=True)", []),
    ("lookup('first_found', 'nope', errors='ignore')", None),
    ("lookup('ansible.builtin.env', 'TITAN_LOOKUP_TEST', wantlist=True)", ["from env"]),
])
def test_lookup_values_are_ansibles(project, monkeypatch, expression, expected):
    monkeypatch.setenv("TITAN_LOOKUP_TEST", "from env")
    if isinstance(expected, str):
        expected = expected.replace("{project}", str(project))
    elif isinstance(expected, list):
        expected = [item.replace("{project}", str(project)) if isinstance(item, str) else item for item in expected]
    assert evaluate(expression, project, who="you", count=2, derived="{{ count + 1 }}") == expected


@pytest.mark.parametrize("expression,message", [
    ("lookup('nosuch', 'x')", "the lookup 'nosuch' is not supported by titan-ops"),
    ("lookup('file', 'nope.txt')", "lookup 'file': could not locate file in lookup: nope.txt"),
    ("lookup('pipe', 'echo broken >&2; exit 3')", "lookup 'pipe': the command 'echo broken >&2; exit 3' returned 3: broken"),
    ("lookup('vars', 'nope')", "lookup 'vars': No variable found with this name: nope"),
    ("lookup('env', 'HOME', bogus=1)", "lookup 'env': got an unexpected keyword argument 'bogus'"),
    ("lookup('sequence', 'end=0')", "lookup 'sequence': to count backwards make stride negative"),
    ("lookup('sequence', 'start=1 end=3 bogus=1')", "unrecognized arguments to with_sequence: ['bogus']"),
    ("lookup('first_found', 'nope')", "No file was found when using first_found."),
    ("lookup('dict', [1])", "the 'dict' lookup plugin expects a dictionary"),
])
def test_a_failing_lookup_names_itself(project, expression, message):
    with pytest.raises(TemplateError) as error:
        evaluate(expression, project)
    assert message in error.value.message


def test_a_lookups_value_is_data_never_a_template(project):
    playbook = write(project, LOOPS_PLAYBOOK)
    inventory = project / "inventory.yml"
    inventory.write_text(yaml.safe_dump(LOCAL_INVENTORY))
    result = titan_ops.run(playbook, inventory)
    shown = {r.task: r for r in result.host_results("localhost")}
    assert shown["the file's text is data"].msg == "hello {{ not_rendered }}"


def test_password_is_generated_once_kept_private_and_reported_secret(project):
    templar = Templar()
    secrets: list[str] = []
    templar.on_secret = secrets.extend
    variables = {"playbook_dir": str(project)}
    first = templar.evaluate(Authored("lookup('password', 'credentials/db length=24 chars=ascii_lowercase,digits')"), variables)
    again = templar.evaluate(Authored("lookup('password', 'credentials/db length=8')"), variables)
    assert len(first) == 24 and set(first) <= set("abcdefghijklmnopqrstuvwxyz0123456789")
    assert again == first
    stored = project / "credentials" / "db"
    assert stored.read_text() == first + "\n"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert os.listdir(stored.parent) == ["db"]
    assert secrets == [first, first]
    fresh = templar.evaluate(Authored("lookup('password', '/dev/null length=12 chars=digits')"), variables)
    assert len(fresh) == 12 and fresh.isdigit() and not (project / "dev").exists()


def test_a_generated_password_is_masked_in_the_run(project):
    playbook = project / "password.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - set_fact: {generated: \"{{ lookup('password', 'pw length=16 chars=ascii_letters') }}\"}\n"
                        "    - debug: {msg: \"the value is {{ generated }}\"}\n")
    inventory = project / "inventory.yml"
    inventory.write_text(yaml.safe_dump(LOCAL_INVENTORY))
    result = titan_ops.run(playbook, inventory)
    password = (project / "pw").read_text().strip()
    assert len(password) == 16
    assert result.host_results("localhost")[-1].msg == "the value is ********"
    assert password not in json.dumps(result.to_dict(), default=str)


def write(folder: Path, text: str, name: str = "play.yml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


LOCAL_INVENTORY = {"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                    "ansible_python_interpreter": ORACLE_PYTHON}}}}


@pytest.mark.parametrize("task,message", [
    ("debug: msg=\"{{ lookup('nosuch', 'x') }}\"", "'msg': the lookup 'nosuch' is not supported by titan-ops"),
    ("debug: {msg: \"{{ query('ansible.builtin.nosuch') }}\"}", "the lookup 'ansible.builtin.nosuch' is not"),
    ("debug: msg=x\n  when: q('nosuch') | length > 0", "'when': the lookup 'nosuch' is not supported"),
    ("debug: msg={{ item }}\n  with_k8s: [1]", "'with_k8s': the loop 'with_k8s' is not supported by titan-ops"),
    ("debug: msg={{ item }}\n  with_items:", "'with_items': you must specify a value when using with_items"),
    ("debug: msg={{ item }}\n  with_items: [1]\n  loop: [2]", "a task has one loop"),
    ("include_tasks: x.yml\n  with_nosuch: [1]", "the loop 'with_nosuch' is not supported"),
])
def test_unknown_lookups_and_loops_are_refused_at_validation(tmp_path, task, message):
    (tmp_path / "x.yml").write_text("- debug: msg=x\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  tasks:\n    - " + task.replace("\n", "\n    ") + "\n")
    with pytest.raises(PlaybookError) as error:
        load_playbook(playbook)
    assert message in str(error.value)
    assert str(error.value).startswith(f"{playbook}:")


LOOPS_PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars:
    nested: [[1, 2], [3, [4, 5]]]
    mapping: {b: 2, a: 1}
    users:
      - {name: alice, auth: {keys: [k1, k2], other: 1}}
      - {name: bob, auth: {keys: []}}
      - {name: carol}
  tasks:
    - {name: items flatten one level, debug: {msg: "{{ item }}"}, with_items: "{{ nested }}"}
    - {name: items of a literal list, debug: {msg: "{{ item }}"}, with_items: [[1, 2], 3, [[4]]]}
    - {name: items of a string, debug: {msg: "{{ item }}"}, with_items: plain}
    - {name: items of a mapping, debug: {msg: "{{ item }}"}, with_items: "{{ mapping }}"}
    - {name: list keeps lists, debug: {msg: "{{ item }}"}, with_list: "{{ nested }}"}
    - {name: dict, debug: {msg: "{{ item.key }}={{ item.value }}"}, with_dict: "{{ mapping }}"}
    - {name: together, debug: {msg: "{{ item }}"}, with_together: [[1, 2, 3], [a, b]]}
    - {name: nested, debug: {msg: "{{ item }}"}, with_nested: [[1, 2], [a, b]]}
    - {name: nested with an empty list, debug: {msg: "{{ item }}"}, with_nested: [[1], []]}
    - {name: sequence, debug: {msg: "{{ item }}"}, with_sequence: start=1 end=7 stride=3 format=n%02d}
    - {name: sequence count, debug: {msg: "{{ item }}"}, with_sequence: count=2}
    - name: subelements
      debug: {msg: "{{ item.0.name }} {{ item.1 }} {{ item.0 }}"}
      with_subelements: ["{{ users }}", auth.keys, {skip_missing: true}]
    - {name: indexed, debug: {msg: "{{ item.0 }}:{{ item.1 }}"}, with_indexed_items: [a, [b, c]]}
    - {name: first found, debug: {msg: "{{ item | basename }}"}, with_first_found: [nope.txt, b.conf]}
    - {name: fileglob, debug: {msg: "{{ item | basename }}"}, with_fileglob: ["*.conf", "*.txt"]}
    - {name: lines, debug: {msg: "{{ item }}"}, with_lines: "printf 'x\\\\ny\\\\n'"}
    - {name: empty, debug: {msg: "{{ item }}"}, with_items: []}
    - name: loop_var
      debug: {msg: "{{ ansible_loop_var }} {{ it }}"}
      with_items: [1]
      loop_control: {loop_var: it}
    - name: lookups in arguments
      debug:
        msg: "{{ lookup('file', 'b.conf') }} {{ query('sequence', 'count=2') }} {{ lookup('vars', 'mapping').a }}"
    - name: a failing lookup fails its task only
      debug: {msg: "{{ lookup('file', 'missing.txt') }}"}
      ignore_errors: true
    - name: a failing loop lookup fails its task only
      debug: {msg: "{{ item }}"}
      with_subelements: ["{{ users }}", auth.keys]
      ignore_errors: true
    - name: set_fact from a lookup
      set_fact: {motd: "{{ lookup('file', 'motd.txt') }}"}
    - {name: the file's text is data, debug: {msg: "{{ motd }}"}}
"""


def _messages(result: dict) -> object:
    if "results" in result:
        return [item.get("msg", item.get("motd")) for item in result["results"]]
    return result.get("msg", result.get("motd"))


@pytest.mark.oracle
def test_lookups_and_with_loops_match_ansible(project):
    playbook = write(project, LOOPS_PLAYBOOK)
    inventory = project / "inventory.yml"
    inventory.write_text(yaml.safe_dump(LOCAL_INVENTORY))
    code, report = ansible_report(playbook, inventory)
    result = titan_ops.run(playbook, inventory)
    theirs = [(task["task"]["name"], task["hosts"]["localhost"]) for task in report["plays"][0]["tasks"]]
    ours = result.host_results("localhost")
    assert [r.task for r in ours] == [name for name, _ in theirs]
    for mine, (name, expected) in zip(ours, theirs):
        assert mine.status.value in ("ok", "failed", "skipped"), name
        assert bool(mine.result.get("failed")) == bool(expected.get("failed")), name
        assert bool(mine.result.get("skipped")) == bool(expected.get("skipped")), name
        if not expected.get("failed"):
            assert _messages(mine.result) == _messages(expected), name
    assert (result.exit_code, result.stats["localhost"].ignored) == (code, 2)
