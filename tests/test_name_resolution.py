"""Names that resolve outside (issue 12 §6): validation looks no name up, a ``delegate_to`` the inventory
does not know (and that is no address) is an error rather than a DNS lookup, and the suite's own guard
refuses lookups of non-local names (tests/no_dns_site, installed by tests/conftest.py)."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

import titan_ops
import titan_ops_no_dns
from titan_ops import cli
from titan_ops.connection.address import is_address
from titan_ops.engine.results import Status

INVENTORY = """
all:
  hosts:
    db1.titan.internal:
    web1: {ansible_host: web1.example.invalid}
    here: {ansible_connection: local}
  children:
    databases:
      hosts:
        db1.titan.internal:
"""

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: on the primary
      command: echo one
      delegate_to: db-primary.example.invalid
    - debug: {msg: "{{ inventory_hostname }}"}
      delegate_to: "{{ groups['databases'][0] }}"
"""


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name lookup made while the test runs (local names too), each refused."""
    made: list[str] = []

    def refuse(name: str):
        def lookup(host, *args, **kwargs):
            made.append(f"{name}({host})")
            raise socket.gaierror(socket.EAI_NONAME, "no lookups here")
        return lookup

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, refuse(name))
    monkeypatch.setattr(socket, "getfqdn", lambda name="": made.append(f"getfqdn({name})") or name)
    return made


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "inventory.yml").write_text(textwrap.dedent(INVENTORY))
    (tmp_path / "playbook.yml").write_text(textwrap.dedent(PLAYBOOK))
    return tmp_path / "playbook.yml", tmp_path / "inventory.yml"


def test_validation_and_the_inventory_look_no_name_up(files, lookups, capsys):
    playbook, inventory = files
    assert cli.main(["validate", str(playbook)]) == 0
    for action in (["--list"], ["--graph"], ["--host", "web1"], ["--list-hosts"]):
        assert cli.main(["inventory", "-i", str(inventory), *action]) == 0
    assert lookups == []


def test_bad_input_is_refused_before_any_lookup(files, lookups, capsys):
    playbook, inventory = files
    playbook.write_text(playbook.read_text() + "    - command: {no_such_argument: 1}\n")
    assert cli.main(["run", str(playbook), "-i", str(inventory)]) == 5
    assert "no_such_argument" in capsys.readouterr().err
    assert lookups == []


def test_a_delegate_to_the_inventory_lacks_is_an_error_not_a_lookup(files, lookups):
    playbook, inventory = files
    result = titan_ops.run(playbook, inventory, limit="here")
    [first] = result.host_results("here")  # the host failed: the next task does not run
    assert first.status is Status.FAILED
    assert "delegate_to 'db-primary.example.invalid' is neither an inventory host nor an address" in first.msg
    assert result.exit_code == 2
    assert lookups == []


def test_a_delegate_to_an_inventory_host_goes_through_its_address(tmp_path, lookups):
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    here: {ansible_connection: local}\n"
                                            "    primary: {ansible_connection: local}\n")
    (tmp_path / "playbook.yml").write_text("- hosts: here\n  gather_facts: false\n  tasks:\n"
                                           "    - command: echo delegated\n      delegate_to: primary\n")
    result = titan_ops.run(tmp_path / "playbook.yml", tmp_path / "inventory.yml")
    assert result.exit_code == 0 and result.host_results("here")[0].result["stdout"] == "delegated"
    assert lookups == []


@pytest.mark.parametrize("name, address", [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("10.0.0.5", True),
                                           ("db1", False), ("db1.titan.internal", False), ("localhost", False),
                                           ("[db1]", False), ("", False)])
def test_is_address(name, address):
    assert is_address(name) is address


def test_the_suite_refuses_lookups_of_non_local_names(monkeypatch):
    """The guard this suite runs under (a test that looks a non-local name up fails)."""
    monkeypatch.delenv(titan_ops_no_dns.LOG_VARIABLE)  # this lookup is on purpose: not to the log
    try:
        with pytest.raises(socket.gaierror, match="not looked up"):
            socket.getaddrinfo("titan-ops-guard-check.example", 22)
        assert titan_ops_no_dns.refused == ["titan-ops-guard-check.example"]
    finally:
        titan_ops_no_dns.refused.clear()
    assert socket.getaddrinfo("127.0.0.1", 22) and socket.getaddrinfo("localhost", 22)
