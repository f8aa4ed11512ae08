"""Messages rendered from the incident's state with the procedures' templates (editable Jinja).

Only the template files are templates (the policy's or the shipped ones:
authored text, :mod:`titan_ops.trust`); everything in the context (titles,
alert labels and annotations, triage findings, host values) is data, passed
as values and never rendered. Templates render in the project's bounded
sandbox (:mod:`titan_ops.sandbox`: a deadline, size limits) with strict
undefined variables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError

from titan_ops import sandbox
from titan_ops.errors import Location, TemplateError
from titan_ops.incident.clock import format_span
from titan_ops.incident.duties import duties, regulatory_since
from titan_ops.incident.policy import Policy
from titan_ops.incident.state import IncidentState
from titan_ops.trust import Authored, is_authored

_DEFAULTS = {"internal": "internal.txt.j2", "external": "external.txt.j2", "escalation": "escalation.txt.j2",
             "ticket": "ticket.txt.j2", "regulatory": "regulatory.md.j2"}
_SUBJECTS = {"internal": "[{incident_id}] SEV{severity} {status}: {title}",
             "external": "System status update: {status_title}",
             "escalation": "[{incident_id}] ESCALATION to level {level}: {title}",
             "ticket": "[{incident_id}] SEV{severity}: {title}",
             "regulatory": "[{incident_id}] {notice} regulatory notice"}


@dataclass(frozen=True)
class Message:
    """A rendered message: its audience, subject and body."""

    audience: str
    subject: str
    body: str


def template_source(audience: str, policy: Policy | None) -> tuple[Authored, str]:
    """The template of ``audience``: the policy's file, else the one shipped; (authored text, file name)."""
    if policy is not None and audience in policy.templates:
        path = policy.templates[audience]
        return Authored(path.read_text(encoding="utf-8")), str(path)
    if audience not in _DEFAULTS:
        raise TemplateError(f"no template for audience {audience!r} (the policy's 'templates' can add one)")
    resource = resources.files("titan_ops.incident").joinpath("templates", _DEFAULTS[audience])
    return Authored(resource.read_text(encoding="utf-8")), f"titan_ops/incident/templates/{_DEFAULTS[audience]}"


@functools.cache
def _environment() -> sandbox.BoundedSandbox:
    return sandbox.BoundedSandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                                  autoescape=False)


def render_template(text: str, name: str, context: dict[str, Any]) -> str:
    """``text``, an authored template, rendered with ``context`` (data) in the bounded sandbox;
    TemplateError naming ``name``:line."""
    if not is_authored(text):
        raise TemplateError("only an authored template file is rendered, never data", Location(name))
    environment = _environment()
    try:
        template = environment.from_string(text)
        sandbox.check_constants(environment.parse(text))
        sandbox.start_deadline(sandbox.template_seconds())
        try:
            return sandbox.bounded_text(template.root_render_func(template.new_context(context)))
        finally:
            sandbox.stop_deadline()
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"template syntax error: {error.message}", Location(name, error.lineno)) from None
    except SecurityError as error:
        raise TemplateError(f"template refused by the sandbox: {error}", Location(name)) from None
    except jinja2.UndefinedError as error:
        raise TemplateError(f"template error: {error.message}", Location(name)) from None
    except TemplateError as error:  # a limit of the sandbox: its deadline, a value too large
        raise TemplateError(error.message, Location(name)) from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise TemplateError(f"template error: {error}", Location(name)) from None


def context(state: IncidentState, policy: Policy, now: datetime, **extra: Any) -> dict[str, Any]:
    """What templates see: the incident's state at ``now``, in the policy's time zone."""
    local = policy.timezone

    def show(moment: datetime | None) -> str | None:
        return moment.astimezone(local).strftime("%Y-%m-%d %H:%M %Z") if moment else None

    updates = [duty for duty in duties(state, policy, now) if duty.kind == "update" and duty.done is None]
    notification = policy.notification.get(state.severity or 0)
    outage = state.outage(now)
    status_pages = [channel.settings.get("url") for channel in policy.channels_for("external")
                    if channel.type == "statuspage" and channel.settings.get("url")]
    reportable = regulatory_since(state, policy, now)
    values = {
        "incident_id": state.incident_id, "title": state.title, "severity": state.severity,
        "status": state.status, "timestamp": show(now), "detected": show(state.detected),
        "acknowledged": show(state.acknowledged), "resolved": show(state.resolved),
        "impact": state.impact, "services_affected": state.affected_services,
        "current_actions": state.current_actions(), "estimated_resolution": None,
        "next_update": show(min(duty.due for duty in updates)) if updates else None,
        "update_frequency": str(notification.update_every) if notification and notification.update_every else None,
        "commander": state.roles.get("commander"), "roles": dict(state.roles), "categories": list(state.categories),
        "financial_impact": state.financial_impact, "whys": list(state.whys),
        "outage": format_span((outage[1] - outage[0]).total_seconds()) if outage else None,
        "status_page_url": status_pages[0] if status_pages else None,
        "reportable_since": show(reportable), "level": state.level,
    }
    return {**values, **extra}


def render(audience: str, state: IncidentState, policy: Policy, now: datetime, **extra: Any) -> Message:
    """The message for ``audience`` (internal, external, escalation, ticket, regulatory) at ``now``."""
    values = context(state, policy, now, **extra)
    text, name = template_source(audience, policy)
    body = render_template(text, name, values)
    subject_values = {**{key: ("" if value is None else value) for key, value in values.items()},
                      "status_title": f"{values['title']} ({str(values['status']).lower()})"}
    subject = _SUBJECTS.get(audience, "[{incident_id}] {title}").format_map(_Missing(subject_values))
    return Message(audience, subject, body)


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return ""
