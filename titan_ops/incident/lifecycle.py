"""The incident's lifecycle: each command appends one entry to the timeline, stamped by the clock.

``Incident`` is the library's handle on one incident: ``open``, ``ack``,
``set_status``, ``note``, ``assign``, ``set_severity``, ``record_impact``,
``resolve``, ``close``, ``escalate``, the action items, the root cause and
the review. The state is always folded from the timeline again, so two
operators (and a run in progress) writing at once lose nothing.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.incident.clock import Clock, iso, system_clock
from titan_ops.incident.state import NOTE_TYPES, ROLES, STATUSES, IncidentState, fold
from titan_ops.incident.timeline import Timeline, default_directory, new_entry


class IncidentError(TitanOpsError):
    """A lifecycle command that does not fit the incident's state (unknown, already open, closed...)."""


def new_incident_id(directory: str | os.PathLike[str] | None, now: datetime) -> str:
    """The next free ``INC-YYYYMMDD-NNN`` of ``now``'s day, reserved by creating its folder."""
    base = Path(directory) if directory is not None else default_directory()
    base.mkdir(parents=True, exist_ok=True)
    day = now.strftime("%Y%m%d")
    number = len(list(base.glob(f"INC-{day}-*"))) + 1
    while True:
        candidate = f"INC-{day}-{number:03d}"
        try:
            (base / candidate).mkdir()
            return candidate
        except FileExistsError:
            number += 1


class Incident:
    """One incident's timeline, with the lifecycle commands that append to it."""

    def __init__(self, incident_id: str, directory: str | os.PathLike[str] | None = None, *,
                 clock: Clock = system_clock, operator: str | None = None):
        self.timeline = Timeline(incident_id, directory)
        self.incident_id = incident_id
        self.directory = directory
        self.clock = clock
        self.operator = operator

    @classmethod
    def create(cls, title: str, directory: str | os.PathLike[str] | None = None, *, incident_id: str | None = None,
               severity: int | None = None, detected_at: datetime | None = None, started_at: datetime | None = None,
               source: str = "manual", categories: list[str] | None = None, clock: Clock = system_clock,
               operator: str | None = None, **fields: Any) -> Incident:
        """Open a new incident (with a fresh ``INC-...`` id unless ``incident_id`` is given)."""
        now = clock()
        incident = cls(incident_id or new_incident_id(directory, now), directory, clock=clock, operator=operator)
        if severity is not None and severity not in (1, 2, 3, 4):
            raise IncidentError(f"severity must be 1, 2, 3 or 4, not {severity}")
        if detected_at is not None and detected_at > now:
            raise IncidentError(f"detected-at {iso(detected_at)} is in the future")

        def not_yet_open(entries: list[dict[str, Any]]) -> None:
            if any(entry.get("kind") == "open" for entry in entries):
                raise IncidentError(f"incident {incident.incident_id} is already open")

        incident._append("open", check=not_yet_open, title=title, severity=severity,
                         detected_at=iso(detected_at or now), started_at=iso(started_at) if started_at else None,
                         source=source, categories=list(categories or []), **fields)
        return incident

    # -- reading -------------------------------------------------------------
    def entries(self) -> list[dict[str, Any]]:
        return self.timeline.entries()

    def state(self) -> IncidentState:
        """The incident as its timeline has it now; IncidentError when it was never opened."""
        state = fold(self.incident_id, self.entries())
        if state.opened is None:
            raise IncidentError(f"incident {self.incident_id} was never opened (its timeline has runs only: "
                                f"`titan-ops incident open --id {self.incident_id} TITLE`)")
        return state

    # -- the lifecycle -------------------------------------------------------
    def ack(self, at: datetime | None = None) -> dict[str, Any]:
        self._open_state()
        return self._append("ack", at=at)

    def set_status(self, status: str, message: str = "") -> dict[str, Any]:
        status = status.upper()
        if status not in STATUSES:
            raise IncidentError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if status == "RESOLVED":
            return self.resolve(message)
        self._open_state()
        return self._append("status", status=status, message=message)

    def note(self, text: str, note_type: str = "note", rationale: str = "", at: datetime | None = None
             ) -> dict[str, Any]:
        if note_type not in NOTE_TYPES:
            raise IncidentError(f"note type must be one of {', '.join(NOTE_TYPES)}, not {note_type!r}")
        if not text.strip():
            raise IncidentError("a note needs text")
        self._open_state(allow_closed=True)
        return self._append("note", at=at, type=note_type, text=text, rationale=rationale)

    def assign(self, role: str, person: str) -> dict[str, Any]:
        if role not in ROLES:
            raise IncidentError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        self._open_state()
        return self._append("assign", role=role, person=person)

    def set_severity(self, severity: int, reason: str = "") -> dict[str, Any]:
        if severity not in (1, 2, 3, 4):
            raise IncidentError(f"severity must be 1, 2, 3 or 4, not {severity}")
        self._open_state()
        return self._append("severity", severity=severity, reason=reason)

    def record_impact(self, *, financial_impact: float | None = None, description: str = "",
                      start: datetime | None = None, end: datetime | None = None,
                      customers_affected: int | None = None, categories: list[str] | None = None) -> dict[str, Any]:
        self._open_state(allow_closed=True)
        if start and end and end < start:
            raise IncidentError("the impact ends before it starts")
        return self._append("impact", financial_impact=financial_impact, description=description,
                            start=iso(start) if start else None, end=iso(end) if end else None,
                            customers_affected=customers_affected, categories=list(categories or []))

    def escalate(self, level: int, reason: str, contacts: list[str] | None = None) -> dict[str, Any]:
        state = self._open_state()
        if level <= state.level:
            raise IncidentError(f"incident {self.incident_id} is at level {state.level} already")
        return self._append("escalate", level=level, reason=reason, contacts=list(contacts or []))

    def resolve(self, summary: str = "", at: datetime | None = None) -> dict[str, Any]:
        state = self._open_state()
        if state.resolved is not None:
            raise IncidentError(f"incident {self.incident_id} is resolved already")
        return self._append("resolve", at=at, summary=summary)

    def close(self, false_positive: bool = False, reason: str = "") -> dict[str, Any]:
        self._open_state()
        return self._append("close", false_positive=false_positive, reason=reason)

    def tick(self, item: str, known_items: list[str]) -> dict[str, Any]:
        """Tick a checklist item by hand."""
        if item not in known_items:
            raise IncidentError(f"no checklist item {item!r} in the policy")
        self._open_state(allow_closed=True)
        return self._append("checklist", item=item)

    def add_action(self, text: str, owner: str, due: str | None = None) -> dict[str, Any]:
        state = self._open_state(allow_closed=True)
        return self._append("action", number=max(state.actions, default=0) + 1, text=text, owner=owner, due=due)

    def finish_action(self, number: int) -> dict[str, Any]:
        state = self._open_state(allow_closed=True)
        if number not in state.actions:
            raise IncidentError(f"incident {self.incident_id} has no action {number}")
        if state.actions[number].done is not None:
            raise IncidentError(f"action {number} is done already")
        return self._append("action", number=number, done=True)

    def root_cause(self, whys: list[str], tag: str | None = None) -> dict[str, Any]:
        if len(whys) > 5:
            raise IncidentError("the five whys are five at most")
        self._open_state(allow_closed=True)
        return self._append("root-cause", whys=whys, tag=tag)

    def review(self, *, held: bool = False, scheduled_for: datetime | None = None) -> dict[str, Any]:
        self._open_state(allow_closed=True)
        return self._append("review", held=held, scheduled_for=iso(scheduled_for) if scheduled_for else None)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append an entry of ``kind`` (alerts, messages, regulatory notices) stamped by the clock."""
        return self._append(kind, **fields)

    def _open_state(self, allow_closed: bool = False) -> IncidentState:
        state = self.state()
        if state.closed is not None and not allow_closed:
            raise IncidentError(f"incident {self.incident_id} is closed")
        return state

    def _append(self, kind: str, at: datetime | None = None, check: Any = None, **fields: Any) -> dict[str, Any]:
        now = self.clock()
        if at is not None and at > now:
            raise IncidentError(f"{iso(at)} is in the future")
        entry = new_entry(kind, self.operator, now=now, **fields)
        if at is not None:
            entry["at"] = iso(at)
        self.timeline.append(entry, check)
        return entry
