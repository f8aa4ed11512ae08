"""The text of a file an operator hands over (playbook, inventory, vars file, ``-e @file``): UTF-8, or an error
naming the line and column of the first byte that is not."""

from __future__ import annotations

from pathlib import Path

from titan_ops.errors import Location, TitanOpsError


def read_source(path: str | Path, error: type[TitanOpsError], what: str = "file") -> str:
    """The UTF-8 text of ``path``; ``error`` (PlaybookError, InventoryError, ...) naming the file when it cannot
    be read, and its line and column when it is not UTF-8 text."""
    try:
        data = Path(path).read_bytes()
    except OSError as failure:
        raise error(f"cannot read {what}: {failure.strerror}", Location(str(path))) from None
    return decode_source(data, str(path), error)


def decode_source(data: bytes, file: str, error: type[TitanOpsError]) -> str:
    """``data`` decoded as UTF-8; ``error`` at the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as failure:
        before = data[:failure.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise error(f"not UTF-8 text (byte 0x{data[failure.start]:02x}): a binary file, or another encoding",
                    Location(file, before.count(b"\n") + 1, column)) from None
