"""A real Dask cluster for tests: a ``dask scheduler`` and ``dask worker`` processes on loopback.

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

from distributed.diagnostics.plugin import SchedulerPlugin

DASK = str(Path(sys.executable).parent / "dask")
START_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parent.parent


class GraphRecorder(SchedulerPlugin):
    """On the scheduler: the key and the spec (pickled, so that its arguments show) of every task given
    to it, as it arrives."""

    name = "titan-ops-graph-recorder"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def update_graph(self, scheduler, *, keys, tasks, **kwargs) -> None:  # noqa: ANN001 - Dask's hook
        import cloudpickle

        for key in tasks:
            spec = cloudpickle.dumps(getattr(scheduler.tasks.get(key), "run_spec", None))
            self.seen.append(f"{key!r} {spec.decode('latin-1')}")


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


def start(directory: Path, workers: int = 2) -> DaskProcesses:
    """A scheduler and ``workers`` workers (no nanny: a killed worker stays dead), all on 127.0.0.1."""
    directory.mkdir(parents=True, exist_ok=True)
    scheduler_file = directory / "scheduler.json"
    logs = [directory / "scheduler.log"]
    scheduler = _spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(scheduler_file)], logs[0])
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
                [DASK, "worker", processes.address, "--host", "127.0.0.1", "--no-dashboard", "--no-nanny",
                 "--nthreads", "1", "--name", f"worker{number}", "--local-directory", str(directory / "work")],
                log))
        _wait_for_workers(processes.address, workers)
    except BaseException:
        processes.stop()
        raise
    return processes


def _spawn(argv: list[str], log: Path) -> subprocess.Popen:
    """``argv`` with its output in ``log``; it can import the tests' plugins (``GraphRecorder``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(log, "ab") as output:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output, env=env)


def _wait_for_workers(address: str, count: int) -> None:
    import distributed

    with distributed.Client(address, timeout=START_TIMEOUT, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=START_TIMEOUT)
