"""``getent`` on the local connection, and against ansible-core."""

from __future__ import annotations

import pytest

from tests.local_oracle import play_ansible, play_titan, project

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: one user, getent: {database: passwd, key: root}}
    - {name: as a fact and a variable, debug: {msg: "{{ ansible_facts.getent_passwd.root }} {{ getent_passwd.root }}"}}
    - {name: one group split, getent: {database: group, key: root, split: ':'}, register: got}
    - {name: registered, debug: {msg: "{{ got.ansible_facts }}"}}
    - {name: every host, getent: {database: hosts}}
    - {name: an address listed twice holds a list, debug: {msg: "{{ getent_hosts['127.0.0.1'] | length > 0 }}"}}
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
    assert results["an address listed twice holds a list"][1]["msg"] is True
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


@pytest.mark.oracle
def test_getent_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert ours.tasks == theirs.tasks
    assert ours.rc == theirs.rc
