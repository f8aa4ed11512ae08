"""Strategies: which host runs which task next.

Linear (the default): each task on every active host of the batch, through the
dispatcher, before the next task starts. Free: every host walks the play on its
own, each of its tasks a piece of work on the dispatcher, so that with fewer
forks than hosts the hosts take turns task by task. Host pinned: every host
walks the play on its own, its whole walk one piece of work on the dispatcher, so
that a fork stays with its host until the host is done and the next host starts
only when one ends. A task's ``throttle`` bounds how many hosts run it at once, under
every strategy (see ``throttle``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from datetime import datetime
from typing import Protocol

from titan_ops.engine.dispatch import Dispatcher, as_finished
from titan_ops.engine.results import TaskResult
from titan_ops.engine.throttle import Limit, Throttle, Throttles

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
    lockstep: bool
    """Whether the hosts of a batch run each task together (ansible's linear strategy): only then do
    ``any_errors_fatal``, ``max_fail_percentage`` and a failing ``run_once`` stop the other hosts."""

    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        """Walk one batch of a play on ``hosts``."""
        ...

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress,
                 throttle: Limit | None = None) -> None:
        """Run one task on ``targets``, every result finished in ``targets`` order per wake-up; with
        ``throttle``, on at most that many hosts at once."""
        ...


class Linear:
    """A task at a time, on every host of the batch at once (up to the dispatcher's workers)."""

    lockstep = True

    def __init__(self, dispatcher: Dispatcher, interrupt: Callable[[], None]):
        self.dispatcher = dispatcher
        self.interrupt = interrupt

    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        walk(hosts)

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress,
                 throttle: Limit | None = None) -> None:
        if throttle is not None and throttle.hosts < len(targets):
            slots = Throttle(throttle.hosts)  # the hosts start in their order, as slots free up
            futures = [slots.submit(self.dispatcher, host, execute, host) for host in targets]
        else:
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
    """Every host through the play on its own, its tasks taking turns with the other hosts' for the forks."""

    lockstep = False

    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher
        self.throttles = Throttles()

    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        errors: list[BaseException] = []

        def walk_host(host: str) -> None:
            try:
                walk([host])
            except BaseException as error:  # handed to the thread that runs the batch
                errors.append(error)

        walkers = [threading.Thread(target=walk_host, args=(host,), name=f"titan-walk-{host}", daemon=True)
                   for host in hosts]
        for walker in walkers:
            walker.start()
        for walker in walkers:
            walker.join()
        if errors:
            raise errors[0]

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress,
                 throttle: Limit | None = None) -> None:
        slots = None if throttle is None else self.throttles.of(throttle)
        for host in targets:
            try:
                future = (self.dispatcher.submit(host, execute, host) if slots is None else
                          slots.submit(self.dispatcher, host, execute, host))
                result = future.result()
            except CancelledError:  # the run was interrupted: the dispatcher dropped what had not started
                return
            finish(result)


class HostPinned:
    """Every host through the play on its own, on one fork from its first task to its last."""

    lockstep = False

    def __init__(self, dispatcher: Dispatcher):
        self.dispatcher = dispatcher
        self.throttles = Throttles()

    def run_batch(self, walk: Walk, hosts: list[str]) -> None:
        futures = [self.dispatcher.submit(host, walk, [host]) for host in hosts]
        for future in futures:
            future.result()

    def run_task(self, targets: list[str], execute: Execute, finish: Finish, progress: Progress,
                 throttle: Limit | None = None) -> None:
        slots = None if throttle is None else self.throttles.of(throttle)
        for host in targets:  # (a host waits for a slot on its fork, as its walk keeps the fork)
            finish(execute(host) if slots is None else slots.run(execute, host))


def strategy_named(name: str, dispatcher: Dispatcher, interrupt: Callable[[], None]) -> Strategy:
    """The strategy a play names (validated by the plan)."""
    if name == "free":
        return Free(dispatcher)
    if name == "host_pinned":
        return HostPinned(dispatcher)
    return Linear(dispatcher, interrupt)
