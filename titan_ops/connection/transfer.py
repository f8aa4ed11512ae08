"""The remote side of put: one shell line that writes a temp file beside the target and renames it."""

from __future__ import annotations

import posixpath
import secrets
import shlex


def temp_name(path: str) -> str:
    """A hidden, unique name in ``path``'s directory (so the rename stays on one filesystem)."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.titan-ops-{secrets.token_hex(6)}")


def put_line(path: str, mode: int | None) -> str:
    """Shell line: stdin -> temp file (private until chmod) -> ``mv -f`` onto ``path``.

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
        f"t={shlex.quote(temp_name(path))}; umask 077; set -C; "
        f'cat > "$t" && {permissions} && mv -f -- "$t" {target} || {{ s=$?; rm -f -- "$t"; exit $s; }}'
    )
