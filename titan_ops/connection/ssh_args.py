"""The OpenSSH options people put in ``ansible_ssh_common_args`` / ``ansible_ssh_extra_args``, with
their meaning for a paramiko connection.

Honoured: ``-o`` UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking (yes, no,
accept-new), ProxyCommand, ProxyJump (and ``-J``), Port (and ``-p``), User (and ``-l``), IdentityFile
(and ``-i``), IdentitiesOnly, ConnectTimeout, ServerAliveInterval, Compression (and ``-C``).
Accepted because they change nothing here: ControlMaster, ControlPersist, ControlPath (titan-ops keeps
one connection per host anyway), ServerAliveCountMax, BatchMode (titan-ops never prompts), LogLevel,
``-q``, ``-T``. Anything else is refused by name: a connection never silently means something else.
As in OpenSSH, the first value given for an option wins.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from titan_ops.errors import TitanOpsError

_IGNORED_OPTIONS = frozenset({"controlmaster", "controlpersist", "controlpath", "serveralivecountmax", "batchmode",
                              "loglevel"})
_IGNORED_FLAGS = frozenset({"-q", "-T"})
_FLAG_OPTIONS = {"-J": "ProxyJump", "-p": "Port", "-l": "User", "-i": "IdentityFile"}
_CHECKING = {"yes": "yes", "ask": "yes", "no": "no", "off": "no", "accept-new": "accept-new"}


@dataclass
class SshOptions:
    """What the options say (None: not given)."""

    jump_host: str | None = None
    proxy_command: str | None = None
    known_hosts_files: list[str] = field(default_factory=list)
    host_key_checking: str | None = None
    port: int | None = None
    user: str | None = None
    key_file: str | None = None
    identities_only: bool = False
    connect_timeout: float | None = None
    keepalive: int | None = None
    compress: bool = False


def parse_ssh_args(texts: list[str], where: str) -> SshOptions:
    """The options of ssh command-line arguments ``texts`` (in order; the first value of each wins);
    TitanOpsError naming ``where`` and the option for one titan-ops cannot honour."""
    values: dict[str, str] = {}
    for text in texts:
        for key, value in _options(shlex.split(text), where):
            if key.lower() not in {known.lower() for known in values}:
                values[key] = value
    options = SshOptions()
    for key, value in values.items():
        _apply(options, key, value, where)
    return options


def _options(arguments: list[str], where: str) -> list[tuple[str, str]]:
    """(option name, value) for each option in ``arguments``."""
    found = []
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        position += 1
        if argument in _IGNORED_FLAGS:
            continue
        if argument == "-C":
            found.append(("Compression", "yes"))
            continue
        flag = argument[:2]
        if flag != "-o" and flag not in _FLAG_OPTIONS:
            raise TitanOpsError(f"{where}: ssh argument '{argument}' is not supported by titan-ops")
        value = argument[2:]
        if not value:
            if position >= len(arguments):
                raise TitanOpsError(f"{where}: {argument} needs a value")
            value = arguments[position]
            position += 1
        if flag == "-o":
            key, _, option = value.strip().replace("=", " ", 1).partition(" ")
            found.append((key, option.strip()))
        else:
            found.append((_FLAG_OPTIONS[flag], value.strip()))
    return found


def _apply(options: SshOptions, name: str, value: str, where: str) -> None:
    key = name.lower()
    if key in _IGNORED_OPTIONS:
        return
    if key == "proxyjump":
        options.jump_host = None if value.lower() == "none" else value
    elif key == "proxycommand":
        options.proxy_command = None if value.lower() == "none" else value
    elif key in ("userknownhostsfile", "globalknownhostsfile"):
        options.known_hosts_files += value.split()
    elif key == "stricthostkeychecking":
        if value.lower() not in _CHECKING:
            raise TitanOpsError(f"{where}: StrictHostKeyChecking={value} is not one of yes, no, accept-new")
        options.host_key_checking = _CHECKING[value.lower()]
    elif key == "port":
        options.port = _number(value, name, where)
    elif key == "user":
        options.user = value
    elif key == "identityfile":
        options.key_file = value
    elif key == "identitiesonly":
        options.identities_only = _yes(value, name, where)
    elif key == "connecttimeout":
        options.connect_timeout = float(_number(value, name, where))
    elif key == "serveraliveinterval":
        options.keepalive = _number(value, name, where)
    elif key == "compression":
        options.compress = _yes(value, name, where)
    else:
        raise TitanOpsError(f"{where}: ssh option '{name}' is not supported by titan-ops")


def _number(value: str, key: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise TitanOpsError(f"{where}: ssh option {key}={value} is not a number") from None


def _yes(value: str, key: str, where: str) -> bool:
    if value.lower() not in ("yes", "no"):
        raise TitanOpsError(f"{where}: ssh option {key}={value} is not yes or no")
    return value.lower() == "yes"
