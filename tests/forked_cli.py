"""``titan-ops`` commands run as the tests' processes of their own, forked from a server that imported titan-ops once.

Each command has the isolation of ``python -m titan_ops ARGV`` (its own process, working folder, environment,
stdin, stdout and stderr, and exit code; a deadline that kills it) without paying Python's start and the
import of titan-ops (most of a short command's CPU time) every time. The server is multiprocessing's
forkserver, started on first use with the test process's ``sys.path`` and environment; it is stopped (and
waited for, so that its CPU time counts as the test run's) when the test process exits.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing import forkserver
from pathlib import Path

from titan_ops.modules import ENTRIES

PRELOADED = ["titan_ops.cli", "titan_ops.api", "titan_ops.output.console", "titan_ops.incident.lifecycle",
             "titan_ops.incident.recorder", "jsonschema", *sorted({entry.path for entry in ENTRIES.values()})]
"""Imported by the server once: the command line, the engine, what a run and the incident commands import on
first use (the console, the incident record, the schema checks) and every module's code. (Loading the shipped
runbooks there as well, so that their templates come compiled, cost each test process ~2.5 s of CPU time and
saved as much only to the fuzzer's 120 mutants: not done.)"""

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(PRELOADED)
atexit.register(forkserver._forkserver._stop)  # a no-op when the server never started


@dataclass(frozen=True)
class Finished:
    """A command that returned: its arguments, exit code (negative: killed by that signal) and output."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_cli(argv: Sequence[str | os.PathLike[str]], *, cwd: str | os.PathLike[str] | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 120) -> Finished:
    """``titan-ops ARGV`` in ``cwd`` (default: this process's) with exactly ``env`` (default: this process's
    environment), stdin empty. ``subprocess.TimeoutExpired`` when it runs past ``timeout`` seconds: it is
    killed first."""
    argv = [str(arg) for arg in argv]
    with tempfile.TemporaryDirectory(prefix="titan-ops-forked-") as folder:
        stdout, stderr, status = Path(folder, "stdout"), Path(folder, "stderr"), Path(folder, "status")
        stdout.touch(), stderr.touch()
        process = _FORKS.Process(target=_titan_ops, name="titan-ops",
                                 args=(argv, str(cwd or os.getcwd()), dict(os.environ if env is None else env),
                                       str(stdout), str(stderr), str(status)))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            process.close()
            raise subprocess.TimeoutExpired(["titan-ops", *argv], timeout)
        # (multiprocessing reports 255 when it cannot read a child's exit status from the fork server, as
        # happened here under load, cf. cpython#140867: the command's own record of it is the truth)
        code = int(status.read_text()) if status.exists() else process.exitcode
        process.close()
        return Finished(argv, code, stdout.read_text(errors="replace"), stderr.read_text(errors="replace"))


def _titan_ops(argv: list[str], cwd: str, env: dict[str, str], stdout: str, stderr: str, status: str) -> None:
    """In the forked process: become ``titan-ops ARGV`` in ``cwd`` with ``env``, its output into two files and
    its exit status (when it returns one) into ``status``."""
    from titan_ops.cli import main

    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path, mode in ((0, os.devnull, os.O_RDONLY), (1, stdout, os.O_WRONLY), (2, stderr, os.O_WRONLY)):
        opened = os.open(path, mode)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 for the command's whole life
    sys.argv = ["titan-ops", *argv]
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    if isinstance(code, int):
        Path(status).write_text(str(code))
    sys.exit(code)

