"""What idle SSH connections cost the controller: CPU seconds while N open connections wait.

    .venv/bin/python bench/idle_connections.py LAB_DIR [--hosts 200] [--seconds 5]

Opens a connection to each of the first HOSTS hosts of the lab in LAB_DIR (one command each),
waits SECONDS, and prints this process's CPU seconds during the wait, then how long closing them
all took and the threads left a moment later, as JSON.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from titan_ops import lab
from titan_ops.connection import ConnectionPool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lab_dir")
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    bed = lab.status(args.lab_dir)
    pool = ConnectionPool()
    connections = [pool.get(bed.address(f"lab{number}")) for number in range(1, args.hosts + 1)]
    with ThreadPoolExecutor(50) as workers:
        list(workers.map(lambda connection: connection.run("true"), connections))
    cpu = time.process_time()
    time.sleep(args.seconds)
    idle = time.process_time() - cpu
    start = time.monotonic()
    pool.close_all()
    closing = time.monotonic() - start
    time.sleep(0.5)
    print(json.dumps({"hosts": args.hosts, "seconds": args.seconds, "idle_cpu_s": round(idle, 3),
                      "close_all_s": round(closing, 3), "threads_left": threading.active_count()}))


if __name__ == "__main__":
    main()
