"""``file``'s ``follow``: a symbolic link at the path is followed, or is the path itself; on the local
connection and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        cd {{ base }} && printf 'x\\n' > target && chmod 644 target && ln -s target link
        mkdir tree && printf 'y\\n' > outside && chmod 644 outside && ln -s ../outside tree/out
        printf 'z\\n' > tree/inside && chmod 600 tree/inside
    - {name: followed, file: {path: "{{ base }}/link", state: file, mode: "0640"}}
    - {name: not followed, file: {path: "{{ base }}/link", state: file, follow: false, mode: "0600"},
       ignore_errors: true}
    - {name: a directory not followed, file: {path: "{{ base }}/link", state: directory, follow: false},
       ignore_errors: true}
    - name: a link replaced, not followed
      file: {src: ./outside, dest: "{{ base }}/link", state: link, force: true, follow: false}
    - {name: a tree without its links, file: {path: "{{ base }}/tree", mode: u+rwx, recurse: true, follow: false}}
"""
KEYS = ("changed", "msg", "state", "mode")


def test_follow_false_manages_the_link_itself(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    statuses = [status for _, status, _ in side.tasks]
    assert statuses == ["changed", "changed", "failed", "failed", "changed", "changed"]
    assert side.tasks[2][2]["msg"] == "file (BASE/link) is link, cannot continue"
    assert side.tasks[3][2]["msg"] == "BASE/link already exists as a link"
    assert side.files["target"][:2] == ("file", "0o640")
    assert side.files["link"] == ("link", "./outside")
    assert side.files["outside"][:2] == ("file", "0o644")  # not through tree/out
    assert side.files["tree/inside"][:2] == ("file", "0o700")


@pytest.mark.oracle
def test_follow_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", ("changed", "msg", "state"))
    ours = play_titan(folder, tmp_path / "titan", ("changed", "msg", "state"))
    assert ours.tasks[1:] == theirs.tasks[1:]  # after the seed
    assert ours.files == theirs.files
    assert ours.rc == theirs.rc
