"""The incident recorder: an event subscriber that appends each run to the incident's timeline."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from titan_ops.engine import events
from titan_ops.engine.results import RunResult, Status
from titan_ops.incident.clock import Clock, system_clock
from titan_ops.incident.timeline import Timeline, new_entry
from titan_ops.redaction import Redactor

EVIDENCE_MODULE = "evidence"
TRIAGE_MODULE = "triage"
DECISION_MODULE = "incident_decision"
_MAX_FAILURES = 50


def environment_redactor(*known: Mapping[str, Any]) -> Redactor:
    """A Redactor that knows the secret-named values of ``known`` and of the process environment."""
    redactor = Redactor()
    for variables in known:
        redactor.collect_from(variables)
    redactor.collect_from_environment()
    return redactor


class IncidentRecorder:
    """Appends one ``run`` entry to an incident's timeline when a run ends.

    The entry holds the time, the operator, the playbook, the hosts, the
    run's arguments (``arguments``, typically extra vars, limit, check mode;
    scrubbed of secrets here), the outcome (exit code, per-host stats, the
    failed tasks) and every evidence bundle the ``evidence`` module wrote.
    Task results arrive already redacted by the engine. A ``triage`` task's
    verdict is appended as a ``triage`` entry after the run's, and each
    ``incident_decision`` task's decision as a ``note`` entry of type
    ``decision`` (its text, rationale and details).

    Entries are stamped by ``clock``, the incident's clock (the system's
    unless a drill or a test moves time), and the run's start and end are
    given on that clock too, so the timeline stays in order.
    """

    def __init__(self, incident_id: str, directory: str | os.PathLike[str] | None = None, *,
                 operator: str | None = None, arguments: Mapping[str, Any] | None = None,
                 clock: Clock | None = None):
        self.timeline = Timeline(incident_id, directory)
        self.operator = operator
        self.clock = clock or system_clock
        arguments = dict(arguments or {})
        self.arguments = environment_redactor(arguments, arguments.get("extra_vars") or {}).scrub(arguments)
        self._hosts: dict[str, None] = {}
        self._evidence: list[dict[str, Any]] = []
        self._triage: dict[str, Any] | None = None
        self._decisions: list[dict[str, Any]] = []

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.PlayStarted):
            self._hosts.update(dict.fromkeys(event.hosts))
        elif isinstance(event, events.HostTaskDone):
            self._collect_evidence(event)
            if event.result.module == TRIAGE_MODULE and "severity" in event.result.result:
                self._triage = event.result.result
            if event.result.module == DECISION_MODULE and isinstance(event.result.result.get("decision"), dict) \
                    and event.result.status is not Status.FAILED:
                self._decisions.append(event.result.result["decision"])
        elif isinstance(event, events.RunDone):
            now = self.clock()
            self.timeline.append(self.entry(event.result, now))
            if self._triage is not None:
                self.timeline.append(triage_entry(self._triage, self.operator, event.result.playbook, now))
            for decision in self._decisions:
                self.timeline.append(new_entry("note", self.operator, now=now, type="decision",
                                               text=decision["text"], rationale=decision["rationale"],
                                               details=decision["details"], source=event.result.playbook))

    def _collect_evidence(self, event: events.HostTaskDone) -> None:
        result = event.result
        bundle = result.result.get("bundle")
        if result.module == EVIDENCE_MODULE and isinstance(bundle, dict) and result.status is not Status.FAILED:
            self._evidence.append({"host": result.host, **bundle, "manifest": result.result.get("manifest")})

    def entry(self, result: RunResult, now: datetime | None = None) -> dict[str, Any]:
        """The timeline entry of ``result``, stamped ``now`` (default: the clock's time)."""
        now = now or self.clock()
        skew = now - datetime.now(UTC)  # the run's times are the system's; the entry's are the incident clock's

        def on_clock(moment: datetime) -> str:
            return (moment.astimezone(UTC) + skew).astimezone().isoformat(timespec="seconds")

        return new_entry(
            "run", self.operator, now=now,
            playbook=result.playbook,
            hosts=list(self._hosts) or sorted(result.stats),
            arguments=self.arguments,
            start=on_clock(result.start),
            end=on_clock(result.end) if result.end else None,
            outcome=outcome(result),
            evidence=list(self._evidence),
        )


def outcome(result: RunResult) -> dict[str, Any]:
    """What a run came to: verdict, exit code, per-host stats and the failed tasks."""
    failures = [{"host": task.host, "task": task.task, "msg": task.msg or task.status.value}
                for play in result.plays for tasks in play.tasks.values() for task in tasks
                if task.status in (Status.FAILED, Status.UNREACHABLE) and not task.ignored and not task.rescued]
    return {
        "ok": result.ok,
        "exit_code": result.exit_code,
        "interrupted": result.interrupted,
        "failed_hosts": result.failed_hosts,
        "unreachable_hosts": result.unreachable_hosts,
        "stats": {host: stats.to_dict() for host, stats in result.stats.items()},
        "failures": failures[:_MAX_FAILURES],
    }


def triage_entry(assessment: Mapping[str, Any], operator: str | None = None, source: str = "",
                 now: datetime | None = None) -> dict[str, Any]:
    """The timeline entry of a triage verdict (``Assessment.to_dict()`` or a ``triage`` task's result)."""
    kept = {key: assessment.get(key) for key in ("severity", "response_time", "response_team", "findings",
                                                   "playbooks")}
    return new_entry("triage", operator, now=now, source=source, **kept)
