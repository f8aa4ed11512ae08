"""``replace`` on the local connection, and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        cd {{ base }} && printf 'host=old\nport=80\n[a]\nport=81\n[b]\nport=82\n' > app.ini && chmod 640 app.ini
        printf 'x\n' > same && ln -s app.ini link && mkdir folder
    - {name: every match, replace: {path: "{{ base }}/app.ini", regexp: '^port=(8\d)$', replace: 'port=\1\1'}}
    - {name: again, replace: {path: "{{ base }}/app.ini", regexp: '^port=(8\d)$', replace: 'port=\1\1'},
       check_mode: true}
    - {name: between, replace: {path: "{{ base }}/link", after: '\[a\]', before: '\[b\]', regexp: 'port', replace: P}}
    - {name: after only, replace: {dest: "{{ base }}/app.ini", after: '\[b\]', regexp: '^p', replace: Q}}
    - {name: section not found, replace: {path: "{{ base }}/app.ini", after: nowhere, regexp: x}}
    - {name: nothing matches, replace: {path: "{{ base }}/app.ini", regexp: zzz, replace: y}}
    - {name: a match left as it is, replace: {path: "{{ base }}/same", regexp: x, replace: x}}
    - {name: in check mode, replace: {path: "{{ base }}/app.ini", regexp: host, replace: HOST}, check_mode: true}
    - {name: and the mode, replace: {path: "{{ base }}/same", regexp: x, replace: y, mode: '0600', backup: true},
       register: backed}
    - {name: no such file, replace: {path: "{{ base }}/missing", regexp: x}, ignore_errors: true}
    - {name: a folder, replace: {path: "{{ base }}/folder", regexp: x}, ignore_errors: true}
    - {name: validated, replace: {path: "{{ base }}/app.ini", regexp: old, replace: new, validate: 'grep -q nope %s'},
       ignore_errors: true}
    - name: forget the backup's name
      shell: mv {{ backed.backup_file }} {{ base }}/backup
"""
KEYS = ("changed", "msg", "rc")


def test_replace_edits_every_match(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    results = {name: (status, result.get("msg")) for name, status, result in side.tasks}
    assert results["every match"] == ("changed", "3 replacements made")
    assert results["again"] == ("ok", "")
    assert results["between"] == ("changed", "1 replacements made")
    assert results["section not found"][0] == "ok"
    assert results["a match left as it is"] == ("ok", "")
    assert results["in check mode"][0] == "changed"
    assert results["and the mode"] == ("changed", "1 replacements made and ownership, perms or SE linux context changed")
    assert results["no such file"] == ("failed", "Path BASE/missing does not exist !")
    assert results["a folder"] == ("failed", "Path BASE/folder is a directory !")
    assert results["validated"][0] == "failed"
    assert side.files["app.ini"] == ("file", "0o640", b"host=old\nport=8080\n[a]\nP=8181\n[b]\nQort=8282\n")
    assert side.files["same"] == ("file", "0o600", b"y\n") and side.files["backup"][2] == b"x\n"


@pytest.mark.oracle
def test_replace_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert [task for task in ours.tasks if task[0] != "validated"][1:-1] == \
        [task for task in theirs.tasks if task[0] != "validated"][1:-1]
    assert ours.tasks[-2][1] == theirs.tasks[-2][1] == "failed"  # validate: both fail, in their own words
    assert ours.files == theirs.files
    assert ours.rc == theirs.rc
