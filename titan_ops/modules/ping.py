"""``ping``: the host can be reached and runs a command."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module


class Ping(Module):
    """Log in and run ``true``; answer ``pong`` (or ``data``)."""

    name = "ping"
    description = "Check that the host can be reached and runs a command; answers `pong`."
    schema = {
        "type": "object",
        "properties": {
            "data": {"type": "string", "default": "pong",
                     "description": "What to answer with; `crash` makes the task fail (as in Ansible)."},
        },
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> int:
        return host.run("true").rc

    def decide(self, args: dict[str, Any], state: int, host: HostContext) -> Decision:
        data = args.get("data", "pong")
        if data == "crash":
            return Decision(False, {"msg": "boom"}, failed=True)
        if state != 0:
            return Decision(False, {"msg": f"the host could not run a command (rc {state})"}, failed=True)
        return Decision(False, {"ping": data})
