"""The stand-ins' log lines survive pm2's time-prefixing, however pm2 happens to read them.

pm2 (``"time": true``) prefixes every chunk it reads from an app's pipe with the time, one prefix
per line of the chunk, and drops whatever follows the chunk's last newline (lib/God/ForkMode.js,
``prefixLogWithDate``). A write is read whole, but several writes can arrive in one chunk, so a
line written in two writes (text, then newline) can be lost: the health check once counted 24 of
25 error lines.
"""

from __future__ import annotations

import itertools
import sys

from titan_ops.lab.standins.common import Service


class RecordedStream:
    """A text stream that keeps each write apart, as the pipe to pm2 does."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def pm2_time_prefixed(chunk: str) -> list[str]:
    """The lines pm2 files for one chunk it read."""
    lines = chunk.split("\n")
    if len(lines) > 1:
        lines.pop()
    return [f"2026-12-06T22:22:37: {line}" for line in lines]


def every_reading(writes: list[str]):
    """Every way pm2 can read these writes: each split of the sequence into consecutive chunks."""
    for cuts in itertools.product((False, True), repeat=len(writes) - 1):
        chunks, current = [], writes[0]
        for cut, write in zip(cuts, writes[1:]):
            if cut:
                chunks.append(current)
                current = write
            else:
                current += write
        yield [*chunks, current]


def test_every_error_line_reaches_the_log_however_pm2_reads_the_pipe(monkeypatch):
    stream = RecordedStream()
    monkeypatch.setattr(sys, "stderr", stream)
    service = Service("titan-scavenger", {})
    for number in (1, 2, 3):
        service.log_error(f"order book feed stale ({number}/3)")
    for chunks in every_reading(stream.writes):
        filed = [line for chunk in chunks for line in pm2_time_prefixed(chunk)]
        errors = [line for line in filed if "ERROR titan-scavenger: order book feed stale" in line]
        assert len(errors) == 3, chunks
