"""``throttle``: at most N hosts run a task at once, below the forks.

A :class:`Throttle` hands out a task's N slots in the order they are asked for.
The linear strategy asks for a slot for each host of the task before it submits
the host's run to the dispatcher, so the hosts start in their order, N at a
time; the free strategies, whose hosts reach a task each on its own, share one
throttle per task (:class:`Throttles`), and a host waits for a slot there.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any, TypeVar

from titan_ops.engine.dispatch import Dispatcher

T = TypeVar("T")


@dataclass(frozen=True)
class Limit:
    """A task's rendered ``throttle``: at most ``hosts`` hosts run the task at once."""

    task: str
    """The task's place in the files: the hosts that walk a play each on its own share its throttle by it."""
    hosts: int


class Throttle:
    """``limit`` slots, given first come first served; a slot is freed when the work that held it ends."""

    def __init__(self, limit: int):
        self._lock = threading.Lock()
        self._free = limit
        self._waiting: deque[Callable[[], bool]] = deque()
        """Who waits for a slot, in turn: each takes it (True) or, cancelled meanwhile, passes it on (False)."""

    def submit(self, dispatcher: Dispatcher, host: str, work: Callable[..., T], *args: Any) -> Future[T]:
        """``dispatcher.submit(host, work, *args)`` once a slot is free; its future at once (cancelling it
        before it starts gives the slot to the next)."""
        future: Future[T] = Future()

        def start() -> bool:
            if not future.set_running_or_notify_cancel():
                return False
            try:
                running = dispatcher.submit(host, work, *args)
            except RuntimeError as error:  # the dispatcher shut down (an interrupted run)
                future.set_exception(error)
                return False
            running.add_done_callback(lambda done: self._hand_over(done, future))
            return True

        self._when_free(start)
        return future

    def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in this thread once a slot is free."""
        ready = threading.Event()

        def start() -> bool:
            ready.set()
            return True

        self._when_free(start)
        ready.wait()
        try:
            return work(*args)
        finally:
            self._release()

    def _when_free(self, start: Callable[[], bool]) -> None:
        with self._lock:
            if self._free <= 0 or self._waiting:
                self._waiting.append(start)
                return
            self._free -= 1
        if not start():
            self._release()

    def _release(self) -> None:
        """The slot passes straight to the next in line that takes it, or is free again."""
        while True:
            with self._lock:
                if not self._waiting:
                    self._free += 1
                    return
                start = self._waiting.popleft()
            if start():
                return

    def _hand_over(self, done: Future[T], future: Future[T]) -> None:
        self._release()
        error = CancelledError() if done.cancelled() else done.exception()
        if error is None:
            future.set_result(done.result())
        else:
            future.set_exception(error)


class Throttles:
    """One :class:`Throttle` per task of a play, shared by the hosts that walk it each on its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throttles: dict[str, Throttle] = {}

    def of(self, limit: Limit) -> Throttle:
        """The throttle of ``limit.task``, made with the slots of the first host that reaches the task."""
        with self._lock:
            found = self._throttles.get(limit.task)
            if found is None:
                found = self._throttles[limit.task] = Throttle(limit.hosts)
            return found
