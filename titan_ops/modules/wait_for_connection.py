"""``wait_for_connection``: wait until the host can be logged in to again and runs a command (after a
reboot, a network change): the task's connection is closed and opened anew until a command runs."""

from __future__ import annotations

import time
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import Decision, HostContext, Module


class WaitForConnection(Module):
    """Log in again and run ``true`` until it works or the timeout passes."""

    name = "wait_for_connection"
    description = ("Wait until the host can be logged in to and runs a command: the connection is opened anew "
                   "(a new login) every `sleep` seconds until a command runs, or `timeout` passes.")
    supports_check_mode = False
    schema = {
        "type": "object",
        "properties": {
            "timeout": {"type": "integer", "minimum": 0, "default": 600,
                        "description": "Seconds to wait at most before the task fails."},
            "delay": {"type": "integer", "minimum": 0, "default": 0,
                      "description": "Seconds to wait before the first attempt."},
            "sleep": {"type": "integer", "minimum": 0, "default": 1,
                      "description": "Seconds between attempts."},
            "connect_timeout": {"type": "integer", "minimum": 0, "default": 5,
                                "description": "Accepted for compatibility: each login waits as long as the "
                                               "run's connection timeout."},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        return Decision(True)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        start = time.monotonic()
        deadline = start + args.get("timeout", 600)
        time.sleep(args.get("delay", 0))
        while True:
            try:
                host.connection.close()  # the next command logs in again
                done = host.run("true")
                problem = None if done.rc == 0 else f"the host could not run a command (rc {done.rc})"
            except TitanOpsError as error:
                problem = error.message
            if problem is None:
                return {"changed": False, "elapsed": int(time.monotonic() - start)}
            if time.monotonic() + args.get("sleep", 1) > deadline:
                return {"changed": False, "failed": True, "elapsed": int(time.monotonic() - start),
                        "msg": f"timed out waiting for ping module test: {problem}"}
            time.sleep(args.get("sleep", 1))
