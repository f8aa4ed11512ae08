"""``lineinfile``'s ``search_string``: a literal string searched in each line, on the local connection and
against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = r"""
- hosts: all
  gather_facts: false
  tasks:
    - name: seed
      shell: |
        printf '<FilesMatch ".php[45]?$">\nport 1\nport 2\nend\n' > {{ base }}/f
    - name: a literal with regular expression characters
      lineinfile: {path: "{{ base }}/f", search_string: '<FilesMatch ".php[45]?$">', line: '<FilesMatch ".php$">'}
    - {name: the last match, lineinfile: {path: "{{ base }}/f", search_string: port, line: port 9}}
    - {name: the first match, lineinfile: {path: "{{ base }}/f", search_string: port, line: port 0, firstmatch: true}}
    - {name: again, lineinfile: {path: "{{ base }}/f", search_string: port, line: port 0, firstmatch: true}}
    - {name: not found, lineinfile: {path: "{{ base }}/f", search_string: nowhere, line: added, insertbefore: '^end'}}
    - {name: removed, lineinfile: {path: "{{ base }}/f", search_string: '9', state: absent}}
    - {name: in check mode, lineinfile: {path: "{{ base }}/f", search_string: end, line: fin}, check_mode: true}
"""
KEYS = ("changed", "msg", "found")


def test_search_string_finds_lines_by_a_literal(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert [(name, status, result.get("msg")) for name, status, result in side.tasks[1:]] == [
        ("a literal with regular expression characters", "changed", "line replaced"),
        ("the last match", "changed", "line replaced"), ("the first match", "changed", "line replaced"),
        ("again", "ok", ""), ("not found", "changed", "line added"), ("removed", "changed", "1 line(s) removed"),
        ("in check mode", "changed", "line replaced")]
    assert side.files["f"][2] == b'<FilesMatch ".php$">\nport 0\nadded\nend\n'


@pytest.mark.oracle
def test_search_string_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks[1:] == theirs.tasks[1:]  # after the seed
    assert ours.files == theirs.files
