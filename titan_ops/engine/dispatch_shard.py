"""A Dask worker's share of the fleet: the connections of the hosts pinned to it.

One ``HostShard`` actor lives on each worker of a cluster run. The controller
calls it directly (never through the scheduler) to run a command, write or read
a file on one of its hosts; each host keeps its one persistent connection in the
shard's pool for the whole run. A request and its answer travel pickled, as one
bytes value each: Dask's own serialization of every argument cost the controller
several times the CPU of the SSH command itself. Nothing here imports Dask: the
worker does.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from titan_ops.connection import ConnectionPool
from titan_ops.connection.base import CommandResult, ConnectionOptions, HostAddress

T = TypeVar("T")


class HostShard:
    """The connections of one worker's hosts. Its methods are coroutines, so that Dask runs them on the
    worker's event loop, which hands the blocking SSH work to the shard's own threads (Dask runs an
    actor's plain methods one at a time)."""

    def __init__(self, options: ConnectionOptions, threads: int):
        self._pool = ConnectionPool(options)
        self._threads = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="titan-shard")

    async def call(self, request: bytes) -> bytes:
        """A pickled ``(method, args)`` of the controller; the pickled ``(True, value)``, or ``(False,
        exception)`` when the method raised (a host unreachable, a command timed out)."""
        function, args = pickle.loads(request)
        try:
            value = await getattr(self, function)(*args)
        except Exception as error:  # noqa: BLE001 - every failure goes back to the controller, as raised
            return pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.dumps((True, value), protocol=pickle.HIGHEST_PROTOCOL)

    async def run(self, address: HostAddress, command: Any, options: dict[str, Any]) -> CommandResult:
        return await self._in_thread(lambda: self._pool.get(address).run(command, **options))

    async def put(self, address: HostAddress, data: bytes, remote_path: str, mode: int | None) -> None:
        await self._in_thread(lambda: self._pool.get(address).put(data, remote_path, mode))

    async def get(self, address: HostAddress, remote_path: str) -> bytes:
        return await self._in_thread(lambda: self._pool.get(address).get(remote_path))

    async def interrupt(self) -> None:
        """End every command the shard's connections are running (an interrupted run)."""
        await asyncio.get_running_loop().run_in_executor(None, self._pool.interrupt_all)

    async def close(self) -> None:
        """Close every connection and the shard's threads (the end of the run)."""
        await asyncio.get_running_loop().run_in_executor(None, self._pool.close_all)
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _in_thread(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work)
