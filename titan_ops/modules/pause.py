"""``pause``: wait a number of seconds on the controller (no prompt)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module


class Pause(Module):
    """Sleep on the controller; the only supported form is ``seconds``.

    Prompts and ``minutes`` are rejected: an unattended run must never wait
    for a keyboard.
    """

    name = "pause"
    description = "Wait a number of seconds on the controller before going on."
    on_controller = True
    once_per_batch = True
    schema = {
        "type": "object",
        "properties": {
            "seconds": {"type": "number", "minimum": 0, "description": "How long to wait, in seconds."},
        },
        "required": ["seconds"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        # Waiting changes no host, so it happens here and in check mode too, as in Ansible.
        seconds = float(args["seconds"])
        start = datetime.now()
        time.sleep(seconds)
        stop = datetime.now()
        return Decision(False, {
            "start": start.isoformat(sep=" "),
            "stop": stop.isoformat(sep=" "),
            "delta": round((stop - start).total_seconds()),
            "echo": True,
            "rc": 0,
            "stdout": f"Paused for {seconds} seconds",
            "stderr": "",
            "user_input": "",
        })
