"""Dispatchers: where a host's work runs.

The strategy decides what runs next; a dispatcher runs it. A dispatcher is given
the host with every piece of work, so that one which spreads work over machines
(a Dask cluster, say) can keep a host on one worker and so its one connection.
A dispatcher also keeps the hosts' connections (``connections``): the thread
dispatcher runs everything in this process, on ``forks`` threads that share one
connection pool; the cluster dispatcher (``dispatch_cluster``) keeps each host's
connection on a Dask worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from queue import Empty, SimpleQueue
from typing import Any, Protocol, TypeVar

from titan_ops.connection import ConnectionPool
from titan_ops.connection.base import Connection, ConnectionOptions, HostAddress
from titan_ops.engine.options import RunOptions

T = TypeVar("T")


class Connections(Protocol):
    """The hosts' connections of a run: one per host, wherever it lives."""

    def get(self, address: HostAddress) -> Connection:
        """The connection of ``address.name``, created (not yet opened) on first call."""
        ...

    def interrupt_all(self) -> None:
        """End every command every connection is running (an interrupted run)."""
        ...


class Dispatcher(Protocol):
    """Runs a host's work somewhere and hands back a future of its result; keeps the hosts' connections."""

    connections: Connections

    def submit(self, host: str, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work(*args)`` for ``host``; the future completes with its return value or exception."""
        ...

    def shutdown(self) -> None:
        """Wait for the work under way, drop what has not started, close every connection."""
        ...


class ThreadDispatcher:
    """``forks`` worker threads in this process; any worker serves any host, through one connection pool."""

    def __init__(self, forks: int, options: ConnectionOptions | None = None):
        self._pool = ThreadPoolExecutor(max_workers=max(1, forks), thread_name_prefix="titan-worker")
        self.connections = ConnectionPool(options)

    def submit(self, host: str, work: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(work, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.connections.close_all()


def open_dispatcher(options: RunOptions) -> Dispatcher:
    """The dispatcher ``options`` ask for: threads here, or a Dask cluster (``options.cluster``).

    Raises ClusterError before anything starts when the cluster cannot be used.
    """
    if options.cluster is None:
        return ThreadDispatcher(options.forks, options.connection)
    from titan_ops.engine.dispatch_cluster import ClusterDispatcher  # imports Dask: only a cluster run needs it

    return ClusterDispatcher(options.cluster, options.forks, options.connection)


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
