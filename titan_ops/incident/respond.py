"""Doing what the clock says is owed: messages to an audience, the next escalation, regulatory notices.

Each function reads the incident's state from its timeline, acts, and
appends what it did: a ``sending`` entry before each channel's message and
a ``message`` entry with its outcome after (the communication log), an
``escalate`` entry, a ``regulatory`` entry with the notice's file.
The watcher calls :func:`act_on_duties` after each alert and on its ticks.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.incident.clock import iso
from titan_ops.incident.duties import OVERDUE, duties, firing, next_escalation
from titan_ops.incident.lifecycle import Incident
from titan_ops.incident.messages import render
from titan_ops.incident.notify import channel_secrets, deliver
from titan_ops.incident.policy import Channel, Policy
from titan_ops.redaction import Redactor


def _channels(policy: Policy, audience: str, names: list[str] | None) -> list[Channel]:
    if names:
        unknown = [name for name in names if name not in policy.channels]
        if unknown:
            raise TitanOpsError(f"unknown channel {unknown[0]!r} (the policy has {', '.join(policy.channels)})")
        return [policy.channels[name] for name in names]
    chosen = policy.channels_for(audience)
    if not chosen:
        raise TitanOpsError(f"no channel in the policy serves audience {audience!r}")
    return chosen


def notify(incident: Incident, policy: Policy, audience: str, channels: list[str] | None = None,
           **extra: Any) -> list[dict[str, Any]]:
    """Render ``audience``'s message and send it through its channels; the ``message`` entries appended.

    Each channel's message is logged before it goes (a ``sending`` entry with the message) and its outcome
    after (a ``message`` entry naming the attempt): a sender that dies in between leaves the attempt in
    the communication log, its outcome unknown, and the duty still owed.
    """
    now = incident.clock()
    state = incident.state()
    targets = _channels(policy, audience, channels)
    message = render(audience, state, policy, now, **extra)
    redactor = Redactor([secret for channel in targets for secret in channel_secrets(channel)])
    fields = {"incident": state.incident_id, "status": state.status, "severity": state.severity}
    entries = []
    for channel in targets:
        logged = {"audience": audience, "channel": channel.name, "channel_type": channel.type,
                  "status": state.status, "severity": state.severity}
        attempt = uuid.uuid4().hex[:12]
        incident.append("sending", attempt=attempt, **logged, subject=redactor.text(message.subject),
                        body=redactor.text(message.body))
        delivery = deliver(channel, message, fields, redactor)
        entries.append(incident.append("message", attempt=attempt, **logged, ok=delivery.ok, error=delivery.error))
    return entries


def escalate(incident: Incident, policy: Policy, level: int | None = None, reason: str = "") -> dict[str, Any] | None:
    """Escalate to ``level`` (default: the next level, when it is due) and tell the escalation channels."""
    now = incident.clock()
    state = incident.state()
    step = next_escalation(state, policy, now)
    if level is None:
        if step is None or step.due > now:
            return None
        level, reason = step.level.level, reason or step.reason
    target = policy.level(level)
    if target is None:
        raise TitanOpsError(f"the policy has no escalation level {level}")
    contacts = [str(policy.contacts[role].primary) for role in target.contacts if role in policy.contacts]
    entry = incident.escalate(level, reason or "by hand", contacts)
    if policy.escalation_channels:
        notify(incident, policy, "escalation", list(policy.escalation_channels), level=level,
               level_name=target.name, reason=entry["reason"], contacts=contacts, authority=target.authority)
    return entry


def act_on_duties(incident: Incident, policy: Policy) -> list[dict[str, Any]]:
    """Take the escalation steps that are due and send the notifications, updates and resolution messages
    that are owed; the entries the timeline gained meanwhile."""
    before = len(incident.entries())
    while escalate(incident, policy) is not None:
        pass
    state = incident.state()
    now = incident.clock()
    owed = [duty for duty in duties(state, policy, now)
            if duty.kind in ("notify", "resolution") and duty.done is None
            or duty.kind == "update" and duty.status(now) == OVERDUE]
    for audience in dict.fromkeys(duty.subject for duty in owed):
        if policy.channels_for(audience):
            notify(incident, policy, audience)
    return incident.entries()[before:]


def regulatory_notice(incident: Incident, policy: Policy, notice: str, *, submitted: bool = False,
                      at: datetime | None = None) -> list[dict[str, Any]]:
    """Write the ``notice`` (initial, detailed, final) from the incident's state into its folder and send it
    to the policy's ``regulatory.channels`` (the people who file it), or record its submission
    (``submitted``, ``at``); the entries the timeline gained, the ``regulatory`` entry first."""
    from titan_ops.output.files import write_atomically

    if notice not in policy.regulatory_deadlines:
        raise TitanOpsError(f"no regulatory notice {notice!r} in the policy ({', '.join(policy.regulatory_deadlines)})")
    if submitted:
        incident.state()
        return [incident.append("regulatory", notice=notice, submitted=True, **({"at": iso(at)} if at else {}))]
    now = incident.clock()
    state = incident.state()
    reasons = [trigger.name for trigger, _ in firing(policy.regulatory_triggers, state, policy, now)]
    if not reasons:
        raise TitanOpsError(f"incident {state.incident_id} meets no regulatory trigger of the policy")
    deadline = next(duty for duty in duties(state, policy, now) if duty.kind == "regulatory" and duty.subject == notice)
    details = {"notice": notice, "reasons": reasons,
               "due": deadline.due.astimezone(policy.timezone).strftime("%Y-%m-%d %H:%M %Z")}
    message = render("regulatory", state, policy, now, **details)
    path = Path(incident.timeline.folder) / f"regulatory-{notice}.md"
    write_atomically(path, message.body)
    entry = incident.append("regulatory", notice=notice, path=str(path), due=iso(deadline.due))
    if not policy.regulatory_channels:
        return [entry]
    return [entry, *notify(incident, policy, "regulatory", list(policy.regulatory_channels), **details)]
