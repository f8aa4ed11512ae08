"""``slurp`` on the local connection, and against ansible-core."""

from __future__ import annotations

import base64

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        printf 'one\\ntwo {{ "{{" }} not a template }}\\n\\001é' > {{ base }}/data && : > {{ base }}/empty
        mkdir {{ base }}/folder
    - {name: a file, slurp: {src: "{{ base }}/data"}, register: data}
    - {name: its content is data, assert: {that: "data.content | b64decode is search('two [{][{] not')"}}
    - {name: an empty file, slurp: {path: "{{ base }}/empty"}}
    - {name: no such file, slurp: {src: "{{ base }}/missing"}, ignore_errors: true}
    - {name: a folder, slurp: {src: "{{ base }}/folder"}, ignore_errors: true}
    - {name: in check mode, slurp: {src: "{{ base }}/data"}, check_mode: true}
"""
KEYS = ("changed", "content", "encoding", "source", "msg")


def test_slurp_reads_a_file_as_base64(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    results = {name: (status, result) for name, status, result in side.tasks}
    status, data = results["a file"]
    assert status == "ok" and base64.b64decode(data["content"]) == 'one\ntwo {{ not a template }}\n\x01é'.encode()
    assert data["encoding"] == "base64" and data["source"] == "BASE/data"
    assert results["its content is data"][0] == "ok"
    assert results["an empty file"][1]["content"] == ""
    assert results["no such file"] == ("failed", {"changed": False, "msg": "File not found: BASE/missing"})
    assert results["a folder"][1]["msg"] == "Source is a directory and must be a file: BASE/folder"
    assert results["in check mode"] == ("ok", data)


@pytest.mark.oracle
def test_slurp_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks[1:] == theirs.tasks[1:]  # after the seed
    assert ours.rc == theirs.rc
