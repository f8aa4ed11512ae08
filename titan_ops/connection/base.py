"""The interface every connection implements: run a command, put and get files."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol
from collections.abc import Mapping, Sequence

import yaml

from titan_ops.connection.payload import Payload
from titan_ops.errors import TitanOpsError


Command = Sequence[str] | str
"""An argument list (quoted for the remote shell, so its items are data) or a
shell string run through ``/bin/sh -c``."""


@dataclass(frozen=True)
class InputOnRequest:
    """Input (``data``) a command receives only if it asks for it, by running :data:`REQUEST_INPUT`.

    A command that may turn out not to need its input (a write behind a test)
    then costs no transfer when it does not. Once it asks, it must read all of it.
    """

    data: Payload


REQUEST_INPUT = "printf '\\036titan-ops-input\\n' >&2"
"""Shell snippet: ask for the :class:`InputOnRequest` of the command."""
INPUT_REQUEST = b"\x1etitan-ops-input\n"
"""What :data:`REQUEST_INPUT` prints on stderr (removed from the command's stderr)."""


ENV_READER = 'while IFS= read -r titan_ops_var && [ -n "$titan_ops_var" ]; do export "$titan_ops_var"; done'
"""Shell snippet: export the ``NAME=value`` lines that come before a command's input, up to an empty line."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TransferError(TitanOpsError):
    """A ``put`` or ``get`` failed on the host (missing directory, permission denied, ...)."""


class CommandInterrupted(TitanOpsError):
    """The run was interrupted (Ctrl-C, SIGTERM) and the command was ended on the host."""


@dataclass(frozen=True)
class ConnectionOptions:
    """Run-wide connection settings, taken by every connection.

    ``host_key_checking`` is on by default: a host whose key is unknown or
    changed is unreachable. Turning it off is an explicit choice.
    """

    host_key_checking: bool = True
    connect_timeout: float = 10.0
    command_timeout: float | None = None
    known_hosts_files: tuple[str, ...] = ()
    ssh_config_file: str | None = None


class HostOutput(str):
    """What a command printed, as text (invalid UTF-8 replaced), keeping the bytes the host sent: the
    evidence bundle holds those, byte for byte."""

    __slots__ = ("raw",)
    raw: bytes

    def __new__(cls, raw: bytes, text: str | None = None) -> HostOutput:
        """``raw`` decoded, or ``text`` (what is shown of it, e.g. without its trailing newlines)."""
        made = super().__new__(cls, raw.decode("utf-8", errors="replace") if text is None else text)
        made.raw = raw
        return made

    def __reduce__(self) -> tuple:
        return HostOutput, (self.raw, str(self))


def _represent_host_output(dumper: yaml.SafeDumper, value: HostOutput) -> yaml.Node:
    return dumper.represent_str(str(value))


for _dumper in {yaml.SafeDumper, getattr(yaml, "CSafeDumper", yaml.SafeDumper)}:
    _dumper.add_representer(HostOutput, _represent_host_output)  # to_yaml of a command's output


@dataclass
class CommandResult:
    """What one remote command did."""

    rc: int
    stdout: HostOutput | str
    stderr: HostOutput | str
    start: datetime
    end: datetime
    command: str = ""


SESSION_DEFAULT = False
"""Whether an SSH host that does not say (``ansible_titan_session``) runs its commands through one shell session."""


@dataclass
class HostAddress:
    """How to reach one host, from its inventory variables."""

    name: str
    hostname: str
    port: int = 22
    user: str | None = None
    key_file: str | None = None
    password: str | None = field(default=None, repr=False)
    jump_host: str | None = None
    known_hosts_file: str | None = None
    connection: str = "ssh"
    become_method: str = "sudo"
    proxy_command: str | None = None
    """``-o ProxyCommand=``: the command whose input and output are the connection (%h, %p, %r expanded)."""
    host_key_checking: str | None = None
    """``-o StrictHostKeyChecking=``: ``yes``, ``no`` or ``accept-new``; None: the run's setting."""
    connect_timeout: float | None = None
    """``-o ConnectTimeout=``: this host's connect timeout; None: the run's."""
    keepalive: int | None = None
    """``-o ServerAliveInterval=``: seconds between keepalives on an idle connection."""
    compress: bool = False
    """``-C`` / ``-o Compression=yes``."""
    identities_only: bool = False
    """``-o IdentitiesOnly=yes``: only the key file given, not the agent's nor the default keys."""
    session: bool | None = None
    """``ansible_titan_session``: the host's commands go through one shell session
    (:mod:`titan_ops.connection.session`) instead of a channel each (SSH only); None: :data:`SESSION_DEFAULT`."""


class Connection(Protocol):
    """A live link to one host. Opened lazily; one per host per run."""

    address: HostAddress

    def run(
        self,
        command: Command,
        *,
        stdin: str | Payload | InputOnRequest | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        become: bool = False,
        become_user: str | None = None,
    ) -> CommandResult:
        """Run ``command``; raise HostUnreachable or CommandTimeout."""
        ...

    def put(self, data: Payload, remote_path: str, mode: int | None = None) -> None:
        """Write ``data`` (bytes, or a controller file streamed) to ``remote_path`` atomically: a temp
        file, its size checked, then a rename."""
        ...

    def get(self, remote_path: str) -> bytes:
        """Read a remote file."""
        ...

    def get_into(self, remote_path: str, sink: BinaryIO) -> None:
        """Write a remote file's content to ``sink`` as it arrives (memory bounded whatever its size)."""
        ...

    def interrupt(self) -> None:
        """End every command the link is running (an interrupted run); safe from any thread."""
        ...

    def close(self) -> None:
        """Close the link; safe to call twice."""
        ...


def environment_on_input(env: Mapping[str, str] | None) -> tuple[bytes, dict[str, str]]:
    """Split ``env`` into the lines a command reads with :data:`ENV_READER` before its input, which
    keeps the values out of the host's process list, and what must stay on its command line (a value
    holding a newline, a name that is no shell identifier)."""
    lines: list[str] = []
    inline: dict[str, str] = {}
    for name, value in (env or {}).items():
        text = str(value)
        if _IDENTIFIER.fullmatch(name) and "\n" not in text and "\0" not in text:
            lines.append(f"{name}={text}\n")
        else:
            inline[name] = text
    return ("".join(lines) + "\n").encode() if lines else b"", inline


def shell_line(
    command: Command,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    become: bool = False,
    become_user: str | None = None,
    reads_env: bool = False,
) -> str:
    """Build the one line handed to the remote shell.

    A list is quoted item by item, so a value holding spaces, quotes or ``;``
    stays data. A string is run by ``/bin/sh -c`` as the shell module expects.
    ``env`` goes on the line; with ``reads_env`` the line first reads more of
    it from its input (see :func:`environment_on_input`).
    """
    body = shlex.join(list(command)) if not isinstance(command, str) else f"/bin/sh -c {shlex.quote(command)}"
    if env:
        assignments = " ".join(f"{name}={shlex.quote(str(value))}" for name, value in env.items())
        body = f"env {assignments} {body}"
    if cwd:
        body = f"cd {shlex.quote(cwd)} && {body}"
    if reads_env:
        body = f"{ENV_READER}; {body}"
    if become:
        user = shlex.quote(become_user or "root")
        body = f"sudo -n -H -u {user} /bin/sh -c {shlex.quote(body)}"
    return body
