"""From a host's Ansible variables to a HostAddress."""

from __future__ import annotations

import ipaddress
from typing import Any
from collections.abc import Mapping

from titan_ops.config import boolean
from titan_ops.connection.base import HostAddress
from titan_ops.connection.ssh_args import SshOptions, parse_ssh_args
from titan_ops.errors import TitanOpsError

_PLUGINS = {"ssh": "ssh", "paramiko_ssh": "ssh", "local": "local", "psrp": None, "winrm": None}
"""ansible-core 2.19's connection plugins, each with the kind of connection titan-ops makes by it (None: none)."""
_NAMES = {**_PLUGINS, "paramiko": "ssh", "smart": "ssh",  # (short names ansible-core takes too), and the long ones
          **{f"ansible.{collection}.{plugin}": kind for collection in ("builtin", "legacy")
             for plugin, kind in _PLUGINS.items()}}
ANSIBLE_CONNECTION_PLUGINS = frozenset(_NAMES)
"""Every name of a connection plugin ansible-core 2.19 has."""
CONNECTION_TYPES = {name: kind for name, kind in _NAMES.items() if kind is not None}
"""The connection plugins titan-ops connects by, with the kind of connection each is here."""
SSH_ARGS_VARIABLES = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")
SESSION_VARIABLE = "ansible_titan_session"
"""Whether a host's commands go through one shell session (see titan_ops.connection.session); a run's
``session`` option sets it for the hosts that do not."""


def address_from_vars(name: str, hostvars: Mapping[str, Any]) -> HostAddress:
    """Map Ansible's connection variables (ansible_host, ansible_port, ansible_user, ...; their older names
    ansible_ssh_host, ansible_ssh_port, ansible_ssh_user too, which win when both are set, as in ansible-core's
    ssh plugin) to a HostAddress. A local connection reads no other variable than ansible_become_method.

    The OpenSSH options of ansible_ssh_args (ansible.cfg's ssh_args), ansible_ssh_common_args and
    ansible_ssh_extra_args are honoured as
    :mod:`titan_ops.connection.ssh_args` describes (one it cannot honour is refused by name); the
    ansible_* variables win over them, as they do in ansible-playbook's ssh command.
    """
    kind = str(hostvars.get("ansible_connection", "ssh"))
    if kind not in CONNECTION_TYPES:
        raise TitanOpsError(f"{name}: ansible_connection '{kind}' is not supported (use ssh or local)")
    become_method = str(hostvars.get("ansible_become_method", "sudo"))
    if CONNECTION_TYPES[kind] == "local":  # (as ansible's local plugin: no login, address nor ssh option read)
        return HostAddress(name=name, hostname=name, connection="local", become_method=become_method)
    options = ssh_options(name, hostvars)
    port = _optional(hostvars, "ansible_ssh_port", "ansible_port") or options.port or 22
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise TitanOpsError(f"{name}: ansible_port '{port}' is not a number") from None
    known_hosts = _optional(hostvars, "ansible_ssh_known_hosts_file")
    return HostAddress(
        name=name,
        hostname=_optional(hostvars, "ansible_ssh_host", "ansible_host") or name,
        port=port,
        user=_optional(hostvars, "ansible_ssh_user", "ansible_user") or options.user,
        key_file=_optional(hostvars, "ansible_ssh_private_key_file", "ansible_private_key_file") or options.key_file,
        password=_optional(hostvars, "ansible_ssh_password", "ansible_ssh_pass", "ansible_password"),
        jump_host=options.jump_host,
        known_hosts_file=known_hosts or (options.known_hosts_files[0] if options.known_hosts_files else None),
        connection=CONNECTION_TYPES[kind],
        become_method=become_method,
        proxy_command=options.proxy_command,
        host_key_checking=options.host_key_checking,
        connect_timeout=options.connect_timeout,
        keepalive=options.keepalive,
        compress=options.compress,
        identities_only=options.identities_only,
        session=_session(name, hostvars.get(SESSION_VARIABLE)),
    )


def _session(name: str, value: Any) -> bool | None:
    if value is None:
        return None
    try:
        return boolean(str(value))
    except ValueError:
        raise TitanOpsError(f"{name}: {SESSION_VARIABLE} '{value}' is not a boolean (true or false)") from None


def ssh_options(name: str, hostvars: Mapping[str, Any]) -> SshOptions:
    """The options of the host's ansible_ssh_args, ansible_ssh_common_args and ansible_ssh_extra_args (in
    that order: the first value of an option wins)."""
    texts = [str(hostvars.get(variable) or "") for variable in SSH_ARGS_VARIABLES]
    where = f"{name}: {' / '.join(variable for variable in SSH_ARGS_VARIABLES if hostvars.get(variable))}"
    try:
        return parse_ssh_args(texts, where)
    except TitanOpsError as error:
        raise SshArgsError(error.message) from None


class SshArgsError(TitanOpsError):
    """ssh options titan-ops cannot honour: refused before the run for the inventory's; a connection that
    cannot be made as asked (unreachable) for those a task's variables give at run time."""


def is_address(name: str) -> bool:
    """Whether ``name`` is an IP address (``[v6]`` brackets allowed): connecting to it needs no name lookup."""
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
    except ValueError:
        return False
    return True


def _optional(hostvars: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` set (not None nor empty), as a string."""
    for name in names:
        value = hostvars.get(name)
        if value is not None and value != "":
            return str(value)
    return None
