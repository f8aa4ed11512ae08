"""Files on the controller: finding a task's ``src`` and reading it once per run, not once per host."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import stat
from collections.abc import Sequence

from titan_ops.errors import TitanOpsError


def find_local(search_path: Sequence[str], src: str, folder: str) -> str:
    """The controller path of ``src``: as given when absolute, else under ``<dir>/folder`` (files/ or
    templates/), then under ``<dir>``, for each folder of ``search_path`` in turn, as Ansible searches."""
    if os.path.isabs(src):
        candidates = [src]
    else:
        candidates = [path for directory in search_path
                      for path in (os.path.join(directory, folder, src), os.path.join(directory, src))]
    for candidate in candidates:
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    raise TitanOpsError(f"Could not find or access '{src}' (searched {', '.join(candidates)})")


def read_local(path: str) -> tuple[bytes, int]:
    """The content and permission bits of controller file ``path``."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise TitanOpsError(f"'{path}' is a directory: copying directories is not supported")
        return _read(path, info.st_mtime_ns, info.st_size), stat.S_IMODE(info.st_mode)
    except OSError as error:
        raise TitanOpsError(f"Could not read '{path}': {error.strerror}") from None


@functools.lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int, size: int) -> bytes:
    """Cached by path, mtime and size, so a task on many hosts reads its file once."""
    with open(path, "rb") as handle:
        return handle.read()


def write_local(path: str, data: bytes, mode: int = 0o666) -> None:
    """Write controller file ``path`` atomically (temp file beside it, then rename), creating its folder;
    a new file gets ``mode`` less the umask (default: the controller's default mode)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.titan-ops-{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
