"""``script`` on the local connection, and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

SCRIPT = """#!/bin/sh
echo "args: $*"
echo "option: $option"
echo "in: $(pwd)"
echo "to stderr" >&2
[ "$1" != fail ] || exit 3
touch "$BASE_MARK"
"""
PLAYBOOK = """
- hosts: all
  gather_facts: false
  environment: {BASE_MARK: "{{ base }}/ran"}
  tasks:
    - name: arguments as the shell reads them, and the environment
      script: show.sh --option "a b  c" 'd'
      environment: {option: Zażółć}
    - {name: in a folder, script: {cmd: show.sh, chdir: "{{ base }}"}}
    - {name: a relative folder, script: {cmd: show.sh, chdir: rel}, ignore_errors: true}
    - {name: failing, script: show.sh fail, ignore_errors: true}
    - {name: an interpreter, script: {cmd: plain.txt one, executable: /bin/sh}}
    - {name: creates, script: {cmd: show.sh, creates: "{{ base }}/ran"}}
    - {name: removes, script: {cmd: show.sh, removes: "{{ base }}/nothing"}}
    - {name: no such script, script: nowhere.sh, ignore_errors: true}
    - {name: check mode, script: show.sh, check_mode: true}
    - {name: check mode with removes, script: {cmd: show.sh, removes: "{{ base }}/ran"}, check_mode: true}
    - name: nothing left behind
      shell: ls -A {{ base }}
      register: left
    - {name: only the mark, assert: {that: "left.stdout_lines == ['ran']"}}
"""
FILES = {"files/show.sh": SCRIPT, "plain.txt": 'echo "plain $1"\n'}
KEYS = ("changed", "rc", "stdout", "stderr", "stdout_lines", "msg")


def _project(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK, FILES)
    (folder / "files" / "show.sh").chmod(0o755)
    return folder


def test_script_runs_a_controller_script_on_the_host(tmp_path):
    side = play_titan(_project(tmp_path), tmp_path / "base", KEYS)
    results = {name: (status, result) for name, status, result in side.tasks}
    status, first = results["arguments as the shell reads them, and the environment"]
    assert status == "changed" and first["rc"] == 0
    assert first["stdout_lines"][:2] == ["args: --option a b  c d", "option: Zażółć"]
    assert first["stderr"] == "to stderr\n"
    assert results["in a folder"][1]["stdout_lines"][2] == "in: BASE"
    assert results["a relative folder"] == ("failed", {"changed": False,
        "msg": "chdir rel must be an absolute path for a Unix-aware remote node"})
    assert results["failing"][0] == "failed" and results["failing"][1]["rc"] == 3
    assert results["an interpreter"][1]["stdout"] == "plain one\n"
    assert results["creates"] == ("skipped", {"changed": False, "msg": "BASE/ran exists, matching creates option"})
    assert results["removes"][0] == "skipped"
    assert results["no such script"][0] == "failed" and "nowhere.sh" in results["no such script"][1]["msg"]
    assert results["check mode"] == ("skipped", {"changed": False, "msg": "Check mode is not supported for this task."})
    assert results["check mode with removes"] == ("changed", {"changed": True})
    assert results["only the mark"][0] == "ok"


@pytest.mark.oracle
def test_script_matches_ansible(tmp_path, monkeypatch):
    folder = _project(tmp_path)
    monkeypatch.chdir(folder)  # the local connection runs where the controller runs, as ansible-playbook's
    theirs = play_ansible(folder, tmp_path / "ansible", ("changed", "rc", "stdout", "stderr"))
    ours = play_titan(folder, tmp_path / "titan", ("changed", "rc", "stdout", "stderr"))
    assert [(name, status) for name, status, _ in ours.tasks] == [(name, status) for name, status, _ in theirs.tasks]
    scripts = [index for index, (name, _, _) in enumerate(theirs.tasks) if name != "nothing left behind"]
    assert [ours.tasks[i][2] for i in scripts] == [theirs.tasks[i][2] for i in scripts]
    assert ours.files == theirs.files and ours.rc == theirs.rc
