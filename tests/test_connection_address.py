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


def test_the_older_names_of_host_and_port():
    """ansible_ssh_host and ansible_ssh_port (ansible-core's targets still use them): the address is never
    the inventory name looked up in the DNS."""
    address = address_from_vars("testhost3", {"ansible_ssh_host": "127.0.0.3", "ansible_ssh_port": "2200"})
    assert (address.hostname, address.port) == ("127.0.0.3", 2200)


def test_the_older_names_win_as_in_ansibles_ssh_plugin():
    """ansible-core's ssh plugin reads ansible_ssh_host after ansible_host (the last one set wins), and so
    for the port, the user and the password: a task's ansible_host (its default, the inventory name, too)
    does not hide the inventory's ansible_ssh_host."""
    address = address_from_vars("testhost3", {
        "ansible_host": "testhost3", "ansible_ssh_host": "127.0.0.3", "ansible_port": 22, "ansible_ssh_port": 2200,
        "ansible_user": "ops", "ansible_ssh_user": "admin", "ansible_password": "a", "ansible_ssh_pass": "b"})
    assert (address.hostname, address.port, address.user, address.password) == ("127.0.0.3", 2200, "admin", "b")


def test_a_local_connection_reads_no_login_variable():
    """As ansible's local plugin: nothing of a login is read (a value that is not even a port is no error)."""
    address = address_from_vars("c", {"ansible_connection": "local", "ansible_port": "not a port",
                                      "ansible_ssh_common_args": "-o NoSuchOption=yes", "ansible_user": "ops"})
    assert address == HostAddress(name="c", hostname="c", connection="local")


def test_defaults():
    assert address_from_vars("web1", {}) == HostAddress(name="web1", hostname="web1")


@pytest.mark.parametrize("arguments", [
    "-J ops@bastion:2200", "-Jops@bastion:2200", "-o ProxyJump=ops@bastion:2200",
    "-oProxyJump=ops@bastion:2200", "-o 'ProxyJump ops@bastion:2200'",
])
def test_jump_host_from_ssh_args(arguments):
    for variable in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        assert address_from_vars("db1", {variable: arguments}).jump_host == "ops@bastion:2200"


def test_the_openssh_options_people_use_are_honoured():
    address = address_from_vars("db1", {
        "ansible_ssh_common_args": "-o UserKnownHostsFile=/etc/titan/known_hosts -o StrictHostKeyChecking=accept-new "
                                   "-o 'ProxyCommand=ssh -W %h:%p bastion' -o Port=2222 -o ConnectTimeout=4 "
                                   "-o ServerAliveInterval=30 -o ServerAliveCountMax=3 -o ControlMaster=auto "
                                   "-o ControlPersist=60s -C -o User=ops -i /keys/db -o IdentitiesOnly=yes",
        "ansible_ssh_extra_args": "-o Port=2200 -o StrictHostKeyChecking=no"})  # the first value wins
    assert (address.known_hosts_file, address.host_key_checking, address.proxy_command, address.port,
            address.connect_timeout, address.keepalive, address.compress, address.user, address.key_file,
            address.identities_only) == ("/etc/titan/known_hosts", "accept-new", "ssh -W %h:%p bastion", 2222, 4.0,
                                         30, True, "ops", "/keys/db", True)
    variables = address_from_vars("db1", {"ansible_ssh_common_args": "-p 2222 -l ops", "ansible_port": 22,
                                          "ansible_user": "deploy", "ansible_ssh_known_hosts_file": "/k"})
    assert (variables.port, variables.user) == (22, "deploy")  # the ansible_* variables win
    assert address_from_vars("db1", {"ansible_ssh_common_args": "-o StrictHostKeyChecking=off"}).host_key_checking \
        == "no"


@pytest.mark.parametrize("arguments, named", [
    ("-o Ciphers=aes128-ctr", "ssh option 'Ciphers' is not supported by titan-ops"),
    ("-o ForwardAgent=yes", "ssh option 'ForwardAgent' is not supported"),
    ("-4", "ssh argument '-4' is not supported"),
    ("-o StrictHostKeyChecking=maybe", "StrictHostKeyChecking=maybe is not one of"),
    ("-o ConnectTimeout=soon", "ConnectTimeout=soon is not a number"),
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
