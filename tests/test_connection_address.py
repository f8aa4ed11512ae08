"""Ansible connection variables -> HostAddress; choosing and pooling connections."""

from __future__ import annotations

import threading

import pytest

from titan_ops.connection import (
    ConnectionOptions, ConnectionPool, HostAddress, LocalConnection, SSHConnection, address_from_vars,
    open_connection,
)
from titan_ops.errors import TitanOpsError


def test_ansible_variables_map_to_the_address():
    address = address_from_vars("db1", {
        "ansible_host": "10.0.0.5", "ansible_port": "2222", "ansible_user": "ops",
        "ansible_ssh_private_key_file": "~/.ssh/ops", "ansible_ssh_pass": "s3cret",
        "ansible_ssh_known_hosts_file": "/etc/titan/known_hosts", "ansible_become_method": "su",
    })
    assert address == HostAddress(
        name="db1", hostname="10.0.0.5", port=2222, user="ops", key_file="~/.ssh/ops", password="s3cret",
        known_hosts_file="/etc/titan/known_hosts", become_method="su",
    )
    assert "s3cret" not in repr(address)


def test_defaults():
    assert address_from_vars("web1", {}) == HostAddress(name="web1", hostname="web1")


@pytest.mark.parametrize("arguments", [
    "-J ops@bastion:2200", "-Jops@bastion:2200", "-o ProxyJump=ops@bastion:2200",
    "-oProxyJump=ops@bastion:2200", "-o 'ProxyJump ops@bastion:2200'",
])
def test_jump_host_from_ssh_args(arguments):
    for variable in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        assert address_from_vars("db1", {variable: arguments}).jump_host == "ops@bastion:2200"


@pytest.mark.parametrize("arguments, named", [
    ("-o StrictHostKeyChecking=no", "StrictHostKeyChecking"),
    ("-C", "-C"),
    ("-J", "-J needs a value"),
])
def test_other_ssh_args_are_rejected_by_name(arguments, named):
    with pytest.raises(TitanOpsError, match=named):
        address_from_vars("db1", {"ansible_ssh_common_args": arguments})


def test_connection_types():
    assert address_from_vars("c", {"ansible_connection": "local"}).connection == "local"
    assert address_from_vars("c", {"ansible_connection": "paramiko"}).connection == "ssh"
    with pytest.raises(TitanOpsError, match="'winrm' is not supported"):
        address_from_vars("c", {"ansible_connection": "winrm"})
    with pytest.raises(TitanOpsError, match="ansible_port 'ssh' is not a number"):
        address_from_vars("c", {"ansible_port": "ssh"})


def test_open_connection_chooses_by_type():
    assert isinstance(open_connection(HostAddress("a", "a", connection="local")), LocalConnection)
    assert isinstance(open_connection(HostAddress("b", "b")), SSHConnection)


def test_pool_keeps_one_connection_per_host_and_closes_from_any_thread():
    pool = ConnectionPool(ConnectionOptions())
    first = pool.get(HostAddress("a", "a", connection="local"))
    assert pool.get(HostAddress("a", "a", connection="local")) is first
    assert pool.get(HostAddress("b", "b")) is not first
    closer = threading.Thread(target=pool.close_all)
    closer.start()
    closer.join()
    pool.close_all()
    assert pool.get(HostAddress("a", "a", connection="local")) is not first
