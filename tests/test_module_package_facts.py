"""``package_facts`` on the local connection (this Debian machine's dpkg), and against ansible-core."""

from __future__ import annotations

import subprocess

import pytest

import titan_ops
from tests.local_oracle import play_ansible, play_titan, project
from titan_ops.modules.packages.facts import apt_packages

SOME = ["bash", "libc6", "tzdata", "coreutils", "dpkg"]
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: read, package_facts: {}, register: got}
    - name: some packages
      debug: {msg: "{{ dict(some | zip(some | map('extract', got.ansible_facts.packages))) }}"}
      vars: {some: %s}
    - {name: as a fact and a variable, debug: {msg: "{{ ansible_facts.packages.bash == packages.bash }}"}}
    - {name: every name, debug: {msg: "{{ packages.keys() | list }}"}}
    - {name: no usable manager, package_facts: {manager: [rpm, apk]}, ignore_errors: true}
""" % SOME
AGAIN = """
    - {name: apt asked for by name, package_facts: {manager: "rpm,apt", strategy: all}, check_mode: true}
    - {name: the same, debug: {msg: "{{ ansible_facts.packages.bash == got.ansible_facts.packages.bash }}"}}
"""
KEYS = ("changed", "msg")


def _installed(package: str) -> tuple[str, str]:
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}\t${Architecture}", package],
                          capture_output=True, text=True, check=True)
    version, arch = done.stdout.split("\t")
    return version, arch


def test_package_facts_lists_dpkg_packages_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK)
    results = {name: (status, result) for name, status, result in play_titan(folder, tmp_path / "base", KEYS).tasks}
    some = results["some packages"][1]["msg"]
    for package in SOME:
        version, arch = _installed(package)
        [entry] = some[package]
        assert entry["name"] == package and entry["version"] == version and entry["arch"] == arch
        assert entry["source"] == "apt" and set(entry) == {"name", "version", "arch", "category", "origin", "source"}
    assert some["bash"][0]["category"] == "shells"
    assert results["as a fact and a variable"][1]["msg"] is True
    listed = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Package}\n"], capture_output=True,
                            text=True).stdout.splitlines()  # (other tests may install packages meanwhile)
    assert {line[3:] for line in listed if line[1] == "i"} <= set(results["every name"][1]["msg"])
    assert results["no usable manager"] == ("failed", {"changed": False, "msg": (
        "Could not detect a supported package manager from the following list: ['rpm', 'apk'], or the required "
        "Python library is not installed. Check warnings for details.")})


PROBE_OUTPUT = """amd64
ii \tbash\t5.2\tamd64\tshells
ii \tlibc6\t2.36\tamd64\tlibs
ii \tlibc6\t2.36\ti386\tlibs
rc \tgone\t1.0\tamd64\tutils
ii \ttzdata\t2025b\tall\tlocalization
--titan-origins--
Package files:
 100 /var/lib/dpkg/status
     release a=now
 500 http://deb.example/debian bookworm/main amd64 Packages
     release v=12,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64
     origin deb.example
--titan-installed--
bash:
  Installed: 5.2
  Version table:
     5.3 500
        500 http://deb.example/debian bookworm/main amd64 Packages
 *** 5.2 100
        100 /var/lib/dpkg/status
libc6:
  Installed: 2.36
  Version table:
 *** 2.36 500
        500 http://deb.example/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
--titan-sections--
bash\tshells
libc6\toldlibs
"""


def test_the_probe_output_becomes_ansible_structure():
    packages = apt_packages(PROBE_OUTPUT)
    assert sorted(packages) == ["bash", "libc6", "libc6:i386", "tzdata"]  # config files only: not installed
    assert packages["bash"] == [{"name": "bash", "version": "5.2", "arch": "amd64", "category": "shells",
                                 "origin": "", "source": "apt"}]  # only dpkg's status file has 5.2
    assert packages["libc6"][0]["origin"] == "Debian" and packages["libc6"][0]["category"] == "oldlibs"
    assert packages["libc6:i386"][0]["category"] == "libs" and packages["tzdata"][0]["arch"] == "all"
    assert apt_packages("") == {}


def test_an_unknown_manager_is_refused_before_the_run(tmp_path):
    folder = tmp_path / "project"
    play, inventory = project(folder, "- hosts: all\n  tasks:\n    - package_facts: {manager: dpkg}\n")
    with pytest.raises(titan_ops.PlaybookError, match="dpkg"):
        titan_ops.load_playbook(play)
    assert inventory.exists()


@pytest.mark.oracle
def test_package_facts_match_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, PLAYBOOK + AGAIN)
    theirs = play_ansible(folder, tmp_path / "ansible", KEYS)
    ours = play_titan(folder, tmp_path / "titan", KEYS)
    assert [task for task in ours.tasks if task[0] != "every name"] == [
        task for task in theirs.tasks if task[0] != "every name"]  # other tests may install packages meanwhile
    assert ours.rc == theirs.rc and ours.tasks[-1][2]["msg"] is True
