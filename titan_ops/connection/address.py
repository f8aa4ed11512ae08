"""From a host's Ansible variables to a HostAddress."""

from __future__ import annotations

import shlex
from typing import Any
from collections.abc import Mapping

from titan_ops.connection.base import HostAddress
from titan_ops.errors import TitanOpsError

CONNECTION_TYPES = {"ssh": "ssh", "paramiko": "ssh", "smart": "ssh", "local": "local"}
SSH_ARGS_VARIABLES = ("ansible_ssh_common_args", "ansible_ssh_extra_args")


def address_from_vars(name: str, hostvars: Mapping[str, Any]) -> HostAddress:
    """Map Ansible's connection variables (ansible_host, ansible_port, ansible_user, ...) to a HostAddress.

    The jump host comes from ``-J`` or ``-o ProxyJump=`` in ansible_ssh_common_args or
    ansible_ssh_extra_args; any other ssh option there is rejected by name.
    """
    kind = str(hostvars.get("ansible_connection", "ssh"))
    if kind not in CONNECTION_TYPES:
        raise TitanOpsError(f"{name}: ansible_connection '{kind}' is not supported (use ssh or local)")
    port = hostvars.get("ansible_port", 22)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise TitanOpsError(f"{name}: ansible_port '{port}' is not a number") from None
    return HostAddress(
        name=name,
        hostname=str(hostvars.get("ansible_host", name)),
        port=port,
        user=_optional(hostvars, "ansible_user", "ansible_ssh_user"),
        key_file=_optional(hostvars, "ansible_ssh_private_key_file", "ansible_private_key_file"),
        password=_optional(hostvars, "ansible_password", "ansible_ssh_pass", "ansible_ssh_password"),
        jump_host=_jump_host(name, hostvars),
        known_hosts_file=_optional(hostvars, "ansible_ssh_known_hosts_file"),
        connection=CONNECTION_TYPES[kind],
        become_method=str(hostvars.get("ansible_become_method", "sudo")),
    )


def _optional(hostvars: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = hostvars.get(name)
        if value is not None and value != "":
            return str(value)
    return None


def _jump_host(name: str, hostvars: Mapping[str, Any]) -> str | None:
    jump = None
    for variable in SSH_ARGS_VARIABLES:
        arguments = shlex.split(str(hostvars.get(variable) or ""))
        found = _parse_ssh_args(arguments, f"{name}: {variable}")
        jump = found or jump
    return jump


def _parse_ssh_args(arguments: list[str], where: str) -> str | None:
    """The ProxyJump value in ssh command-line ``arguments``; reject anything else."""
    jump = None
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        if argument in ("-J", "-o"):
            if position + 1 >= len(arguments):
                raise TitanOpsError(f"{where}: {argument} needs a value")
            flag, value = argument, arguments[position + 1]
            position += 2
        elif argument.startswith(("-J", "-o")):
            flag, value = argument[:2], argument[2:]
            position += 1
        else:
            raise TitanOpsError(f"{where}: ssh argument '{argument}' is not supported (only -J and -o ProxyJump=)")
        if flag == "-o":
            key, _, option = value.replace(" ", "=", 1).partition("=")
            if key.lower() != "proxyjump":
                raise TitanOpsError(f"{where}: ssh option '{key}' is not supported (only ProxyJump)")
            value = option
        jump = value.strip()
    return jump
