"""Ctrl-C in the middle of a run: the run ends what it has running on the hosts and prints the recap."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

START_TIMEOUT = 120.0


def sleeping(marker: str) -> list[str]:
    """The pids of every ``sleep MARKER`` on this machine (the lab hosts' processes included)."""
    found = subprocess.run(["pgrep", "-x", "-f", f"sleep {marker}"], capture_output=True, text=True)
    return found.stdout.split()


def interrupt_run(argv: list[str], marker: str, expected: int) -> None:
    """``titan-ops ARGV`` until ``expected`` processes ``sleep MARKER`` run on its hosts, then Ctrl-C: the
    run fails with its recap, the task after the sleep never runs, and no such process is left."""
    run = subprocess.Popen([sys.executable, "-m", "titan_ops", *argv], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(sleeping(marker)) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(sleeping(marker)) == expected
        run.send_signal(signal.SIGINT)
        stdout, _ = run.communicate(timeout=START_TIMEOUT)
    finally:
        run.kill()
    assert run.returncode != 0
    assert "PLAY RECAP" in stdout and "never reached" not in stdout
    deadline = time.monotonic() + 10
    while sleeping(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sleeping(marker) == []
