"""The incident policy: one YAML file, validated by the shipped JSON Schema, as typed objects.

It holds the escalation levels and triggers, contacts per role, the
notification duty per severity, the regulatory triggers and deadlines, the
review deadline, the communication channels, how alerts map to severities,
and the checklists. Errors name ``file:line:column`` and the key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from titan_ops.errors import Location, TitanOpsError
from titan_ops.incident.clock import BusinessCalendar, Duration, dates, parse_duration, zone

class PolicyError(TitanOpsError):
    """The policy file is missing, malformed or does not match the policy schema."""


@dataclass(frozen=True)
class Person:
    name: str
    phone: str = ""
    email: str = ""

    def __str__(self) -> str:
        return " ".join(part for part in (self.name, self.phone, f"<{self.email}>" if self.email else "") if part)


@dataclass(frozen=True)
class Contact:
    """Who holds a role: the primary, and the backup when the primary does not answer."""

    role: str
    primary: Person
    backup: Person | None = None


@dataclass(frozen=True)
class Condition:
    """When a trigger holds; every key given must hold."""

    severity: tuple[int, ...] = ()
    open_longer_than: Duration | None = None
    outage_longer_than: Duration | None = None
    financial_impact_over: float | None = None
    category: str | None = None
    regulatory: bool = False


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    response: Duration
    contacts: tuple[str, ...] = ()
    authority: str = ""
    severities: tuple[int, ...] = ()

    def allows(self, severity: int | None) -> bool:
        """Whether an incident of ``severity`` may reach this level."""
        return not self.severities or severity in self.severities


@dataclass(frozen=True)
class Trigger:
    name: str
    when: Condition
    level: int = 0


@dataclass(frozen=True)
class NotificationDuty:
    severity: int
    within: Duration
    audiences: tuple[str, ...]
    update_every: Duration | None = None


@dataclass(frozen=True)
class Channel:
    """Where messages go: ``slack`` (incoming webhook), ``statuspage`` (JSON over HTTP) or ``email`` (SMTP)."""

    name: str
    type: str
    audiences: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChecklistItem:
    checklist: str
    item: str
    done_by: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Detection:
    severity_label: str = "severity"
    severities: dict[str, int] = field(default_factory=dict)
    default_severity: int = 2
    category_label: str = "category"


@dataclass(frozen=True)
class Policy:
    path: Path
    calendar: BusinessCalendar
    immediate: Duration
    contacts: dict[str, Contact]
    levels: tuple[Level, ...]
    escalation_triggers: tuple[Trigger, ...]
    escalation_channels: tuple[str, ...]
    notification: dict[int, NotificationDuty]
    regulatory_triggers: tuple[Trigger, ...]
    regulatory_deadlines: dict[str, Duration]
    regulatory_channels: tuple[str, ...]
    review_within: Duration | None
    channels: dict[str, Channel]
    templates: dict[str, Path]
    detection: Detection
    checklists: tuple[ChecklistItem, ...]

    @property
    def timezone(self) -> Any:
        return self.calendar.timezone

    def level(self, number: int) -> Level | None:
        return next((level for level in self.levels if level.level == number), None)

    def channels_for(self, audience: str) -> list[Channel]:
        return [channel for channel in self.channels.values() if audience in channel.audiences]


_SCHEMA = json.loads(resources.files("titan_ops").joinpath("schemas/incident-policy.json").read_text())


def default_policy_path() -> Path | None:
    """``$TITAN_OPS_INCIDENT_POLICY`` when set."""
    configured = os.environ.get("TITAN_OPS_INCIDENT_POLICY")
    return Path(configured) if configured else None


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Load and validate the policy at ``path``; PolicyError naming file:line:column and key."""
    import jsonschema

    from titan_ops.playbook.yaml_loader import load_yaml_file

    path = Path(path)
    try:
        document = load_yaml_file(path)
    except TitanOpsError as error:
        raise PolicyError(error.message, error.location, error.key) from None
    fallback = Location(str(path), 1, 1)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_SCHEMA).iter_errors(document))
    if error is not None:
        raise _schema_error(document, error, fallback)
    return _build(path, document, fallback)


def _build(path: Path, document: dict[str, Any], fallback: Location) -> Policy:
    def where(container: Any, key: str) -> Location:
        return container.where(key) if hasattr(container, "where") else fallback

    try:
        timezone = zone(document.get("timezone", "UTC"))
    except TitanOpsError as error:
        raise PolicyError(error.message, where(document, "timezone"), "timezone") from None
    calendar_doc = document.get("calendar") or {}
    calendar = BusinessCalendar(timezone, calendar_doc.get("country"), calendar_doc.get("subdivision"),
                                dates(calendar_doc.get("holidays") or ()),
                                calendar_doc.get("weekmask", "Mon Tue Wed Thu Fri"))
    if calendar.country:
        try:
            calendar.holidays([2000])
        except TitanOpsError as error:
            raise PolicyError(error.message, where(calendar_doc, "country"), "country") from None
    immediate = parse_duration(document.get("immediate", "5m"))

    def duration(text: str) -> Duration:
        return parse_duration(text, immediate.seconds)

    contacts = {role: Contact(role, Person(**entry["primary"]),
                              Person(**entry["backup"]) if entry.get("backup") else None)
                for role, entry in (document.get("contacts") or {}).items()}
    escalation = document["escalation"]
    levels = tuple(sorted((Level(entry["level"], entry["name"], duration(entry["response"]),
                                 tuple(entry.get("contacts", ())), entry.get("authority", ""),
                                 tuple(entry.get("severities", ())))
                           for entry in escalation["levels"]), key=lambda level: level.level))
    numbers = [level.level for level in levels]
    if numbers != list(range(1, len(levels) + 1)):
        raise PolicyError(f"escalation levels must be 1..{len(levels)} without gaps, found {numbers}",
                          where(escalation, "levels"), "levels")
    for entry in escalation["levels"]:
        for role in entry.get("contacts", ()):
            if role not in contacts:
                raise PolicyError(f"unknown contact role {role!r} (define it under 'contacts')",
                                  where(entry, "contacts"), "contacts")

    def condition(when: dict[str, Any]) -> Condition:
        return Condition(
            severity=tuple(when.get("severity", ())),
            open_longer_than=duration(when["open_longer_than"]) if "open_longer_than" in when else None,
            outage_longer_than=duration(when["outage_longer_than"]) if "outage_longer_than" in when else None,
            financial_impact_over=when.get("financial_impact_over"),
            category=when.get("category"),
            regulatory=bool(when.get("regulatory")))

    for entry in escalation.get("triggers", ()):
        if entry["level"] > len(levels):
            raise PolicyError(f"trigger {entry['name']!r} names level {entry['level']}, the highest is {len(levels)}",
                              where(entry, "level"), "level")
    channels = {name: Channel(name, entry["type"], tuple(entry["audiences"]),
                              {key: value for key, value in entry.items() if key not in ("type", "audiences")})
                for name, entry in document["channels"].items()}
    regulatory = document.get("regulatory") or {"triggers": [], "deadlines": {}}
    for container, key in ((escalation, "channels"), (regulatory, "channels")):
        for name in container.get(key, ()):
            if name not in channels:
                raise PolicyError(f"unknown channel {name!r}", where(container, key), key)
    templates = {}
    for audience, relative in (document.get("templates") or {}).items():
        template = (path.parent / relative)
        if not template.is_file():
            raise PolicyError(f"no template file at {template}", where(document["templates"], audience), audience)
        templates[audience] = template
    detection = document.get("detection") or {}
    checklists = tuple(ChecklistItem(name, entry["item"], tuple(dict(pattern) for pattern in entry.get("done_by", ())))
                       for name, items in (document.get("checklists") or {}).items() for entry in items)
    return Policy(
        path=path, calendar=calendar, immediate=immediate, contacts=contacts, levels=levels,
        escalation_triggers=tuple(Trigger(entry["name"], condition(entry["when"]), entry["level"])
                                  for entry in escalation.get("triggers", ())),
        escalation_channels=tuple(escalation.get("channels", ())),
        notification={entry["severity"]: NotificationDuty(entry["severity"], duration(entry["within"]),
                                                          tuple(entry["audiences"]),
                                                          duration(entry["update_every"])
                                                          if "update_every" in entry else None)
                      for entry in document["notification"]},
        regulatory_triggers=tuple(Trigger(entry["name"], condition(entry["when"])) for entry in regulatory["triggers"]),
        regulatory_deadlines={name: duration(text) for name, text in regulatory["deadlines"].items()},
        regulatory_channels=tuple(regulatory.get("channels", ())),
        review_within=duration(document["review_within"]) if "review_within" in document else None,
        channels=channels, templates=templates,
        detection=Detection(detection.get("severity_label", "severity"), dict(detection.get("severities") or {}),
                            detection.get("default_severity", 2), detection.get("category_label", "category")),
        checklists=checklists,
    )


def _schema_error(document: Any, error: Any, fallback: Location) -> PolicyError:
    """The schema error as one line at the offending key's file:line:column."""
    path = list(error.absolute_path)
    container: Any = document
    for step in path[:-1]:
        container = container[step]
    key = path[-1] if path else None
    if hasattr(container, "where") and key is not None:
        location = container.where(key)
    else:
        location = getattr(error.instance, "location", getattr(container, "location", fallback))
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        message = f"missing required key {missing[0]!r}" if missing else error.message
        return PolicyError(message, getattr(error.instance, "location", location), str(key) if key else None)
    if error.validator == "additionalProperties":
        return PolicyError(error.message, getattr(error.instance, "location", location))
    if len(path) >= 2 and path[0] == "channels" and error.validator in ("oneOf", "const", "enum",
                                                                         "additionalProperties", "required"):
        channel = document["channels"][path[1]]
        return PolicyError(f"channel settings do not fit type {channel.get('type')!r}: "
                           "slack/statuspage take url or url_env (and token_env); "
                           "email takes smtp, from, to (and secure, user, password_env)",
                           document["channels"].where(path[1]), str(path[1]))
    return PolicyError(f"invalid value {error.instance!r} ({error.message})", location,
                       str(key) if key is not None else None)
