"""The clock: what the policy asks of an incident, by when, and what was done on time.

``duties(state, policy, now)`` lists every duty: notifications per audience,
the updates that follow until the resolution and the message that tells of
it, the escalation levels the chain has reached or will reach, the
regulatory notices, the post-incident review and the action items. A duty
is ``done`` (on time or late), ``due`` (not yet) or ``overdue``. ``incident
status`` shows them; ``incident check`` fails on any overdue one; the
watcher acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from titan_ops.incident.clock import iso, parse_time
from titan_ops.incident.policy import Condition, Level, Policy, Trigger
from titan_ops.incident.state import IncidentState, when

DONE, DUE, OVERDUE = "done", "due", "overdue"


@dataclass(frozen=True)
class Duty:
    """One thing owed: ``kind`` (notify, update, resolution, escalate, regulatory, review, action), its subject
    and deadline."""

    kind: str
    subject: str
    due: datetime
    done: datetime | None = None
    detail: str = ""

    def status(self, now: datetime) -> str:
        if self.done is not None:
            return DONE
        return OVERDUE if now >= self.due else DUE

    @property
    def on_time(self) -> bool:
        return self.done is not None and self.done <= self.due

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "due": iso(self.due),
                "done": iso(self.done) if self.done else None, "status": self.status(now),
                "on_time": self.on_time, "seconds_left": None if self.done else (self.due - now).total_seconds(),
                "detail": self.detail}


def duties(state: IncidentState, policy: Policy, now: datetime) -> list[Duty]:
    """Every duty of the incident at ``now``, in order of deadline."""
    found = [*_notifications(state, policy, now), *_escalations(state, policy, now),
             *_regulatory(state, policy, now), *_review(state, policy), *_actions(state, policy)]
    return sorted(found, key=lambda duty: duty.due)


def overdue(state: IncidentState, policy: Policy, now: datetime) -> list[Duty]:
    return [duty for duty in duties(state, policy, now) if duty.status(now) == OVERDUE]


# -- notifications -------------------------------------------------------------
def _sent(state: IncidentState, audience: str) -> list[datetime]:
    return [when(message) for message in state.messages if message.get("audience") == audience and message.get("ok")]


def _notifications(state: IncidentState, policy: Policy, now: datetime) -> list[Duty]:
    duty = policy.notification.get(state.severity or 0)
    if duty is None or state.detected is None or state.false_positive:
        return []
    deadline = duty.within.after(state.detected, policy.calendar)
    found = []
    for audience in duty.audiences:
        sent = _sent(state, audience)
        found.append(Duty("notify", audience, deadline, sent[0] if sent else None,
                          f"severity {state.severity}: within {duty.within} of detection"))
        if sent and state.resolved is not None:
            told = [when(message) for message in state.messages if message.get("audience") == audience
                    and message.get("ok") and message.get("status") == "RESOLVED"]
            found.append(Duty("resolution", audience, duty.within.after(state.resolved, policy.calendar),
                              told[0] if told else None, f"the resolution, within {duty.within}"))
        elif sent and duty.update_every is not None:
            found.append(Duty("update", audience, duty.update_every.after(sent[-1], policy.calendar), None,
                              f"every {duty.update_every} until resolved"))
    return found


# -- escalation ------------------------------------------------------------------
def holds(condition: Condition, state: IncidentState, policy: Policy, now: datetime) -> datetime | None:
    """Since when ``condition`` holds for the incident at ``now`` (None: it does not)."""
    since = [state.opened or now]
    if condition.severity and state.severity not in condition.severity:
        return None
    if condition.category and condition.category not in state.categories:
        return None
    if condition.financial_impact_over is not None and \
            (state.financial_impact or 0) <= condition.financial_impact_over:
        return None
    if condition.open_longer_than is not None:
        end = state.resolved or now
        reached = condition.open_longer_than.after(state.opened or now, policy.calendar)
        if end < reached:
            return None
        since.append(reached)
    if condition.outage_longer_than is not None:
        outage = state.outage(now)
        if outage is None:
            return None
        reached = condition.outage_longer_than.after(outage[0], policy.calendar)
        if outage[1] < reached:
            return None
        since.append(reached)
    if condition.regulatory:
        regulatory = regulatory_since(state, policy, now)
        if regulatory is None:
            return None
        since.append(regulatory)
    return max(since)


def firing(triggers: tuple[Trigger, ...], state: IncidentState, policy: Policy, now: datetime
           ) -> list[tuple[Trigger, datetime]]:
    """The triggers that hold, with the moment each began to hold."""
    found = []
    for trigger in triggers:
        since = holds(trigger.when, state, policy, now)
        if since is not None:
            found.append((trigger, since))
    return found


@dataclass(frozen=True)
class NextEscalation:
    """The level the chain goes to next, when, and why."""

    level: Level
    due: datetime
    reason: str


def next_escalation(state: IncidentState, policy: Policy, now: datetime) -> NextEscalation | None:
    """The next step of the chain: without an acknowledgement, up a level when the current level's response
    time has passed; with one, only up to the highest level a trigger asks for."""
    if state.resolved is not None or state.opened is None:
        return None
    current = policy.level(state.level)
    following = policy.level(state.level + 1)
    if current is None or following is None or not following.allows(state.severity):
        return None
    reached = state.level_reached_at(state.level) or state.opened
    timeout = current.response.after(reached, policy.calendar)
    if state.acknowledged is None or state.acknowledged > timeout:
        return NextEscalation(following, timeout, f"no acknowledgement from level {current.level} "
                                                  f"({current.name}) within {current.response}")
    asked = [(trigger, since) for trigger, since in firing(policy.escalation_triggers, state, policy, now)
             if trigger.level > state.level]
    if not asked:
        return None
    trigger, since = min(asked, key=lambda pair: pair[1])
    return NextEscalation(following, max(timeout, since), f"trigger: {trigger.name} (up to level {trigger.level})")


def _escalations(state: IncidentState, policy: Policy, now: datetime) -> list[Duty]:
    found = [Duty("escalate", f"level {entry['level']}", when(entry), when(entry), entry.get("reason", ""))
             for entry in state.escalations]
    step = next_escalation(state, policy, now)
    if step is not None:
        found.append(Duty("escalate", f"level {step.level.level}", step.due, None,
                          f"{step.level.name}: {step.reason}"))
    return found


# -- regulatory --------------------------------------------------------------------
def regulatory_since(state: IncidentState, policy: Policy, now: datetime) -> datetime | None:
    """Since when the incident is reportable (the earliest regulatory trigger), None when it is not."""
    moments = [since for _, since in firing(policy.regulatory_triggers, state, policy, now)]
    return min(moments) if moments else None


def _regulatory(state: IncidentState, policy: Policy, now: datetime) -> list[Duty]:
    since = regulatory_since(state, policy, now)
    if since is None or state.detected is None:
        return []
    reasons = ", ".join(trigger.name for trigger, _ in firing(policy.regulatory_triggers, state, policy, now))
    found = []
    for notice, deadline in policy.regulatory_deadlines.items():
        record = state.regulatory.get(notice)
        found.append(Duty("regulatory", notice, deadline.after(state.detected, policy.calendar),
                          record.submitted if record else None, f"{deadline} from detection ({reasons})"))
    return found


def _review(state: IncidentState, policy: Policy) -> list[Duty]:
    if policy.review_within is None or state.resolved is None or state.false_positive:
        return []
    return [Duty("review", "post-incident review", policy.review_within.after(state.resolved, policy.calendar),
                 state.review_held, f"within {policy.review_within} of resolution")]


def _actions(state: IncidentState, policy: Policy) -> list[Duty]:
    found = []
    for action in state.actions.values():
        if not action.due:
            continue
        due = parse_time(action.due if "T" in action.due else action.due + "T23:59:59", policy.timezone)
        found.append(Duty("action", f"#{action.number} {action.text}", due, action.done, f"owner {action.owner}"))
    return found
