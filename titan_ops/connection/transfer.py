"""Temp files beside a target, on the host (shell snippets) and on the controller (Python).

A write goes to ``.NAME.titan-ops-PID-RANDOM`` in the target's folder (one
filesystem, so the final rename is atomic), created 0600, PID being the
writer's process. A write that fails or is interrupted removes its temp file;
one whose writer was killed outright (SIGKILL, a crash) is removed by the next
write of the same path, which removes every temp file of that path whose
writer is gone.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import shlex
from collections.abc import Iterator
from typing import BinaryIO

from titan_ops.connection.payload import Payload, size_of

MARK = ".titan-ops-"
"""What separates a temp file's target name from its writer's pid."""

STALE_REMOVAL = (
    'for stale in "$prefix"*; do writer=${stale##*' + MARK + '}; writer=${writer%%-*}; '
    'case $writer in ""|*[!0-9]*) continue ;; esac; '
    '[ -d "/proc/$writer" ] || kill -0 "$writer" 2>/dev/null || rm -f -- "$stale"; done'
)
"""Shell: remove the temp files named ``$prefix*`` whose writer (the pid in the name) is gone."""


def temp_prefix(path: str) -> str:
    """The start of every temp file name of ``path``: ``FOLDER/.NAME.titan-ops-``."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}{MARK}")


def temp_file(path: str) -> str:
    """Shell (one command, true): remove the temp files of ``path`` left by dead writers, set ``$t`` to a
    new one's name (this shell's pid in it), and remove ``$t`` if the shell is interrupted (HUP, INT,
    PIPE, TERM)."""
    return (f"{{ prefix={shlex.quote(temp_prefix(path))}; {STALE_REMOVAL}; t=\"$prefix$$-{secrets.token_hex(6)}\"; "
            "trap 'rm -f -- \"$t\"; exit 129' HUP INT PIPE TERM; }")


def size_check(size: int, actual: str = '$(wc -c < "$t")') -> str:
    """Shell: true when ``$t`` holds exactly ``size`` bytes (``actual``: a shell word giving its size),
    else a message and false (the input ended early: the controller died, or the source changed)."""
    return (f'{{ [ "{actual}" -eq {size} ] || '
            '{ echo "the content arrived incomplete (size mismatch)" >&2; false; }; }')


def put_line(path: str, mode: int | None, payload: Payload) -> str:
    """Shell line: stdin -> temp file (0600) -> size check -> permissions -> ``mv -f`` onto ``path``.

    With ``mode`` None a replaced file keeps its mode and owner; a new file gets 0644.
    """
    target = shlex.quote(path)
    if mode is not None:
        permissions = f'chmod {mode & 0o7777:o} "$t"'
    else:
        permissions = (
            f'{{ if [ -e {target} ]; then chmod --reference={target} "$t" && '
            f'{{ chown --reference={target} "$t" 2>/dev/null || :; }}; else chmod 644 "$t"; fi; }}'
        )
    return (
        f"{temp_file(path)}; "
        f'{{ (umask 077; set -C; cat > "$t") || {{ s=$?; cat >/dev/null; exit $s; }}; }} && '
        f'{size_check(size_of(payload))} && {permissions} && mv -f -- "$t" {target} '
        '|| { s=$?; rm -f -- "$t"; exit $s; }'
    )


@contextlib.contextmanager
def local_replacement(path: str) -> Iterator[BinaryIO]:
    """A new file that replaces controller file ``path`` when the block ends: a temp file beside it
    (0600; its path is ``handle.name``, for the block to set its mode), renamed onto ``path``. The temp
    files of ``path`` whose writer is gone are removed first; this one is removed if the block raises."""
    folder, name = os.path.split(os.path.abspath(path))
    start = f".{name}{MARK}"
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder):
            if entry.startswith(start) and not _writer_alive(entry[len(start):]):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, entry))
    temporary = os.path.join(folder, f"{start}{os.getpid()}-{secrets.token_hex(6)}")
    try:
        with open(temporary, "xb", opener=_private) as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _writer_alive(suffix: str) -> bool:
    """Whether the process named by a temp file's ``PID-RANDOM`` suffix still runs (True when unsure)."""
    pid = suffix.split("-", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
