"""``meta``: actions on the run itself, carried out by the runner."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

META_ACTIONS = ("flush_handlers", "end_play", "end_batch", "end_host", "clear_host_errors", "clear_facts",
                "refresh_inventory", "reset_connection", "noop")


class Meta(Module):
    """Actions on the run itself, carried out by the runner."""

    name = "meta"
    description = ("Run handlers now (flush_handlers), end the play (end_play), the batch (end_batch) or this host "
                   "(end_host), let failed hosts take part in later plays (clear_host_errors), forget gathered "
                   "facts (clear_facts), read the inventory again (refresh_inventory), reconnect "
                   "(reset_connection), or do nothing (noop).")
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
