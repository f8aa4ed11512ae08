"""``incident_steps``: which steps of an incident are failing, read from its timeline (controller only)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.incident.timeline import Timeline
from titan_ops.modules.base import Decision, HostContext, Module


def failing_steps(entries: list[dict[str, Any]], ignore: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The playbooks whose latest real run (not a dry run) in ``entries`` failed, oldest first."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry.get("kind") != "run" or (entry.get("arguments") or {}).get("check"):
            continue
        name = PurePath(str(entry.get("playbook"))).name
        if name not in ignore:
            latest.pop(name, None)
            latest[name] = entry
    return [{"playbook": name, "timestamp": entry.get("timestamp"),
             "failures": [f"{failure.get('host')}: {failure.get('task')}: {failure.get('msg')}"
                          for failure in (entry.get("outcome") or {}).get("failures", [])][:5]}
            for name, entry in latest.items() if not (entry.get("outcome") or {}).get("ok")]


class IncidentSteps(Module):
    """The incident's steps (the playbooks run for it) whose latest run failed."""

    name = "incident_steps"
    collection = None
    description = ("Read the timeline of incident `incident_id` and return `failing`: each playbook whose latest "
                   "real run (check-mode runs aside) failed, with its failures, and `runs`, how many runs the "
                   "timeline holds (none yet: no failing step). Fails on a bad incident id or timeline.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "incident_id": {"type": "string", "minLength": 1,
                            "description": "The incident (`--incident ID` sets `incident_id`)."},
            "incident_dir": {"type": "string", "description": "The incidents folder (default: as `--incident`)."},
            "ignore": {"type": "array", "items": {"type": "string"},
                       "description": "Playbook file names not to count (the run's own, say)."},
        },
        "required": ["incident_id"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        try:
            timeline = Timeline(args["incident_id"], args.get("incident_dir") or None)
            entries = timeline.entries() if timeline.path.exists() else []
        except TitanOpsError as error:
            return Decision(False, {"msg": str(error)}, failed=True)
        failing = failing_steps(entries, tuple(args.get("ignore") or ()))
        runs = sum(1 for entry in entries if entry.get("kind") == "run")
        return Decision(False, {"failing": failing, "runs": runs,
                                "msg": f"{len(failing)} failing step(s) of {runs} runs"})
