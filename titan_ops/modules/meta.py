"""``meta``: actions on the run itself, carried out by the runner."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

META_ACTIONS = ("flush_handlers", "end_play", "end_host", "noop")


class Meta(Module):
    """Flush handlers, end the play or the host, or do nothing."""

    name = "meta"
    description = "Run handlers now (flush_handlers), end the play (end_play) or this host (end_host)."
    free_form = "free_form"
    on_controller = True
    schema = {
        "type": "object",
        "properties": {"free_form": {"enum": list(META_ACTIONS), "description": "The action."}},
        "required": ["free_form"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        return Decision(False, {"meta": args["free_form"]})
