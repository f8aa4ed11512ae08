"""``incident status``: what is due and overdue now, for people (a table) and for scripts (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from titan_ops.incident.checklists import checklist
from titan_ops.incident.clock import format_span, iso
from titan_ops.incident.duties import OVERDUE, duties, next_escalation
from titan_ops.incident.policy import Policy
from titan_ops.incident.state import IncidentState


def who(policy: Policy, level_number: int) -> str:
    """The people of an escalation level, with their phones."""
    level = policy.level(level_number)
    if level is None:
        return "-"
    people = [str(policy.contacts[role].primary) for role in level.contacts if role in policy.contacts]
    return f"level {level.level} {level.name}" + (f": {', '.join(people)}" if people else "")


def status_data(state: IncidentState, policy: Policy, now: datetime) -> dict[str, Any]:
    """The status as plain data (``incident status --json``)."""
    step = next_escalation(state, policy, now)
    ticks = checklist(state, policy)
    return {
        "incident": state.incident_id, "title": state.title, "severity": state.severity, "status": state.status,
        "now": iso(now), "detected": iso(state.detected) if state.detected else None,
        "acknowledged": iso(state.acknowledged) if state.acknowledged else None,
        "resolved": iso(state.resolved) if state.resolved else None,
        "closed": iso(state.closed) if state.closed else None,
        "level": state.level, "level_contacts": who(policy, state.level),
        "next_escalation": None if step is None else {"level": step.level.level, "due": iso(step.due),
                                                      "who": who(policy, step.level.level), "reason": step.reason},
        "roles": state.roles,
        "review_scheduled": None if state.review_held else state.review_scheduled,
        "duties": [duty.to_dict(now) for duty in duties(state, policy, now)],
        "checklist": [{"checklist": tick.item.checklist, "item": tick.item.item,
                       "done": iso(tick.done) if tick.done else None, "by": tick.by} for tick in ticks],
    }


def status_table(data: dict[str, Any]) -> str:
    """The status for people: the incident in a few lines, then each duty with its deadline and time left."""
    lines = [f"{data['incident']}  {data['title']}",
             f"severity {data['severity'] or '-'}   status {data['status']}   detected {data['detected']}   "
             f"acknowledged {data['acknowledged'] or 'NO'}" + (f"   resolved {data['resolved']}" if data["resolved"]
                                                               else ""),
             f"escalation   {data['level_contacts']}"]
    step = data["next_escalation"]
    if step:
        lines.append(f"call next    {step['who']} at {step['due']} ({step['reason']})")
    if data["roles"]:
        lines.append("roles        " + ", ".join(f"{role}: {person}" for role, person in data["roles"].items()))
    if data["review_scheduled"]:
        lines.append(f"review       scheduled for {data['review_scheduled']}")
    rows = [("", "what", "deadline", "left", "done")]
    marks = {"done": "ok", "due": "..", OVERDUE: "!!"}
    for duty in data["duties"]:
        left = "-" if duty["seconds_left"] is None else format_span(duty["seconds_left"])
        done = duty["done"] or ""
        if duty["done"] and not duty["on_time"]:
            done += " (late)"
        rows.append((marks[duty["status"]], f"{duty['kind']} {duty['subject']}", duty["due"], left, done))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines.append("")
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4]
              for row in rows]
    undone = [tick for tick in data["checklist"] if not tick["done"]]
    lines.append("")
    lines.append(f"checklists   {len(data['checklist']) - len(undone)}/{len(data['checklist'])} done")
    lines += [f"  [ ] {tick['checklist']}: {tick['item']}" for tick in undone]
    overdue = sum(1 for duty in data["duties"] if duty["status"] == OVERDUE)
    lines.append(f"\n{overdue} overdue" if overdue else "\nnothing overdue")
    return "\n".join(line.rstrip() for line in lines) + "\n"
