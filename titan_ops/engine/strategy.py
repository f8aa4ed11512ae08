"""Strategies: which host runs which task next.

Linear (the default): each task on every active host of the batch, through the
dispatcher, before the next task starts. Free: every host runs through the play
on its own, its whole batch one piece of work on the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from titan_ops.engine.dispatch import Dispatcher, as_finished
from titan_ops.engine.results import TaskResult

PROGRESS_SECONDS = 5.0
"""How long a task runs without a result before its progress is reported."""

Walk = Callable[[list[str]], None]
"""Runs a batch's task lists on the hosts given."""

Execute = Callable[[str], TaskResult]
"""Runs one task on one host; never raises for what happens on the host."""

Finish = Callable[[TaskResult], None]
"""Records one result (in the thread that walks the play)."""

Progress = Callable[[int, int, float], None]
"""Hosts done, hosts in all, seconds since the task started."""


class Strategy(Protocol):
    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        """Walk one batch of a play on ``hosts``."""
        ...

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress) -> None:
        """Run one task on ``targets``, every result finished in ``targets`` order per wake-up."""
        ...


class Linear:
    """A task at a time, on every host of the batch at once (up to the dispatcher's workers)."""

    def __init__(self, dispatcher: Dispatcher, interrupt: Callable[[], None]):
        self.dispatcher = dispatcher
        self.interrupt = interrupt

    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        walk(hosts)

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress) -> None:
        futures = [self.dispatcher.submit(host, execute, host) for host in targets]
        finished: set[int] = set()
        started = datetime.now()
        try:
            for done in as_finished(futures, PROGRESS_SECONDS):
                if not done:
                    progress(len(finished), len(targets), (datetime.now() - started).total_seconds())
                for index in done:
                    finished.add(index)
                    finish(futures[index].result())
        except KeyboardInterrupt:
            pending = [future for index, future in enumerate(futures) if index not in finished]
            for future in pending:
                future.cancel()
            self.interrupt()  # what still runs on the hosts is ended, not waited for
            for future in pending:
                if not future.cancelled():
                    finish(future.result())


class Free:
    """Every host through the play on its own: a host's batch is one piece of work on the dispatcher."""

    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher

    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        futures = [self.dispatcher.submit(host, walk, [host]) for host in hosts]
        for future in futures:
            future.result()

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress) -> None:
        for host in targets:
            finish(execute(host))
