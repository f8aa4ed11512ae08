"""What one remote command costs the controller: through its own SSH connection, and through a cluster shard.

    .venv/bin/python bench/cluster_call.py LAB_DIR [--cluster local:1] [--calls 200]

Runs ``true`` on lab1 of the lab in LAB_DIR CALLS times, one after another, first over the
controller's own connection (paramiko), then through the HostShard of a Dask worker that
holds the connection (``--cluster``: a scheduler address, or ``local:N``). Prints the
wall milliseconds and the controller's CPU milliseconds (this process, every thread) per
command for each, as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from titan_ops import lab
from titan_ops.connection import ConnectionPool
from titan_ops.connection.base import ConnectionOptions
from titan_ops.engine.dispatch_cluster import ClusterDispatcher


def per_command(run: Callable[[], object], calls: int) -> dict[str, float]:
    run()  # connected, warmed up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        run()
    return {"wall_ms": (time.perf_counter() - wall) * 1000 / calls,
            "controller_cpu_ms": (time.process_time() - cpu) * 1000 / calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lab_dir")
    parser.add_argument("--cluster", default="local:1")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    address = lab.status(args.lab_dir).address("lab1")
    pool = ConnectionPool()
    try:
        direct = per_command(lambda: pool.get(address).run("true"), args.calls)
    finally:
        pool.close_all()
    dispatcher = ClusterDispatcher(args.cluster, 1, ConnectionOptions())
    try:
        sharded = per_command(lambda: dispatcher.connections.get(address).run("true"), args.calls)
    finally:
        dispatcher.shutdown()
    print(json.dumps({"calls": args.calls, "cluster": args.cluster, "direct": direct, "through_a_shard": sharded}))


if __name__ == "__main__":
    main()
