"""``incident_decision``: a decision and its rationale, for the incident's timeline (controller only)."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module


class IncidentDecision(Module):
    """Record a decision taken by a runbook (re-arming trading, say) with who asked and why."""

    name = "incident_decision"
    collection = None
    description = ("A decision taken by the run, with its rationale and details (what was confirmed, which "
                   "gates held). Changes nothing by itself: a run with an incident (`--incident ID`) records it "
                   "in the incident's timeline as a `note` entry of type `decision`, after the run's entry.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "description": "What was decided."},
            "rationale": {"type": "string", "minLength": 1, "description": "Why (the operator's justification)."},
            "details": {"type": "object", "description": "What else the record keeps (confirmation, gates)."},
        },
        "required": ["text", "rationale"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        decision = {"text": args["text"], "rationale": args["rationale"], "details": args.get("details") or {}}
        return Decision(False, {"decision": decision, "msg": f"decision: {args['text']} ({args['rationale']})"})
