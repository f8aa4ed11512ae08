"""titan-ops through its Python API: ``titan_ops.run(...)``, no renderer. Prints the seconds run() took as JSON.

    python titan_api.py PLAYBOOK INVENTORY FORKS
"""

from __future__ import annotations

import json
import sys
import time

import titan_ops


def main() -> int:
    playbook, inventory, forks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    start = time.monotonic()
    result = titan_ops.run(playbook, inventory, forks=forks)
    seconds = time.monotonic() - start
    print(json.dumps({"seconds": seconds, "exit_code": result.exit_code,
                      "failed": sorted(result.failed_hosts)}))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
