"""The OpenSSH options of ansible_ssh_common_args / ansible_ssh_extra_args honoured on the lab's real sshd:
ProxyCommand, StrictHostKeyChecking, UserKnownHostsFile, ServerAliveInterval; and an option titan-ops
cannot honour refused before any host is touched."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.connection import ConnectionOptions, ConnectionPool
from titan_ops.connection.address import address_from_vars
from titan_ops.errors import HostUnreachable, InventoryError
from tests.test_connection_ssh import accepted_logins

STRICT = ConnectionOptions(command_timeout=30)


def _vars(lab, name: str, **extra: str) -> dict:
    host = lab.host(name)
    return {"ansible_host": "127.0.0.1", "ansible_port": host.port, "ansible_user": "root",
            "ansible_ssh_private_key_file": str(lab.client_key_path), **extra}


def _hostname(address) -> str:
    pool = ConnectionPool(STRICT)
    try:
        return pool.get(address).run(["hostname"]).stdout.strip()
    finally:
        pool.close_all()


def test_proxy_command_goes_through_the_command(lab):
    bastion = lab.host("lab3")
    proxy = shlex.join(["ssh", "-i", str(lab.client_key_path), "-o", f"UserKnownHostsFile={lab.known_hosts_path}",
                        "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", str(bastion.port),
                        "root@127.0.0.1", "-W", "%h:%p"])
    address = address_from_vars("lab1", _vars(lab, "lab1", ansible_ssh_common_args=shlex.join([
        "-o", f"ProxyCommand={proxy}", "-o", f"UserKnownHostsFile={lab.known_hosts_path}"])))
    before = accepted_logins(lab, "lab3")
    assert _hostname(address) == "lab1"
    assert accepted_logins(lab, "lab3") == before + 1


def test_host_key_checking_options(lab, tmp_path: Path):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    strict = address_from_vars("lab1", _vars(lab, "lab1", ansible_ssh_common_args=f"-o UserKnownHostsFile={empty}"))
    with pytest.raises(HostUnreachable, match="UNKNOWN"):
        _hostname(strict)
    for setting in ("no", "accept-new"):
        relaxed = dataclasses.replace(address_from_vars("lab1", _vars(lab, "lab1", ansible_ssh_common_args=(
            f"-o UserKnownHostsFile={empty} -o StrictHostKeyChecking={setting}"))), name=f"lab1-{setting}")
        assert _hostname(relaxed) == "lab1"
    assert empty.read_text() == ""  # nothing is written to known_hosts
    wrong = tmp_path / "wrong_known_hosts"  # lab2's key written down for lab1's port: a changed key
    lab1_name = f"[127.0.0.1]:{lab.host('lab1').port}"
    lab2_key = next(line.split(" ", 1)[1] for line in lab.known_hosts_path.read_text().splitlines()
                    if line.startswith(f"[127.0.0.1]:{lab.host('lab2').port} "))
    wrong.write_text(f"{lab1_name} {lab2_key}\n")
    changed = address_from_vars("lab1", _vars(lab, "lab1", ansible_ssh_common_args=(
        f"-o UserKnownHostsFile={wrong} -o StrictHostKeyChecking=accept-new")))
    with pytest.raises(HostUnreachable, match="CHANGED"):
        _hostname(changed)
    trusted = address_from_vars("lab1", _vars(lab, "lab1", ansible_ssh_common_args=(
        f"-o UserKnownHostsFile={lab.known_hosts_path} -o ServerAliveInterval=15")))
    pool = ConnectionPool(STRICT)
    try:
        connection = pool.get(trusted)
        assert connection.run(["hostname"]).stdout == "lab1\n"
        assert connection.transport.packetizer._Packetizer__keepalive_interval == 15  # what paramiko was told
    finally:
        pool.close_all()


def test_an_option_that_cannot_be_honoured_is_refused_before_any_host_is_touched(lab, tmp_path: Path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {
        "lab1": {**_vars(lab, "lab1"), "ansible_ssh_known_hosts_file": str(lab.known_hosts_path),
                 "ansible_ssh_extra_args": "-o Ciphers=aes128-ctr"}}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks: [{command: hostname}]\n")
    before = accepted_logins(lab, "lab1")
    with pytest.raises(InventoryError, match="lab1: ansible_ssh_extra_args: ssh option 'Ciphers' is not supported"):
        titan_ops.run(playbook, inventory)
    assert accepted_logins(lab, "lab1") == before
