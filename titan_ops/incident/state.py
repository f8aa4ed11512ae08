"""An incident's state, folded from its timeline: nothing here is stored, everything is derived."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

from titan_ops.incident.clock import parse_time

STATUSES = ("INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED")
ROLES = ("commander", "technical", "operations", "communications")
NOTE_TYPES = ("note", "decision", "manual-action")


def when(entry: dict[str, Any]) -> datetime:
    """When an entry's event happened: its ``at`` (back-dated by an operator), else its timestamp."""
    return parse_time(entry.get("at") or entry["timestamp"])


@dataclass
class Action:
    """A follow-up of the post-incident review."""

    number: int
    text: str
    owner: str
    due: str | None
    added: datetime
    done: datetime | None = None


@dataclass
class Regulatory:
    """A regulatory notice: generated (a file in the incident's folder) and submitted (when, by whom)."""

    notice: str
    generated: datetime | None = None
    path: str | None = None
    submitted: datetime | None = None


@dataclass
class IncidentState:
    """Everything the clock, the messages and the report read about one incident."""

    incident_id: str
    entries: list[dict[str, Any]]
    title: str = ""
    opened: datetime | None = None
    detected: datetime | None = None
    started: datetime | None = None
    source: str = ""
    severity: int | None = None
    status: str = "INVESTIGATING"
    acknowledged: datetime | None = None
    acknowledged_by: str | None = None
    resolved: datetime | None = None
    closed: datetime | None = None
    false_positive: bool = False
    roles: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    financial_impact: float | None = None
    impact: str = ""
    impact_start: datetime | None = None
    impact_end: datetime | None = None
    customers_affected: int | None = None
    escalations: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Each message with its outcome (the ``message`` entry, with what its ``sending`` entry logged)."""
    sending: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Messages logged as being sent whose outcome was never recorded (the sender stopped), by attempt."""
    alerts: list[dict[str, Any]] = field(default_factory=list)
    actions: dict[int, Action] = field(default_factory=dict)
    regulatory: dict[str, Regulatory] = field(default_factory=dict)
    review_held: datetime | None = None
    review_scheduled: str | None = None
    whys: list[str] = field(default_factory=list)
    root_cause_tag: str | None = None
    manual_ticks: dict[str, datetime] = field(default_factory=dict)
    last_triage: dict[str, Any] | None = None

    @property
    def level(self) -> int:
        """The escalation level reached (1 from the opening)."""
        return max((entry["level"] for entry in self.escalations), default=1)

    def level_reached_at(self, level: int) -> datetime | None:
        if level == 1:
            return self.opened
        return next((when(entry) for entry in self.escalations if entry["level"] >= level), None)

    @property
    def affected_services(self) -> list[str]:
        """What the last triage found wrong, and the services named by the alerts still firing."""
        found = [str(finding.get("reason")) for finding in (self.last_triage or {}).get("findings") or []]
        firing: dict[str, str] = {}
        for alert in self.alerts:
            key = alert.get("fingerprint") or alert.get("name")
            service = alert.get("labels", {}).get("service") or alert.get("labels", {}).get("job")
            if alert.get("status") == "resolved":
                firing.pop(key, None)
            elif service:
                firing[key] = f"{service} (alert {alert.get('name')})"
        return found + sorted(set(firing.values()) - set(found))

    def outage(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The customer impact: from its recorded start (for a severity 1, detection when none is recorded)
        to its recorded end, the resolution, or ``now``."""
        start = self.impact_start or (self.detected if self.severity == 1 else None)
        if start is None or self.false_positive:
            return None
        return start, self.impact_end or self.resolved or now

    def current_actions(self, limit: int = 5) -> list[str]:
        """What the team did last: runs, manual actions and decisions, newest first."""
        done = []
        for entry in reversed(self.entries):
            if entry["kind"] == "run":
                verdict = "ok" if entry.get("outcome", {}).get("ok") else "failed"
                done.append(f"{PurePath(str(entry.get('playbook'))).name} ({verdict})")
            elif entry["kind"] == "note" and entry.get("type") in ("manual-action", "decision"):
                done.append(entry["text"])
            if len(done) == limit:
                break
        return done


def fold(incident_id: str, entries: list[dict[str, Any]]) -> IncidentState:
    """The state of ``incident_id`` after ``entries`` (oldest first)."""
    state = IncidentState(incident_id, entries)
    for entry in entries:
        _APPLY.get(entry.get("kind", ""), _ignore)(state, entry)
    return state


def _ignore(state: IncidentState, entry: dict[str, Any]) -> None:
    pass


def _open(state: IncidentState, entry: dict[str, Any]) -> None:
    state.opened = when(entry)
    state.title = entry.get("title", "")
    state.detected = parse_time(entry["detected_at"]) if entry.get("detected_at") else state.opened
    state.started = parse_time(entry["started_at"]) if entry.get("started_at") else None
    state.source = entry.get("source", "")
    state.severity = entry.get("severity")
    state.categories = list(entry.get("categories") or [])


def _ack(state: IncidentState, entry: dict[str, Any]) -> None:
    if state.acknowledged is None:
        state.acknowledged, state.acknowledged_by = when(entry), entry.get("operator")


def _status(state: IncidentState, entry: dict[str, Any]) -> None:
    state.status = entry["status"]


def _severity(state: IncidentState, entry: dict[str, Any]) -> None:
    if entry.get("severity") is not None:
        state.severity = entry["severity"]


def _triage(state: IncidentState, entry: dict[str, Any]) -> None:
    state.last_triage = entry
    if state.severity is None and entry.get("severity") is not None:
        state.severity = entry["severity"]


def _assign(state: IncidentState, entry: dict[str, Any]) -> None:
    state.roles[entry["role"]] = entry["person"]


def _impact(state: IncidentState, entry: dict[str, Any]) -> None:
    if entry.get("financial_impact") is not None:
        state.financial_impact = float(entry["financial_impact"])
    if entry.get("description"):
        state.impact = entry["description"]
    if entry.get("start"):
        state.impact_start = parse_time(entry["start"])
    if entry.get("end"):
        state.impact_end = parse_time(entry["end"])
    if entry.get("customers_affected") is not None:
        state.customers_affected = int(entry["customers_affected"])
    for category in entry.get("categories") or ():
        if category not in state.categories:
            state.categories.append(category)


def _escalate(state: IncidentState, entry: dict[str, Any]) -> None:
    state.escalations.append(entry)


def _sending(state: IncidentState, entry: dict[str, Any]) -> None:
    state.sending[entry["attempt"]] = entry


def _message(state: IncidentState, entry: dict[str, Any]) -> None:
    attempt = state.sending.pop(entry["attempt"], None) if entry.get("attempt") else None
    state.messages.append({**attempt, **entry} if attempt else entry)


def _alert(state: IncidentState, entry: dict[str, Any]) -> None:
    state.alerts.append(entry)


def _resolve(state: IncidentState, entry: dict[str, Any]) -> None:
    state.resolved, state.status = when(entry), "RESOLVED"


def _reopen(state: IncidentState, entry: dict[str, Any]) -> None:
    state.resolved, state.closed, state.status = None, None, "INVESTIGATING"


def _close(state: IncidentState, entry: dict[str, Any]) -> None:
    state.closed = when(entry)
    state.false_positive = bool(entry.get("false_positive"))
    if state.resolved is None:
        state.resolved, state.status = state.closed, "RESOLVED"


def _action(state: IncidentState, entry: dict[str, Any]) -> None:
    number = entry["number"]
    if entry.get("done"):
        if number in state.actions:
            state.actions[number].done = when(entry)
    else:
        state.actions[number] = Action(number, entry["text"], entry.get("owner", ""), entry.get("due"), when(entry))


def _regulatory(state: IncidentState, entry: dict[str, Any]) -> None:
    notice = state.regulatory.setdefault(entry["notice"], Regulatory(entry["notice"]))
    if entry.get("path"):
        notice.generated, notice.path = when(entry), entry["path"]
    if entry.get("submitted") and notice.submitted is None:
        notice.submitted = when(entry)


def _review(state: IncidentState, entry: dict[str, Any]) -> None:
    if entry.get("held"):
        state.review_held = when(entry)
    if entry.get("scheduled_for"):
        state.review_scheduled = entry["scheduled_for"]


def _root_cause(state: IncidentState, entry: dict[str, Any]) -> None:
    state.whys = list(entry.get("whys") or state.whys)
    state.root_cause_tag = entry.get("tag") or state.root_cause_tag


def _checklist(state: IncidentState, entry: dict[str, Any]) -> None:
    state.manual_ticks.setdefault(entry["item"], when(entry))


_APPLY = {
    "open": _open, "ack": _ack, "status": _status, "severity": _severity, "triage": _triage, "assign": _assign,
    "impact": _impact, "escalate": _escalate, "sending": _sending, "message": _message, "alert": _alert,
    "resolve": _resolve, "reopen": _reopen, "close": _close, "action": _action, "regulatory": _regulatory,
    "review": _review, "root-cause": _root_cause, "checklist": _checklist,
}
