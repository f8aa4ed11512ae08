"""Running a drill: inject the fault, recover, verify, and time the recovery against the budget."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

import yaml

from titan_ops.api import run
from titan_ops.drill.model import CLEANUP, FAULT, RECOVERY, VERIFICATION, Drill, DrillError, Phase
from titan_ops.engine.events import Subscriber
from titan_ops.engine.results import RunResult, Status
from titan_ops.errors import TitanOpsError
from titan_ops.incident.timeline import Timeline, new_entry
from titan_ops.inventory import Inventory, load_inventory

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class PhaseResult:
    """How one phase went: its status, duration, the run behind it and, when it failed, why."""

    phase: Phase
    status: str
    duration: float = 0.0
    run: RunResult | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.phase.kind, "name": self.phase.name, "status": self.status,
                "duration": round(self.duration, 3), "message": self.message,
                "playbook": str(self.phase.playbook) if self.phase.playbook else None}


@dataclass
class DrillResult:
    """The whole drill: every phase, the time to recover and the verdict."""

    drill: Drill
    phases: list[PhaseResult] = field(default_factory=list)
    time_to_recover: float | None = None

    @property
    def over_budget(self) -> bool:
        return self.time_to_recover is not None and self.time_to_recover > self.drill.budget_seconds

    @property
    def passed(self) -> bool:
        return bool(self.phases) and all(phase.status == PASSED for phase in self.phases) and not self.over_budget

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 2

    def to_dict(self) -> dict[str, Any]:
        return {"drill": self.drill.name, "file": str(self.drill.path), "passed": self.passed,
                "budget": self.drill.budget_seconds, "time_to_recover": self.time_to_recover,
                "over_budget": self.over_budget, "phases": [phase.to_dict() for phase in self.phases]}


LAB_MARKER = "titan_lab"
"""The inventory variable that says a host belongs to a lab (``titan-ops lab up`` sets it on every host)."""


def require_lab(inventory: Inventory | str | Path) -> Inventory:
    """``inventory`` loaded, if every one of its hosts is a lab's (``titan_lab: true``); DrillError otherwise.

    A drill injects faults: against production it would cause the incident
    it rehearses. Run one there only on purpose (``allow_non_lab``).
    """
    loaded = inventory if isinstance(inventory, Inventory) else load_inventory(str(inventory))
    hosts = loaded.list_hosts("all")
    outside = [host for host in hosts if loaded.host_vars(host).get(LAB_MARKER) is not True]
    if not hosts or outside:
        where = ", ".join(loaded.sources) or "the inventory"
        shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
        raise DrillError(f"refusing to run a drill against {where}: it is not a lab's inventory "
                         f"({'no hosts' if not hosts else 'hosts without titan_lab: true: ' + shown}); drills "
                         "inject faults. To run one there anyway, pass --allow-non-lab (API: allow_non_lab=True)")
    return loaded


PhaseObserver = Callable[[Phase, "PhaseResult | None"], None]
"""Called with (phase, None) when a phase starts and (phase, its result) when it ends."""


def run_drill(drill: Drill, inventory: Inventory | str | Path, *, subscribers: Sequence[Subscriber] = (),
              observer: PhaseObserver | None = None, incident: str | None = None,
              incident_dir: str | Path | None = None, allow_non_lab: bool = False,
              **run_options: Any) -> DrillResult:
    """Run ``drill`` against ``inventory`` and return its result (never raises for a failed phase).

    The fault must succeed for recovery to start; recovery steps run in
    order until one fails; verification always runs once the fault is in,
    and so does the cleanup after it (outside the time to recover, which
    runs from the end of the fault to the end of the verification). With
    ``incident``, every phase run and the drill's verdict go to the
    incident's timeline. ``run_options`` go to every
    :func:`titan_ops.run` call (``forks``, ``host_key_checking``, ...).
    Raises DrillError for an inventory that is not a lab's (see
    :func:`require_lab`) unless ``allow_non_lab``.
    """
    if not allow_non_lab:
        inventory = require_lab(inventory)
    result = DrillResult(drill)
    observe = observer or (lambda phase, outcome: None)

    def play(phase: Phase) -> PhaseResult:
        observe(phase, None)
        outcome = _run_phase(phase, inventory, subscribers, incident, incident_dir, run_options)
        result.phases.append(outcome)
        observe(phase, outcome)
        return outcome

    def skip(phases: Sequence[Phase], why: str) -> None:
        for phase in phases:
            outcome = PhaseResult(phase, SKIPPED, message=why)
            result.phases.append(outcome)
            observe(phase, outcome)

    if play(drill.fault).status != PASSED:
        skip((*drill.recovery, *drill.verification, *drill.cleanup), "the fault was not injected")
    else:
        recovery_started = time.monotonic()
        for index, phase in enumerate(drill.recovery):
            if play(phase).status != PASSED:
                skip(drill.recovery[index + 1:], f"recovery step {phase.name} failed")
                break
        for phase in drill.verification:
            play(phase)
        result.time_to_recover = time.monotonic() - recovery_started
        for phase in drill.cleanup:
            play(phase)
    if incident is not None:
        Timeline(incident, incident_dir).append(new_entry("drill", **result.to_dict()))
    return result


def _run_phase(phase: Phase, inventory: Inventory | str | Path, subscribers: Sequence[Subscriber],
               incident: str | None, incident_dir: str | Path | None, run_options: dict[str, Any]) -> PhaseResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="titan-drill-") as scratch:
        playbook = phase.playbook or _shell_playbook(phase, Path(scratch))
        try:
            outcome = run(playbook, inventory, extra_vars=phase.vars, limit=phase.limit, subscribers=subscribers,
                          incident=incident, incident_dir=incident_dir, **run_options)
        except TitanOpsError as error:  # a bad playbook or inventory fails the phase, not the drill runner
            return PhaseResult(phase, FAILED, time.monotonic() - started, message=str(error))
    succeeded = bool(outcome.ok and outcome.stats)
    if phase.expect_failure is not False:
        why = _why(outcome)
        wanted = phase.expect_failure if isinstance(phase.expect_failure, str) else ""
        status = PASSED if outcome.stats and not outcome.ok and not outcome.interrupted and wanted in why else FAILED
        message = f"failed as expected: {why}" if status == PASSED else \
            "expected to fail" + (f" saying {wanted!r}" if wanted else "") + ", but " + \
            ("it passed" if succeeded else why)
        return PhaseResult(phase, status, time.monotonic() - started, outcome, message)
    status = PASSED if succeeded else FAILED
    return PhaseResult(phase, status, time.monotonic() - started, outcome, "" if status == PASSED else _why(outcome))


def _shell_playbook(phase: Phase, folder: Path) -> Path:
    """A one-play playbook running the phase's shell lines on its hosts, in order."""
    tasks = [{"name": f"{phase.kind} step {index + 1}", "shell": line} for index, line in enumerate(phase.shell)]
    document = [{"name": f"{phase.kind}: {phase.name}", "hosts": phase.hosts, "gather_facts": False, "tasks": tasks}]
    path = folder / "shell-steps.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _why(outcome: RunResult) -> str:
    """The failed tasks of a run, one line each (or why nothing ran)."""
    if not outcome.stats:
        return "no host matched"
    lines = [f"{task.host}: {task.task}: {task.msg or task.status.value}"
             for play in outcome.plays for tasks in play.tasks.values() for task in tasks
             if task.status in (Status.FAILED, Status.UNREACHABLE) and not task.ignored and not task.rescued]
    if outcome.interrupted:
        lines.append("interrupted")
    return "; ".join(lines) or f"exit code {outcome.exit_code}"


__all__ = ["CLEANUP", "DrillResult", "FAILED", "FAULT", "LAB_MARKER", "PASSED", "PhaseResult", "RECOVERY", "SKIPPED",
           "VERIFICATION", "require_lab", "run_drill"]
