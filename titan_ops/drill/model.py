"""Drill files: loaded, validated by the shipped JSON Schema, and resolved into phases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from titan_ops.errors import Location, TitanOpsError
from titan_ops.playbook.yaml_loader import LocatedDict, load_yaml_file, location_of

_SCHEMA = json.loads(resources.files("titan_ops").joinpath("schemas/drill.json").read_text())
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)

FAULT, RECOVERY, VERIFICATION, CLEANUP = "fault", "recovery", "verification", "cleanup"


class DrillError(TitanOpsError):
    """A drill file is missing, malformed or does not match the drill schema."""


def drill_schema() -> dict[str, Any]:
    """The drill JSON Schema shipped with the package."""
    return _SCHEMA


@dataclass(frozen=True)
class Phase:
    """One step of a drill: a playbook to run (or shell lines to run on ``hosts``), and its vars."""

    kind: str
    name: str
    playbook: Path | None = None
    shell: tuple[str, ...] = ()
    hosts: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    limit: str | None = None
    expect_failure: bool | str = False
    """The step passes when its playbook fails (a runbook that must refuse, or fail safely, here); a text: and
    the failure says it."""


@dataclass(frozen=True)
class Drill:
    """A validated drill: fault, recovery steps, verification steps, cleanup steps and the time budget."""

    path: Path
    name: str
    description: str
    budget_seconds: float
    fault: Phase
    recovery: tuple[Phase, ...]
    verification: tuple[Phase, ...]
    cleanup: tuple[Phase, ...] = ()

    @property
    def phases(self) -> tuple[Phase, ...]:
        return (self.fault, *self.recovery, *self.verification, *self.cleanup)


def load_drill(path: str | Path) -> Drill:
    """Load and validate the drill file at ``path``; raise DrillError naming file:line:column."""
    path = Path(path)
    try:
        document = load_yaml_file(str(path))
    except TitanOpsError as error:
        raise DrillError(error.message, error.location, error.key) from None
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        raise _schema_error(document, error, Location(str(path), 1, 1))
    base = path.parent
    common = dict(document.get("vars") or {})
    for step in (document["fault"], *document["recovery"], *document["verification"], *document.get("cleanup", ())):
        if "playbook" in step and not (base / step["playbook"]).is_file():
            raise DrillError(f"no playbook at {base / step['playbook']}", _where(step, "playbook", path), "playbook")
    return Drill(
        path=path,
        name=document["name"],
        description=document.get("description", ""),
        budget_seconds=float(document["budget_seconds"]),
        fault=_phase(FAULT, document["fault"], base, common),
        recovery=tuple(_phase(RECOVERY, step, base, common) for step in document["recovery"]),
        verification=tuple(_phase(VERIFICATION, step, base, common) for step in document["verification"]),
        cleanup=tuple(_phase(CLEANUP, step, base, common) for step in document.get("cleanup", ())),
    )


def _phase(kind: str, step: dict[str, Any], base: Path, common: dict[str, Any]) -> Phase:
    playbook = base / step["playbook"] if "playbook" in step else None
    name = step.get("name") or (playbook.name if playbook else f"shell on {step['hosts']}")
    return Phase(kind=kind, name=name, playbook=playbook, shell=tuple(step.get("shell", ())), hosts=step.get("hosts"),
                 vars={**common, **(step.get("vars") or {})}, limit=step.get("limit"),
                 expect_failure=step.get("expect_failure", False))


def _where(container: Any, key: str, path: Path) -> Location:
    if isinstance(container, LocatedDict):
        return container.where(key)
    return location_of(container, Location(str(path), 1, 1))


def _schema_error(document: Any, error: jsonschema.ValidationError, fallback: Location) -> DrillError:
    container, key = document, None
    for step in list(error.absolute_path)[:-1]:
        container = container[step]
    if error.absolute_path:
        key = list(error.absolute_path)[-1]
    location = container.where(key) if isinstance(container, LocatedDict) and key is not None \
        else location_of(container, fallback)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return DrillError(f"missing required key {missing[0]!r}" if missing else error.message,
                          location_of(error.instance, location))
    if error.validator == "additionalProperties":
        return DrillError(error.message, location_of(error.instance, location))
    if error.validator == "oneOf" and key in ("fault", None):
        return DrillError("a fault has either 'playbook', or 'shell' with 'hosts'", location, str(key or "fault"))
    return DrillError(f"invalid value {error.instance!r} ({error.message})", location,
                      str(key) if key is not None else None)
