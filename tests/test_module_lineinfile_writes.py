"""How lineinfile (and the other modules that write files) write, as ansible-core's lineinfile target
expects: validate's errors, the empty pattern's warning, a relative path, ``~`` for the remote user's
home, and a replaced file's ACLs kept."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.local_oracle import play_ansible, play_titan, project

KEYS = ("changed", "msg", "warnings")

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - {name: seed, copy: {content: "one\ntwo\n", dest: "{{ base }}/f"}}
    - name: validate without the file
      lineinfile: {path: "{{ base }}/f", line: three, validate: /bin/true}
      ignore_errors: true
    - name: validate refuses
      lineinfile: {path: "{{ base }}/f", line: three, validate: "grep -q four %s"}
      ignore_errors: true
    - {name: an empty regexp, lineinfile: {path: "{{ base }}/f", regexp: "", line: last}}
    - {name: an empty search string, lineinfile: {path: "{{ base }}/f", search_string: "", line: end}}
"""


def test_lineinfile_validates_and_warns_as_ansible_does(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    empty = "is an empty string, which will match every line in the file. This may have unintended consequences, " \
            "such as replacing the last line in the file rather than appending."
    assert side.tasks[1:] == [
        ("validate without the file", "failed", {"changed": False, "msg": "validate must contain %s: /bin/true"}),
        ("validate refuses", "failed", {"changed": False, "msg": "failed to validate: rc:1 error:"}),
        ("an empty regexp", "changed", {"changed": True, "msg": "line replaced", "warnings": [
            f"The regular expression {empty} If this is desired, use '^' to match every line in the file and "
            "avoid this warning."]}),
        ("an empty search string", "changed", {"changed": True, "msg": "line replaced",
                                               "warnings": [f"The search string {empty}"]})]
    assert side.files["f"][2] == b"one\nend\n"


@pytest.mark.oracle
def test_lineinfile_validates_and_warns_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    ours, theirs = play_titan(folder, tmp_path / "t", KEYS), play_ansible(folder, tmp_path / "a", KEYS)
    assert ours.tasks == theirs.tasks and ours.files == theirs.files


def test_relative_path_and_home_of_the_remote_user(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    folder = tmp_path / "project"
    project(folder, r"""
- hosts: all
  gather_facts: false
  tasks:
    - {name: relative, lineinfile: {dest: file.txt, create: true, line: Test line}}
    - {name: copy to home, copy: {content: "TEST\n", dest: "~/test.txt"}}
    - {name: edit in home, lineinfile: {path: "~/test.txt", regexp: TEST, line: UPDATE}}
    - {name: stat in home, stat: {path: "~/test.txt"}}
""")
    side = play_titan(folder, tmp_path / "base", ("changed", "dest", "stat"))
    assert [status for _, status, _ in side.tasks] == ["changed", "changed", "changed", "ok"]
    assert side.tasks[1][2]["dest"] == f"{home}/test.txt"
    assert side.tasks[3][2]["stat"]["path"] == f"{home}/test.txt"
    assert (home / "file.txt").read_text() == "Test line\n"
    assert (home / "test.txt").read_text() == "UPDATE\n"


@pytest.mark.skipif(shutil.which("setfacl") is None, reason="needs acl's setfacl (scripts/setup.sh installs it)")
def test_a_rewritten_file_keeps_its_acls(tmp_path):
    target = tmp_path / "base" / "test.txt"
    folder = tmp_path / "project"
    project(folder, r"""
- hosts: all
  gather_facts: false
  tasks:
    - {name: create, copy: {content: "TEST\n", dest: "{{ base }}/test.txt", mode: "0644"}}
    - {name: acl, command: "setfacl -m nobody:rwx {{ base }}/test.txt"}
    - {name: edit, lineinfile: {path: "{{ base }}/test.txt", regexp: TEST, line: UPDATE}}
    - {name: copy over, copy: {content: "NEW\n", dest: "{{ base }}/test.txt"}}
""")
    side = play_titan(folder, tmp_path / "base", ("changed",))
    assert [status for _, status, _ in side.tasks] == ["changed"] * 4
    acl = subprocess.run(["getfacl", "-c", str(target)], capture_output=True, text=True, check=True).stdout.split()
    assert {"user::rw-", "user:nobody:rwx", "group::r--", "other::r--"} <= set(acl)
    assert target.read_text() == "NEW\n"
