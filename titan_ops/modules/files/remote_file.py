"""Reading a remote file's state with POSIX sh and coreutils: stat, checksum, content.

Each snippet prints exactly one line, so a module puts the snippets it needs
into one script, runs it as one remote command, and reads the lines back in
order. Paths are passed through shell variables set with quoted values.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
import stat as stat_flags
from dataclasses import dataclass
from typing import Any

from titan_ops.connection.base import CommandResult
from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import HostContext
from titan_ops.modules.files.modes import octal

GUESSED_UMASK = 0o022
"""The umask a guessed state assumes (the usual one); :data:`UMASK_TEST` checks it."""
UMASK_TEST = "case $(umask) in 0022|022) ;; *) false ;; esac"

MARK = "--titan-ops-result--"
"""Separates what a user command (``validate``) printed from a script's own lines."""

CHECKSUM_TOOLS = {"md5": "md5sum", "sha1": "sha1sum", "sha224": "sha224sum", "sha256": "sha256sum",
                  "sha384": "sha384sum", "sha512": "sha512sum"}
"""Ansible's ``checksum_algorithm`` names and the coreutils tool for each."""

STAT_FORMAT = "%f %u %g %s %.9X %.9Y %.9Z %i %d %h %b %o %t %T %U %G"
_KINDS = {
    stat_flags.S_IFREG: "file",
    stat_flags.S_IFDIR: "directory",
    stat_flags.S_IFLNK: "link",
    stat_flags.S_IFIFO: "fifo",
    stat_flags.S_IFSOCK: "socket",
    stat_flags.S_IFCHR: "char",
    stat_flags.S_IFBLK: "block",
}


class RemoteFileError(TitanOpsError):
    """A remote file operation failed (permission denied, no such directory, ...)."""


@dataclass(frozen=True)
class FileStat:
    """What ``stat`` says about one remote path."""

    st_mode: int
    uid: int
    gid: int
    size: int
    atime: float
    mtime: float
    ctime: float
    inode: int
    dev: int
    nlink: int
    blocks: int
    block_size: int
    rdev_major: int
    rdev_minor: int
    owner: str
    group: str

    @property
    def kind(self) -> str:
        """file, directory, link, fifo, socket, char or block."""
        return _KINDS.get(stat_flags.S_IFMT(self.st_mode), "unknown")

    @property
    def permissions(self) -> int:
        """The permission bits (with setuid, setgid and sticky)."""
        return self.st_mode & 0o7777

    def attributes(self) -> dict[str, Any]:
        """The fields Ansible's file modules report for a path: mode, owner, size, state..."""
        return {"mode": octal(self.permissions), "uid": self.uid, "gid": self.gid, "owner": self.owner,
                "group": self.group, "size": self.size, "state": "hard" if self._hard_linked else self.kind}

    @property
    def _hard_linked(self) -> bool:
        return self.kind == "file" and self.nlink > 1


def parse_stat(line: str) -> FileStat | None:
    """A :class:`FileStat` from a :func:`stat_line` output line; None when the path is absent."""
    if line == "-":
        return None
    fields = line.split(" ")
    try:
        return FileStat(
            st_mode=int(fields[0], 16), uid=int(fields[1]), gid=int(fields[2]), size=int(fields[3]),
            atime=float(fields[4]), mtime=float(fields[5]), ctime=float(fields[6]), inode=int(fields[7]),
            dev=int(fields[8]), nlink=int(fields[9]), blocks=int(fields[10]), block_size=int(fields[11]),
            rdev_major=int(fields[12], 16), rdev_minor=int(fields[13], 16),
            owner=fields[1] if fields[14] == "UNKNOWN" else fields[14],
            group=fields[2] if fields[15] == "UNKNOWN" else fields[15],
        )
    except (ValueError, IndexError):
        raise RemoteFileError(f"cannot stat the path (stat printed {line!r})") from None


def assign(**variables: str) -> str:
    """``name=value`` shell assignments, values quoted."""
    return "; ".join(f"{name}={shlex.quote(value)}" for name, value in variables.items())


def stat_line(var: str, *, follow: bool = False) -> str:
    """Snippet: one line of stat fields for path ``$var``, or ``-`` when it does not exist."""
    exists = f'[ -e "${var}" ]' if follow else f'{{ [ -e "${var}" ] || [ -L "${var}" ]; }}'
    return f"if {exists}; then {stat_command(var, follow=follow)} 2>/dev/null || echo '?'; else echo -; fi"


def stat_command(var: str, *, follow: bool = False) -> str:
    """Command: the stat fields of existing path ``$var`` (see :func:`parse_stat`)."""
    flag = "-L " if follow else ""
    return f"stat {flag}-c {shlex.quote(STAT_FORMAT)} -- \"${var}\""


def checksum_line(var: str, algorithm: str = "sha1") -> str:
    """Snippet: the checksum of regular file ``$var`` (also left in ``$h``), or ``-``."""
    tool = CHECKSUM_TOOLS[algorithm]
    return f'if [ -f "${var}" ] && h=$({tool} < "${var}" 2>/dev/null); then h="${{h%% *}}"; else h=-; fi; echo "$h"'


def content_line(var: str) -> str:
    """Snippet: ``+`` and the base64 of regular file ``$var``, or ``-`` (absent, unreadable...)."""
    return f'if [ -f "${var}" ] && [ -r "${var}" ]; then printf +; base64 -w0 < "${var}"; echo; else echo -; fi'


def last_line(lines: list[str]) -> str:
    """The last non-empty line of a script's output."""
    return next((line for line in reversed(lines) if line), "")


def parse_content(line: str) -> bytes | None:
    """The bytes of a :func:`content_line` line (None for ``-``)."""
    if not line.startswith("+"):
        return None
    return base64.b64decode(line[1:])


ACTED = "+"
"""The first line of an :func:`act_or_inspect_script` that acted (``-``: it inspected)."""


def act_or_inspect_script(test: str, act: str, inspect: str) -> str:
    """One script: ``act`` when shell ``test`` holds, else ``inspect``; its first line says which."""
    return f"if {test}; then echo {ACTED}\n{act}\nelse echo -\n{inspect}\nfi"


def run_script(host: HostContext, script: str, stdin: bytes | None = None) -> list[str]:
    """Run ``script`` as one remote command; its output lines. Raise RemoteFileError on failure."""
    return script_lines(host.run(script, stdin=stdin))


def script_lines(result: CommandResult) -> list[str]:
    """The output lines of a script's command; RemoteFileError if it failed."""
    if result.rc != 0:
        message = result.stderr.strip().splitlines()
        raise RemoteFileError(message[-1] if message else f"remote command failed with rc={result.rc}")
    return result.stdout.split("\n")


def sha1(data: bytes) -> str:
    """The hex SHA-1 of ``data`` (Ansible's ``checksum``)."""
    return hashlib.sha1(data).hexdigest()


def md5(data: bytes) -> str:
    """The hex MD5 of ``data`` (Ansible's ``md5sum``)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
