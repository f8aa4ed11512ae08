"""The procedures' checklists as items of an incident, ticked by the entries that do them or by hand.

A policy item's ``done_by`` lists entry patterns: ``{kind: run, playbook:
collect-diagnostics.yml, ok: true}`` is ticked by a live run of that
playbook that succeeded. A pattern's keys are matched against the entry,
then against a run's outcome; ``playbook`` compares file names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from titan_ops.incident.policy import ChecklistItem, Policy
from titan_ops.incident.state import IncidentState, when


@dataclass(frozen=True)
class Tick:
    """A checklist item of the incident and whether (when, by what) it was done."""

    item: ChecklistItem
    done: datetime | None
    by: str = ""


def matches(entry: dict[str, Any], pattern: dict[str, Any]) -> bool:
    """Whether ``entry`` is what ``pattern`` describes (a check-mode run never ticks anything)."""
    if entry.get("kind") == "run" and entry.get("arguments", {}).get("check"):
        return False
    for key, wanted in pattern.items():
        if key == "playbook":
            if PurePath(str(entry.get("playbook", ""))).name != wanted:
                return False
            continue
        value = entry[key] if key in entry else entry.get("outcome", {}).get(key)
        if value != wanted:
            return False
    return True


def _describe(entry: dict[str, Any]) -> str:
    if entry["kind"] == "run":
        return f"run {PurePath(str(entry.get('playbook'))).name}"
    if entry["kind"] == "checklist":
        return f"ticked by {entry.get('operator')}"
    return str(entry["kind"])


def checklist(state: IncidentState, policy: Policy) -> list[Tick]:
    """Every item of the policy's checklists, with the first entry that did it."""
    ticks = []
    for item in policy.checklists:
        done = next((entry for entry in state.entries
                     if (entry.get("kind") == "checklist" and entry.get("item") == item.item)
                     or any(matches(entry, pattern) for pattern in item.done_by)), None)
        ticks.append(Tick(item, when(done) if done else None, _describe(done) if done else ""))
    return ticks
