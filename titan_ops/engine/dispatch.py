"""Dispatchers: where a host's work runs.

The strategy decides what runs next; a dispatcher runs it. A dispatcher is given
the host with every piece of work, so that one which spreads work over machines
(a Dask cluster, say) can keep a host on one worker and so its one connection.
The thread dispatcher runs everything in this process, on ``forks`` threads that
share one connection pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from queue import Empty, SimpleQueue
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Dispatcher(Protocol):
    """Runs a host's work somewhere and hands back a future of its result."""

    def submit(self, host: str, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work(*args)`` for ``host``; the future completes with its return value or exception."""
        ...

    def shutdown(self) -> None:
        """Wait for the work under way; drop what has not started."""
        ...


class ThreadDispatcher:
    """``forks`` worker threads in this process; any worker serves any host."""

    def __init__(self, forks: int):
        self._pool = ThreadPoolExecutor(max_workers=max(1, forks), thread_name_prefix="titan-worker")

    def submit(self, host: str, work: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(work, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def as_finished(futures: Sequence[Future], wait: float) -> Iterator[list[int]]:
    """The indexes of ``futures`` as they finish, in ``futures`` order within each wake-up.

    An empty list when ``wait`` seconds pass without one finishing (a moment to report progress).
    Fed by done-callbacks: one wake-up per batch of results, not a waiter on every pending future.
    """
    finished: SimpleQueue[int] = SimpleQueue()
    for index, future in enumerate(futures):
        future.add_done_callback(lambda _, index=index: finished.put(index))
    pending = len(futures)
    while pending:
        try:
            done = [finished.get(timeout=wait)]
        except Empty:
            yield []
            continue
        while not finished.empty():
            done.append(finished.get_nowait())
        pending -= len(done)
        yield sorted(done)
