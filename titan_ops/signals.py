"""SIGTERM handled as Ctrl-C: a run that is terminated ends what it runs on the hosts, prints its recap
and writes its record, instead of dying silently with its remote commands still running."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises KeyboardInterrupt in the main thread, as SIGINT does.

    Only in the main thread (the only one Python gives signals to), and only where SIGTERM has its
    default action: an application's own handler is left alone. A further SIGTERM while the run winds
    down is ignored (SIGKILL still ends the process)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"terminated by {signal.Signals(signum).name}")
