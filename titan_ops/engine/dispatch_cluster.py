"""Dispatch over a Dask distributed cluster: each host's connection lives on one worker for the whole run.

The controller keeps everything that makes a play what it is: the strategy and its
barrier, ``serial``, ``run_once``, handlers, templating (lookups read the controller's
files and environment, as in Ansible), the modules' inspect, decide and act, and the
events. What a cluster takes off it is the hosts' SSH: every worker holds a
:class:`~titan_ops.engine.dispatch_shard.HostShard` actor, the hosts are shared out over
the shards as they are first used, and a host's commands, writes and reads go to its
shard, which keeps the host's one persistent connection. So a cluster run gives the
same results and the same events as a local run, by construction.

The controller calls a shard on its worker directly, never through the scheduler, so
what a command carries (its input, a host's password) reaches only the worker of that
host, and only when the command runs; the scheduler sees the shards' creation (run-wide
connection options) and nothing else. A worker lost mid-run makes each of its hosts
unreachable, with the reason; the other hosts go on. Hosts reached with
``ansible_connection: local`` are the controller's own machine, and stay here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from titan_ops.connection import ConnectionPool
from titan_ops.connection.base import CommandResult, ConnectionOptions, HostAddress
from titan_ops.engine.dispatch_shard import HostShard
from titan_ops.errors import ClusterError, HostUnreachable

T = TypeVar("T")

LOCAL = "local"
"""``local`` or ``local:N``: a LocalCluster of N worker processes on this machine, for the run."""


class ClusterDispatcher:
    """The controller's ``forks`` threads walk the hosts' tasks; the hosts' connections live on the cluster."""

    def __init__(self, cluster: Any, forks: int, options: ConnectionOptions):
        local_workers = _local_workers(cluster)  # (a bad count is refused before Dask is imported, or missing)
        distributed = _import_distributed()
        self._local_cluster: Any = None
        self._client, self._owns_client = self._attach(distributed, cluster, local_workers, options.connect_timeout)
        try:
            workers = sorted(self._client.scheduler_info()["workers"])
            if not workers:
                raise ClusterError(f"the Dask cluster at {self._client.scheduler.address} has no workers")
            self.connections = ShardedConnections(self._client, workers, options, forks)
        except BaseException:
            self._detach()
            raise
        self._threads = ThreadPoolExecutor(max_workers=max(1, forks), thread_name_prefix="titan-worker")

    def submit(self, host: str, work: Callable[..., T], *args: Any) -> Future[T]:
        return self._threads.submit(work, *args)

    def shutdown(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        try:
            self.connections.close_all()
        finally:
            self._detach()

    def _attach(self, distributed: Any, cluster: Any, local_workers: int | None,
                timeout: float) -> tuple[Any, bool]:
        """A client of ``cluster`` (and the LocalCluster of ``local_workers`` it names); whether the run owns
        the client."""
        if isinstance(cluster, distributed.Client):
            return cluster, False
        if local_workers is not None:
            self._local_cluster = distributed.LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=logging.ERROR)
            address = self._local_cluster.scheduler_address
        else:
            address = str(cluster)
        try:
            client = distributed.Client(address, timeout=timeout, direct_to_workers=True, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            if self._local_cluster is not None:
                self._local_cluster.close()
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
        return client, True

    def _detach(self) -> None:
        if self._owns_client:
            self._client.close()
        if self._local_cluster is not None:
            self._local_cluster.close()


class Shard:
    """The controller's handle on one worker's :class:`HostShard`: calls it directly, and remembers
    the worker lost once a call could not reach it."""

    def __init__(self, client: Any, worker: str, options: ConnectionOptions, threads: int):
        self.client = client
        self.worker = worker
        self.hosts = 0
        self.lost: str | None = None
        self._future = client.submit(HostShard, options, threads, actor=True, workers=[worker],
                                     allow_other_workers=False, pure=False, key=f"titan-ops-shard-{uuid.uuid4().hex}")

    def ready(self, timeout: float) -> None:
        """Wait until the shard's actor exists on its worker."""
        self._future.result(timeout=timeout)

    def call(self, host: str, function: str, *args: Any) -> Any:
        """``function(*args)`` on the shard, for ``host``; HostUnreachable when the worker is lost."""
        if self.lost is None:
            try:
                succeeded, value = self._exchange(function, args)
            except OSError as error:  # distributed's CommClosedError is one
                self.lost = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            else:
                if succeeded:
                    return value
                raise value
        raise HostUnreachable(f"{host}: the Dask worker {self.worker} that held its connection was lost "
                              f"({self.lost})")

    def call_quietly(self, function: str) -> None:
        """``function()`` on the shard, if its worker is still there; failures ignored (interrupt, close)."""
        if self.lost is None:
            try:
                self._exchange(function, ())
            except OSError:
                pass

    def release(self) -> None:
        self._future.release()

    def _exchange(self, function: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        """One request to the shard and its answer (see HostShard.call), from any thread but the client's."""
        request = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        reply = asyncio.run_coroutine_threadsafe(self._send(request), self.client.loop.asyncio_loop).result()
        if reply["status"] != "OK":
            raise reply["exception"]  # the shard's own failure (it answers every request it can read)
        return pickle.loads(reply["result"])

    async def _send(self, request: bytes) -> dict[str, Any]:
        return await self.client.rpc(self.worker).actor_execute(actor=self._future.key, function="call",
                                                                 args=[request], kwargs={})


class ShardedConnections:
    """Each host pinned to one shard when first used (the shard with the fewest hosts), for the run."""

    def __init__(self, client: Any, workers: list[str], options: ConnectionOptions, threads: int):
        self._shards = [Shard(client, worker, options, threads) for worker in workers]
        for shard in self._shards:
            shard.ready(options.connect_timeout + 30.0)
        self._local = ConnectionPool(options)
        self._remote: dict[str, RemoteConnection] = {}
        self._lock = threading.Lock()

    def get(self, address: HostAddress) -> Any:
        if address.connection == "local":
            return self._local.get(address)
        with self._lock:
            connection = self._remote.get(address.name)
            if connection is None:
                shard = min(self._shards, key=lambda candidate: (candidate.lost is not None, candidate.hosts))
                shard.hosts += 1
                connection = self._remote[address.name] = RemoteConnection(address, shard)
            return connection

    def interrupt_all(self) -> None:
        self._each_shard("interrupt")
        self._local.interrupt_all()

    def close_all(self) -> None:
        try:
            self._each_shard("close")
            self._local.close_all()
        finally:
            for shard in self._shards:
                shard.release()

    def _each_shard(self, function: str) -> None:
        """Call every shard at once and wait for them all."""
        callers = [threading.Thread(target=shard.call_quietly, args=(function,), name="titan-ops-shard", daemon=True)
                   for shard in self._shards]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()


class RemoteConnection:
    """A host's connection, kept by its shard on a worker: the Connection interface, forwarded."""

    def __init__(self, address: HostAddress, shard: Shard):
        self.address = address
        self.shard = shard

    def run(self, command: Any, **options: Any) -> CommandResult:
        return self.shard.call(self.address.name, "run", self.address, command, options)

    def put(self, data: bytes, remote_path: str, mode: int | None = None) -> None:
        self.shard.call(self.address.name, "put", self.address, data, remote_path, mode)

    def get(self, remote_path: str) -> bytes:
        return self.shard.call(self.address.name, "get", self.address, remote_path)

    def interrupt(self) -> None:
        """Ended with the shard's other connections (ShardedConnections.interrupt_all)."""

    def close(self) -> None:
        """Closed with the shard (ShardedConnections.close_all)."""


def _local_workers(cluster: Any) -> int | None:
    """How many workers the LocalCluster that ``cluster`` names (``local``, ``local:N``) has; None when it names
    another cluster."""
    spec = str(cluster)
    if spec != LOCAL and not spec.startswith(LOCAL + ":"):
        return None
    _, _, count = spec.partition(":")
    if not count:
        return os.cpu_count() or 2
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--cluster {spec}: the number of local workers must be a positive integer")
    return int(count)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError("a cluster run needs Dask distributed: pip install 'titan-ops[cluster]'") from None
    return distributed

