"""Everything titan-ops does not support is refused by name at validation, located, before any host is
touched (exit 5), and docs/playbooks.md lists it."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from tests.forked_cli import run_cli
from titan_ops import filters
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook

DOCS = Path(__file__).parent.parent / "docs" / "playbooks.md"

TASK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - {task}\n"
PLAY = "- hosts: all\n  gather_facts: false\n  {keyword}\n  tasks: []\n"

# (what, the playbook, the name the error gives, the line it points at, how docs/playbooks.md lists it)
CASES = [
    ("a Windows module", TASK.format(task="win_ping: {}"), "win_ping", 4, '`win_*`'),
    ("a collection's module", TASK.format(task="community.general.ini_file: {path: /x}"),
     "community.general.ini_file", 4, "collections' modules"),
    ("an action plugin of the playbook's", TASK.format(task="my_action: {}"), "my_action", 4, '`action_plugins/`'),
    ("a builtin module titan-ops lacks", TASK.format(task="cron: {name: x, job: /bin/true}"), "cron", 4, '`cron`'),
    ("async with a module that cannot run as a job", TASK.format(task="{copy: {content: x, dest: /x}, async: 10}"),
     "async", 4, '`async` with a module other than'),
    ("module_defaults", TASK.format(task="{debug: {msg: x}, module_defaults: {}}"), "module_defaults", 4, '`module_defaults`'),
    ("collections", TASK.format(task="{debug: {msg: x}, collections: [a.b]}"), "collections", 4, '`collections`'),
    ("debugger", TASK.format(task="{debug: {msg: x}, debugger: on_failed}"), "debugger", 4, '`debugger`'),
    ("become_exe", TASK.format(task="{debug: {msg: x}, become_exe: sudo}"), "become_exe", 4, '`become_exe`'),
    ("become_flags", TASK.format(task="{debug: {msg: x}, become_flags: -H}"), "become_flags", 4, '`become_flags`'),
    ("the play keyword gather_timeout", PLAY.format(keyword="gather_timeout: 5"), "gather_timeout", 3,
     '`gather_timeout`'),
    ("the play keyword gather_subset", PLAY.format(keyword="gather_subset: [all]"), "gather_subset", 3, '`gather_subset`'),
    ("the play keyword fact_path", PLAY.format(keyword="fact_path: /x"), "fact_path", 3, '`fact_path`'),
    ("a lookup titan-ops lacks", TASK.format(task="debug: {msg: \"{{ lookup('csvfile', 'x') }}\"}"),
     "csvfile", 4, '`csvfile`'),
    ("a collection's lookup", TASK.format(task="debug: {msg: \"{{ query('community.general.dig', 'x') }}\"}"),
     "community.general.dig", 4, "collections' lookups"),
    ("a loop over a lookup titan-ops lacks", TASK.format(task="{debug: {msg: x}, with_cartesian: [[1], [2]]}"),
     "with_cartesian", 4, '`with_cartesian`'),
    ("a filter titan-ops lacks", TASK.format(task="debug: {msg: \"{{ 'a' | from_ini }}\"}"), "from_ini", 4, '`from_ini`'),
    ("a collection's filter", TASK.format(task="debug: {msg: \"{{ x | ansible.utils.ipaddr }}\"}"),
     "ansible.utils.ipaddr", 4, "collections' filters"),
    ("a test titan-ops lacks", TASK.format(task="{debug: {msg: x}, when: \"'/x' is directory\"}"), "directory", 4, '`directory`'),
    ("a strategy plugin", PLAY.format(keyword="strategy: debug"), "debug", 3, '`debug`'),
    ("a connection plugin", TASK.format(task="{debug: {msg: x}, connection: winrm}"), "winrm", 4, '`winrm`'),
    ("a become plugin", TASK.format(task="{debug: {msg: x}, become: true, become_method: runas}"), "runas", 4, '`runas`'),
    ("a meta action", TASK.format(task="meta: end_role"), "end_role", 4, '`end_role`'),
    ("a module, in a task that handles its failure", TASK.format(task="{win_ping: {}, ignore_errors: true}"),
     "win_ping", 4, "`win_*`"),
    ("a keyword, in a task that handles its failure",
     TASK.format(task="{debug: {msg: x}, async: 5, failed_when: false}"), "async", 4, "`async` with a module"),
    ("a lookup, in a task that handles its failure",
     TASK.format(task="{debug: {msg: \"{{ lookup('url', 'x') }}\"}, ignore_errors: true}"), "url", 4, "`url`"),
    ("vars_prompt encrypt", PLAY.format(keyword="vars_prompt: [{name: p, encrypt: sha512_crypt}]"), "encrypt", 3, '`encrypt`'),
]


@pytest.mark.parametrize("what,text,name,line,listed", CASES, ids=[case[0] for case in CASES])
def test_refused_by_name_and_place(tmp_path, what, text, name, line, listed):
    (tmp_path / "action_plugins").mkdir()
    (tmp_path / "action_plugins" / "my_action.py").write_text("from ansible.plugins.action import ActionBase\n")
    playbook = tmp_path / "play.yml"
    playbook.write_text(text)
    with pytest.raises(PlaybookError) as raised:
        load_playbook(playbook)
    message = str(raised.value)
    assert re.search(rf"'{re.escape(name)}'", message), message
    assert f"play.yml:{line}:" in message, message


def test_validate_exits_5_naming_it(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(TASK.format(task="debug: {msg: \"{{ lookup('url', 'x') }}\"}"))
    done = run_cli(["validate", playbook], timeout=60)
    assert done.returncode == 5
    assert done.stderr.strip().splitlines()[-1] == (
        f"ERROR! {playbook}:4:15: 'msg': the lookup 'url' is not supported by titan-ops")


def _not_supported_section() -> str:
    return DOCS.read_text().split("## Not supported: refused by name", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("what,listed", [(case[0], case[4]) for case in CASES], ids=[case[0] for case in CASES])
def test_the_docs_list_it(what, listed):
    assert listed in _not_supported_section(), f"docs/playbooks.md does not list {what} ({listed}) as not supported"


def test_the_docs_list_every_filter_and_test_titan_ops_has():
    """So that 'every filter and test not listed is refused' stays true."""
    text = DOCS.read_text()
    builtin = jinja2.Environment()
    missing = [name for name in [*filters.FILTERS, *filters.TESTS]
               if f"`{name}`" not in text and name not in builtin.filters and name not in builtin.tests]
    assert not missing, f"docs/playbooks.md does not list the filters and tests {missing}"
