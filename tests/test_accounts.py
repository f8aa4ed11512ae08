"""``user`` and ``group`` on the local connection (they change this machine's accounts: every test uses
names and ids of its own and removes what it made), and against ansible-core."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {{name: make group, group: {{name: "{group}", gid: {gid}}}}}
    - {{name: group again, group: {{name: "{group}", gid: {gid}}}}}
    - {{name: change gid, group: {{name: "{group}", gid: {gid2}}}}}
    - {{name: system group, group: {{name: "{group}s", system: true}}}}
    - name: make user
      user: {{name: "{user}", uid: {uid}, group: "{group}", groups: ["{group}s"], shell: /bin/bash,
              comment: "Test User", home: "{home}"}}
    - name: user again
      user: {{name: "{user}", uid: {uid}, group: "{group}", groups: ["{group}s"], shell: /bin/bash,
              comment: "Test User", home: "{home}"}}
    - {{name: change shell and groups, user: {{name: "{user}", shell: /bin/sh, groups: [], append: false}}}}
    - {{name: set a password hash, user: {{name: "{user}", password: "{hash}"}}}}
    - {{name: same password hash, user: {{name: "{user}", password: "{hash}"}}}}
    - {{name: missing group, user: {{name: "{user}", groups: ["{group}-none"]}}, ignore_errors: true}}
    - {{name: remove user, user: {{name: "{user}", state: absent, remove: true}}}}
    - {{name: remove user again, user: {{name: "{user}", state: absent}}}}
    - {{name: remove group, group: {{name: "{group}", state: absent}}}}
    - {{name: remove group again, group: {{name: "{group}", state: absent}}}}
    - {{name: remove system group, group: {{name: "{group}s", state: absent}}}}
"""

HASH = "$6$saltsalt$J1I4wRHKAjl0q0EYEWOzk5ZJdUMs3FHXQOrvB8kx3CdO6tNg5HC8iG1UUqbwvfBBJOFmgWE5l.CbFTeRLHkB2/"
COMPARED = ("name", "state", "gid", "uid", "group", "groups", "comment", "home", "shell", "system", "changed",
            "failed", "msg", "append", "remove", "force", "create_home")


@pytest.fixture
def accounts(tmp_path):
    """Names and ids of this test's own; whatever they left is removed afterwards."""
    suffix = f"{random.randrange(10**6):06d}"
    names = {"user": f"tou{suffix}", "group": f"tog{suffix}", "uid": random.randrange(40000, 50000),
             "gid": random.randrange(50000, 55000), "gid2": random.randrange(55000, 60000),
             "home": str(tmp_path / "home"), "hash": HASH}
    yield names
    subprocess.run(["userdel", "-r", names["user"]], capture_output=True)
    for group in (names["group"], names["group"] + "s"):
        subprocess.run(["groupdel", group], capture_output=True)


def _project(folder: Path, names: dict) -> tuple[Path, Path]:
    playbook = folder / "play.yml"
    playbook.write_text(PLAYBOOK.format(**names))
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}}}}))
    return playbook, inventory


def _getent(database: str, key: str) -> str:
    return subprocess.run(["getent", database, key], capture_output=True, text=True).stdout.strip()


def test_accounts_made_changed_and_removed(tmp_path, accounts):
    playbook, inventory = _project(tmp_path, accounts)
    playbook.write_text(playbook.read_text().split("    - {name: remove user,")[0])
    result = titan_ops.run(playbook, inventory, diff=True)
    by_name = {r.task: r for r in result.host_results("localhost")}
    assert [name for name, r in by_name.items() if r.changed] == [
        "make group", "change gid", "system group", "make user", "change shell and groups", "set a password hash"]
    assert by_name["missing group"].failed and by_name["missing group"].msg == \
        f"Group {accounts['group']}-none does not exist"
    user, group = accounts["user"], accounts["group"]
    assert _getent("passwd", user) == f"{user}:x:{accounts['uid']}:{accounts['gid2']}:Test User:{accounts['home']}:/bin/sh"
    assert _getent("group", group) == f"{group}:x:{accounts['gid2']}:"
    assert _getent("group", group + "s").endswith(":")  # no member left
    assert _getent("shadow", user).split(":")[1] == HASH
    assert (tmp_path / "home").is_dir()
    assert by_name["change shell and groups"].diff == [{
        "before": f"shell: /bin/bash\ngroups: {group}s\n", "after": "shell: /bin/sh\ngroups: []\n",
        "before_header": user, "after_header": user}]
    playbook.write_text(f"""
- hosts: all
  gather_facts: false
  tasks:
    - group: {{name: "{group}", gid: {accounts['gid2']}}}
    - user: {{name: "{user}", uid: {accounts['uid']}, group: "{group}", groups: [], shell: /bin/sh,
              comment: Test User, password: "{HASH}"}}
""")
    again = titan_ops.run(playbook, inventory)
    assert [r.changed for r in again.host_results("localhost")] == [False, False]


def test_check_mode_changes_nothing(tmp_path, accounts):
    playbook, inventory = _project(tmp_path, accounts)
    result = titan_ops.run(playbook, inventory, check=True)
    assert _getent("passwd", accounts["user"]) == "" and _getent("group", accounts["group"]) == ""
    changed = [r.task for r in result.host_results("localhost") if r.changed]
    assert changed[:4] == ["make group", "group again", "change gid", "system group"]
    assert result.exit_code == 0  # a group a task would have made counts as made, as in Ansible


@pytest.mark.parametrize("task,message", [
    ("user: {name: 'bad name'}", "does not match"),
    ("user: {name: x, state: gone}", "'gone' is not one of"),
    ("group: {name: x, gid: -1}", "-1 is less than the minimum"),
    ("user: {name: x, generate_ssh_key: true}", "generate_ssh_key"),
])
def test_bad_arguments_are_refused_at_validation(tmp_path, task, message):
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: all\n  tasks:\n    - {task}\n")
    with pytest.raises(PlaybookError, match=message):
        load_playbook(playbook)


def _compared(result: dict) -> dict:
    return {key: value for key, value in result.items() if key in COMPARED and value is not False}


@pytest.mark.oracle
def test_accounts_match_ansible(tmp_path, accounts):
    playbook, inventory = _project(tmp_path, accounts)
    code, report = ansible_report(playbook, inventory)
    theirs = [(task["task"]["name"], task["hosts"]["localhost"]) for task in report["plays"][0]["tasks"]]
    result = titan_ops.run(playbook, inventory)
    ours = result.host_results("localhost")
    assert result.exit_code == code == 0
    assert [r.task for r in ours] == [name for name, _ in theirs]
    for mine, (name, expected) in zip(ours, theirs):
        if name == "missing group":
            assert mine.failed and expected["failed"] and mine.msg in expected["msg"]
            continue
        assert _compared(mine.result) == _compared(expected), name
