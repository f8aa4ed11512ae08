"""``tempfile`` on the local connection, and against ansible-core."""

from __future__ import annotations

import re

import pytest

import titan_ops
from tests.local_oracle import play_ansible, play_titan, project
from titan_ops.errors import TitanOpsError

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: a file, tempfile: {path: "{{ base }}"}, register: f}
    - {name: a directory, tempfile: {state: directory, path: "{{ base }}", prefix: "run-", suffix: .test}}
    - {name: a slash in the prefix, tempfile: {path: "{{ base }}", prefix: a/b}, ignore_errors: true}
    - {name: a slash in the suffix, tempfile: {path: "{{ base }}", suffix: /x}, ignore_errors: true}
    - {name: no such folder, tempfile: {path: "{{ base }}/missing"}, ignore_errors: true}
    - {name: in check mode, tempfile: {path: "{{ base }}"}, check_mode: true}
    - {name: the path is registered, assert: {that: "f.path.startswith(base ~ '/ansible.')"}}
"""
KEYS = ("changed", "mode", "state", "size", "skipped")


def _names(files: dict) -> list[tuple[str, str]]:
    """The files' names with their random part as ``*``, and their kind and mode."""
    return sorted((re.sub(r"(ansible\.|run-)\w{8}", r"\1*", name), value[:2]) for name, value in files.items())


def test_tempfile_creates_a_new_private_file_or_directory_each_run(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    first = play_titan(folder, tmp_path / "one", KEYS + ("msg",))
    statuses = [(name, status) for name, status, _ in first.tasks]
    assert statuses == [("a file", "changed"), ("a directory", "changed"), ("a slash in the prefix", "failed"),
                        ("a slash in the suffix", "failed"), ("no such folder", "failed"),
                        ("in check mode", "skipped"), ("the path is registered", "ok")]
    assert first.tasks[0][2] == {"changed": True, "mode": "0600", "state": "file", "size": 0}
    assert first.tasks[2][2]["msg"] == "prefix must be a valid file name component, got 'a/b'"
    assert _names(first.files) == [("ansible.*", ("file", "0o600")), ("run-*.test", ("directory", "0o700"))]
    second = play_titan(folder, tmp_path / "two", KEYS)
    assert second.tasks[0][1] == "changed"  # a new one each time, as ansible's


@pytest.mark.oracle
def test_tempfile_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
    assert ours.rc == theirs.rc
    assert _names(ours.files) == _names(theirs.files)


def test_tempfile_refuses_unknown_arguments(tmp_path):
    folder = tmp_path / "project"
    project(folder, "- hosts: all\n  tasks:\n    - tempfile: {mode: '0644'}\n")
    with pytest.raises(TitanOpsError, match=r"'mode': Unsupported parameters for \(tempfile\) module: mode"):
        titan_ops.run(folder / "play.yml", folder / "inventory.yml")
