"""A real Dask cluster: a ``dask scheduler`` and ``dask worker`` processes on loopback, for the tests and
the benchmark (which imports this module; it needs no Dask in the importing interpreter).

Everything listens on 127.0.0.1, with no dashboard; each process writes its log to a
file of its own, which the tests read (secrets must never show up there).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DASK = str(Path(sys.executable).parent / "dask")
START_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class DaskProcesses:
    """A scheduler and its workers, started by :func:`start`; ``stop`` ends them."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    logs: list[Path] = field(default_factory=list)

    def log_text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs if log.exists())

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start(directory: Path, workers: int = 2, dask: str = DASK, pythonpath: str | None = None) -> DaskProcesses:
    """A scheduler and ``workers`` workers (no nanny: a killed worker stays dead), all on 127.0.0.1.

    ``dask``: the command of the Python environment to run them in; ``pythonpath``: where they import
    ``titan_ops`` from, if not that environment's own.
    """
    directory.mkdir(parents=True, exist_ok=True)
    scheduler_file = directory / "scheduler.json"
    logs = [directory / "scheduler.log"]
    path = os.pathsep.join(filter(None, [pythonpath, str(ROOT), os.environ.get("PYTHONPATH")]))
    scheduler = _spawn([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(scheduler_file)], logs[0], path)
    processes = DaskProcesses("", scheduler, [], logs)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start: {logs[0].read_text()[-2000:]}")
            time.sleep(0.1)
        processes.address = json.loads(scheduler_file.read_text())["address"]
        for number in range(1, workers + 1):
            log = directory / f"worker{number}.log"
            logs.append(log)
            processes.workers.append(_spawn(
                [dask, "worker", processes.address, "--host", "127.0.0.1", "--no-dashboard", "--no-nanny",
                 "--nthreads", "1", "--name", f"worker{number}", "--local-directory", str(directory / "work")],
                log, path))
        while processes.log_text().count("Register worker") < workers:
            if time.monotonic() > deadline or any(worker.poll() is not None for worker in processes.workers):
                raise RuntimeError(f"dask workers did not start: {processes.log_text()[-3000:]}")
            time.sleep(0.1)
    except BaseException:
        processes.stop()
        raise
    return processes


def _spawn(argv: list[str], log: Path, pythonpath: str) -> subprocess.Popen:
    """``argv`` with its output in ``log``; ``pythonpath`` lets it import the tests' plugins
    (``tests.cluster_plugins``)."""
    with open(log, "ab") as output:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                env={**os.environ, "PYTHONPATH": pythonpath})
