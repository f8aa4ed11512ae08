"""Data sent to a host: bytes, or a controller file streamed in chunks, so that memory stays bounded
whatever the file's size."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from titan_ops.errors import TitanOpsError

CHUNK = 1 << 18
"""Bytes read from a file, or handed to the channel, at a time."""


class SourceChanged(TitanOpsError):
    """A controller file changed between being read and being sent; what was sent is not used."""


@dataclass(frozen=True)
class LocalFile:
    """A controller file to send, as it was when read (``size`` bytes with SHA-1 ``sha1``).

    It is read in chunks as it is sent. The last chunk is held back until the
    SHA-1 of everything read matches: a file changed meanwhile raises
    :class:`SourceChanged` before the receiver has all the bytes, so its size
    check refuses what arrived and nothing is replaced.
    """

    path: str
    size: int
    sha1: str

    @classmethod
    def read(cls, path: str, *also: Any) -> LocalFile:
        """``path`` as it is now (one pass over it for its SHA-1, which also feeds the hash objects
        ``also``, e.g. an MD5); OSError when it cannot be read."""
        digest = hashlib.sha1()
        size = 0
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                for hashing in (digest, *also):
                    hashing.update(chunk)
                size += len(chunk)
        return cls(path, size, digest.hexdigest())

    def chunks(self) -> Iterator[bytes]:
        """The content as read, chunk by chunk; SourceChanged instead of the last chunk if it differs."""
        digest = hashlib.sha1()
        left = self.size
        try:
            with open(self.path, "rb") as handle:
                while left > 0:
                    chunk = handle.read(min(CHUNK, left))
                    if not chunk:
                        break
                    digest.update(chunk)
                    left -= len(chunk)
                    if left == 0 and digest.hexdigest() != self.sha1:
                        break
                    yield chunk
        except OSError as error:
            raise SourceChanged(f"cannot read {self.path}: {error.strerror}") from None
        if left != 0 or digest.hexdigest() != self.sha1:
            raise SourceChanged(f"{self.path} changed while it was sent: nothing was replaced")


Payload = bytes | LocalFile
"""What a connection sends: bytes, or a controller file read as it is sent."""


def size_of(payload: Payload) -> int:
    """The number of bytes ``payload`` holds."""
    return payload.size if isinstance(payload, LocalFile) else len(payload)


def chunks_of(payload: Payload) -> Iterator[bytes | memoryview]:
    """``payload`` in pieces of at most :data:`CHUNK` bytes (views of bytes, not copies)."""
    if isinstance(payload, LocalFile):
        yield from payload.chunks()
        return
    view = memoryview(payload)
    for start in range(0, len(view), CHUNK):
        yield view[start:start + CHUNK]

