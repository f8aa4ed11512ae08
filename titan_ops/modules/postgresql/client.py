"""Running PostgreSQL's client tools (psql, pg_dump, pg_restore) on a host.

The password never appears in a command line: every tool is started by a
small ``sh`` wrapper that reads the first line of its standard input into
``PGPASSWORD`` (exported to the tool only) and hands the rest of the input
to the tool. The connection settings go to the tool as its own options.
"""

from __future__ import annotations

import re
from typing import Any
from collections.abc import Sequence

from titan_ops.connection.base import CommandResult
from titan_ops.modules.base import HostContext

CONNECTION_PROPERTIES: dict[str, Any] = {
    "login_host": {"type": "string", "minLength": 1,
                   "description": "The server's host name or address, or the folder of its Unix socket; "
                                  "default: libpq's (`PGHOST`, else the local socket)."},
    "login_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5432,
                   "description": "The server's port."},
    "login_user": {"type": "string", "minLength": 1, "default": "postgres",
                   "description": "The role to connect as."},
    "login_password": {"type": "string",
                       "description": "The role's password. Given to the client tool as `PGPASSWORD` through its "
                                      "standard input, never on a command line; masked in every output."},
}

# $@ is the tool's command line; line 1 of stdin is the password (may be empty).
_PASSWORD_WRAPPER = ('IFS= read -r titan_ops_pw; if [ -n "$titan_ops_pw" ]; then PGPASSWORD=$titan_ops_pw; '
                     'export PGPASSWORD; fi; unset titan_ops_pw; ')
# For psql scripts: the rows (written by psql to /dev/fd/3) come out on stdout,
# psql's own output (command tags, \echo) on stderr with its errors.
_RUN = _PASSWORD_WRAPPER + 'exec "$@"'
_RUN_ROWS_ON_STDOUT = _PASSWORD_WRAPPER + 'exec "$@" 3>&1 1>&2'
_PSQL_LINE_PREFIX = re.compile(r"^psql:[^:]*:\d+: ", re.MULTILINE)
_SQLSTATE = re.compile(r"^(?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5}):", re.MULTILINE)


class PasswordError(ValueError):
    """A password that cannot be passed on one line."""


def connection_options(args: dict[str, Any]) -> list[str]:
    """libpq options of the client tools: host, port, user; ``-w``: never prompt for a password."""
    options = ["-w", "-p", str(args.get("login_port", 5432)), "-U", args.get("login_user", "postgres")]
    if args.get("login_host"):
        options += ["-h", args["login_host"]]
    return options


def run_tool(host: HostContext, argv: Sequence[str], args: dict[str, Any], stdin: str = "", *,
             rows_on_stdout: bool = False) -> CommandResult:
    """Run a client tool on the host with the task's password, as described above."""
    password = args.get("login_password") or ""
    if "\n" in password or "\r" in password:
        raise PasswordError("login_password must not hold a line break")
    wrapper = _RUN_ROWS_ON_STDOUT if rows_on_stdout else _RUN
    return host.run(["/bin/sh", "-c", wrapper, "sh", *argv], stdin=f"{password}\n{stdin}")


def error_text(stderr: str) -> str:
    """psql's or pg_dump's error, without psql's script line prefixes and server source locations."""
    lines = [_PSQL_LINE_PREFIX.sub("", line) for line in stderr.splitlines()]
    kept = [line.strip() for line in lines if line.strip() and not line.startswith("LOCATION:")]
    return " ".join(kept)


def sqlstate(stderr: str) -> str | None:
    """The SQLSTATE of the first error in psql's verbose output, if any."""
    match = _SQLSTATE.search(_PSQL_LINE_PREFIX.sub("", stderr))
    return match.group(1) if match else None
