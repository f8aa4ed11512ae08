"""``getent`` on the local connection, and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project
from titan_ops.errors import PlaybookError
from titan_ops.modules.getent import entries
from titan_ops.playbook.parser import load_playbook

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: one user, getent: {database: passwd, key: root}}
    - {name: as a fact and a variable, debug: {msg: "{{ ansible_facts.getent_passwd.root }} {{ getent_passwd.root }}"}}
    - {name: one group split, getent: {database: group, key: root, split: ':'}, register: got}
    - {name: registered, debug: {msg: "{{ got.ansible_facts }}"}}
    - {name: every host, getent: {database: hosts}}
    - {name: an address's fields, debug: {msg: "{{ getent_hosts['127.0.0.1'] }}"}}
    - {name: a service split on whitespace, getent: {database: services, key: http, service: files}}
    - {name: its fields, debug: {msg: "{{ getent_services.http }}"}}
    - {name: facts of two modules stay, debug: {msg: "{{ ansible_facts.keys() | sort }}"}}
    - {name: no such key, getent: {database: passwd, key: nosuchuser-titan}, ignore_errors: true}
    - {name: no such key allowed, getent: {database: passwd, key: nosuchuser-titan, fail_key: false}}
    - {name: the missing key, debug: {msg: "{{ getent_passwd }}"}}
    - {name: no such database, getent: {database: nosuchdb}, ignore_errors: true}
    - {name: in check mode, getent: {database: passwd, key: root}, check_mode: true}
"""
KEYS = ("changed", "msg", "ansible_facts")


def _results(side):
    return {name: (status, result) for name, status, result in side.tasks}


def test_getent_sets_the_fact_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    results = _results(play_titan(folder, tmp_path / "base", KEYS))
    root = "x:0:0:root:/root:/bin/bash".split(":")
    assert results["one user"] == ("ok", {"changed": False, "ansible_facts": {"getent_passwd": {"root": root}}})
    assert results["as a fact and a variable"][1]["msg"] == f"{root} {root}"
    assert results["registered"][1]["msg"] == {"getent_group": {"root": ["x", "0", ""]}}
    address = results["an address's fields"][1]["msg"]  # (a list of them per line when listed more than once)
    assert address and isinstance(address, list)
    assert results["its fields"][1]["msg"] == ["80/tcp", "www"]
    assert results["facts of two modules stay"][1]["msg"] == ["getent_group", "getent_hosts", "getent_passwd",
                                                             "getent_services"]
    assert results["no such key"] == ("failed", {"changed": False,
                                                 "msg": "One or more supplied key could not be found in the database."})
    status, allowed = results["no such key allowed"]
    assert status == "ok" and allowed["ansible_facts"] == {"getent_passwd": {"nosuchuser-titan": None}}
    assert results["the missing key"][1]["msg"] == {"nosuchuser-titan": None}
    assert results["no such database"][1]["msg"] == "Missing arguments, or database unknown."
    assert results["in check mode"] == results["one user"]


def test_a_name_listed_twice_holds_a_list_of_field_lists():
    assert entries("a 1\na 2 3\nb 4\n\n", None) == {"a": [["1"], ["2", "3"]], "b": ["4"]}
    assert entries("root:x:0:0\n", ":") == {"root": ["x", "0", "0"]}


def test_an_empty_split_is_refused_before_any_host_is_touched(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  tasks:\n    - getent: {database: passwd, split: ''}\n")
    with pytest.raises(PlaybookError, match="split"):
        load_playbook(playbook)


@pytest.mark.oracle
def test_getent_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
    assert ours.rc == theirs.rc
