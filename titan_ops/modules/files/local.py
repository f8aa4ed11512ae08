"""Files on the controller: finding a task's ``src``, reading it once per run (not once per host),
and writing fetched files atomically."""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from titan_ops.connection.payload import LocalFile, Payload
from titan_ops.connection.transfer import local_replacement
from titan_ops.errors import TitanOpsError

SENT_FROM_DISK = 1 << 20
"""A ``src`` larger than this is read from disk as it is sent, never held whole in memory."""
HEAD = 4096


class ChecksumMismatch(TitanOpsError):
    """What was received does not have the checksum it should have; nothing was written."""


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


@dataclass(frozen=True)
class LocalSource:
    """A controller file to copy: its content (bytes, or a :class:`LocalFile` for a large one), its
    SHA-1 and MD5, its permission bits, and its first bytes (enough to tell a vault-encrypted file)."""

    content: Payload
    sha1: str
    md5: str
    mode: int
    head: bytes


def read_local(path: str) -> tuple[bytes, int]:
    """The content and permission bits of controller file ``path`` (a template: read whole)."""
    info = _stat(path)
    try:
        return _read(path, info.st_mtime_ns, info.st_size), stat.S_IMODE(info.st_mode)
    except OSError as error:
        raise TitanOpsError(f"Could not read '{path}': {error.strerror}") from None


def read_source(path: str) -> LocalSource:
    """Controller file ``path`` as copy sends it: read whole when small, else hashed now and read
    again, a chunk at a time, as it is sent."""
    info = _stat(path)
    mode = stat.S_IMODE(info.st_mode)
    try:
        if info.st_size <= SENT_FROM_DISK:
            data = _read(path, info.st_mtime_ns, info.st_size)
            return LocalSource(data, hashlib.sha1(data).hexdigest(),
                               hashlib.md5(data, usedforsecurity=False).hexdigest(), mode, data[:HEAD])
        large, md5 = _hashed(path, info.st_mtime_ns, info.st_size, info.st_ino)
        with open(path, "rb") as handle:
            head = handle.read(HEAD)
        return LocalSource(large, large.sha1, md5, mode, head)
    except OSError as error:
        raise TitanOpsError(f"Could not read '{path}': {error.strerror}") from None


def _stat(path: str) -> os.stat_result:
    try:
        info = os.stat(path)
    except OSError as error:
        raise TitanOpsError(f"Could not read '{path}': {error.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise TitanOpsError(f"'{path}' is a directory: copying directories is not supported")
    return info


@functools.lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int, size: int) -> bytes:
    """Cached by path, mtime and size, so a task on many hosts reads its file once."""
    with open(path, "rb") as handle:
        return handle.read()


@functools.lru_cache(maxsize=32)
def _hashed(path: str, mtime_ns: int, size: int, inode: int) -> tuple[LocalFile, str]:
    """A large file and its MD5, hashed once per version of the file, not once per host."""
    md5 = hashlib.md5(usedforsecurity=False)
    return LocalFile.read(path, md5), md5.hexdigest()


def local_sha1(path: str) -> str | None:
    """The SHA-1 of controller file ``path`` (read a chunk at a time), or None when it is not a file."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha1").hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def write_local(path: str, data: bytes, mode: int = 0o666) -> None:
    """Write ``data`` to controller file ``path`` atomically (see :func:`receive_local`)."""
    receive_local(path, lambda sink: sink.write(data), mode=mode)


def receive_local(path: str, fill: Callable[[BinaryIO], object], sha1: str | None = None,
                  mode: int = 0o666) -> tuple[str, str]:
    """Write controller file ``path`` atomically with what ``fill`` writes to the file it is given (a
    temp file beside it, 0600, then a rename), creating its folder; return its SHA-1 and MD5. With
    ``sha1``, content with another checksum raises ChecksumMismatch and ``path`` stays as it was. The
    file gets ``mode`` less the umask (default: the controller's default mode)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with local_replacement(path) as handle:
        sink = _HashingSink(handle)
        fill(sink)  # type: ignore[arg-type]
        received = sink.sha1.hexdigest()
        if sha1 is not None and received != sha1:
            raise ChecksumMismatch(f"received content of checksum {received}, expected {sha1}")
        os.chmod(handle.name, mode & ~_umask())
    return received, sink.md5.hexdigest()


class _HashingSink:
    """A writable that hashes what passes through it."""

    def __init__(self, handle: BinaryIO):
        self._handle = handle
        self.sha1 = hashlib.sha1()
        self.md5 = hashlib.md5(usedforsecurity=False)

    def write(self, data: bytes) -> int:
        self.sha1.update(data)
        self.md5.update(data)
        return self._handle.write(data)


def _umask() -> int:
    """The process's umask, read without changing it (Linux; 022 elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022
