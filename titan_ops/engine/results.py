"""Results as plain objects: per task and host, per play, per run."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from collections.abc import Iterable, Mapping
from typing import Any


class Status(str, Enum):
    """The outcome of one task on one host."""

    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNREACHABLE = "unreachable"


@dataclass
class TaskResult:
    """One task on one host: the status and what the module returned."""

    host: str
    task: str
    module: str
    status: Status
    start: datetime
    end: datetime
    result: dict[str, Any] = field(default_factory=dict)
    ignored: bool = False
    rescued: bool = False
    location: str = ""
    no_log: bool = False
    delegated_to: tuple[str | None, ...] = ()
    """The host ``delegate_to`` chose for each loop item (one for a task without a loop); () without it."""
    delegate_facts: bool = False
    """``delegate_facts``: the facts the task sets go to the host it was delegated to."""

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    @property
    def msg(self) -> str | None:
        msg = self.result.get("msg")
        return None if msg is None else str(msg)

    @property
    def rc(self) -> int | None:
        return self.result.get("rc")

    @property
    def stdout(self) -> str | None:
        return self.result.get("stdout")

    @property
    def stderr(self) -> str | None:
        return self.result.get("stderr")

    @property
    def diff(self) -> list[dict[str, Any]]:
        """The result's diffs (a module may give one as a mapping, as apt's ``{"prepared": ...}``)."""
        diff = self.result.get("diff") or []
        return [diff] if isinstance(diff, dict) else diff

    @property
    def duration(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "task": self.task,
            "module": self.module,
            "status": self.status.value,
            "changed": self.changed,
            "ignored": self.ignored,
            "rescued": self.rescued,
            "location": self.location,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "duration": self.duration,
            "result": self.result,
        }


def skipped_result(false_condition: Any) -> dict[str, Any]:
    """The result of a task (or include) whose ``when`` is false, as ansible-core gives it."""
    return {"changed": False, "skipped": True, "skip_reason": "Conditional result was False",
            "false_condition": false_condition}


def loop_result(results: list[dict[str, Any]]) -> dict[str, Any]:
    """A loop's result: every item under ``results``, flags combined as Ansible does."""
    aggregated: dict[str, Any] = {
        "results": results,
        "changed": any(item.get("changed") for item in results),
        "msg": "All items completed",
    }
    if any(item.get("failed") for item in results):
        aggregated["failed"] = True
        aggregated["msg"] = "One or more items failed"
    if any(item.get("unreachable") for item in results):
        aggregated["unreachable"] = True
    if results and all(item.get("skipped") for item in results):
        aggregated["skipped"] = True
        aggregated["msg"] = "All items skipped"
    if not results:
        aggregated["skipped"] = True
        aggregated["skipped_reason"] = "No items in the list"
    return aggregated


def counts_as_failure(result: TaskResult) -> bool:
    """Whether ``result`` counts against its host: failed or unreachable, neither ignored nor rescued."""
    return result.status in (Status.FAILED, Status.UNREACHABLE) and not result.ignored and not result.rescued


@dataclass
class HostStats:
    """Ansible's PLAY RECAP counters for one host."""

    ok: int = 0
    changed: int = 0
    unreachable: int = 0
    failed: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class PlayResult:
    """One play: its hosts and, per host, the ordered task results."""

    name: str
    hosts: list[str]
    tasks: dict[str, list[TaskResult]] = field(default_factory=dict)

    def add(self, result: TaskResult) -> None:
        self.tasks.setdefault(result.host, []).append(result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hosts": self.hosts,
            "tasks": {host: [r.to_dict() for r in results] for host, results in self.tasks.items()},
        }


SEVERITY_EXIT_BASE = 10
"""A run that triaged an incident of severity N exits 10 + N: codes ansible-playbook never uses."""


@dataclass
class RunResult:
    """A whole run: plays, per-host stats, and the verdict."""

    playbook: str
    plays: list[PlayResult] = field(default_factory=list)
    stats: dict[str, HostStats] = field(default_factory=dict)
    start: datetime = field(default_factory=datetime.now)
    end: datetime | None = None
    interrupted: bool = False
    error: str | None = None
    """Why the run stopped before its end, when it had to (a task file included at run time did not parse)."""
    error_exit_code: int = 4
    """ansible-playbook's exit code for that ``error``."""
    max_fail_stopped: bool = False
    """A play's ``max_fail_percentage`` stopped the run."""
    halted_hosts: list[str] = field(default_factory=list)
    """Hosts that ``any_errors_fatal`` or ``max_fail_percentage`` stopped: failed, as ansible counts them,
    though the recap shows no failure of their own."""
    cleared: dict[str, tuple[int, int]] = field(default_factory=dict)
    """``meta: clear_host_errors``: each host's failed and unreachable counts when its errors were cleared;
    only what comes after counts in the verdict (the recap still shows them)."""
    custom_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``set_stats`` with ``per_host``: each host's custom stats."""
    global_custom_stats: dict[str, Any] = field(default_factory=dict)
    """``set_stats`` without ``per_host``: the run's custom stats."""

    def add_custom_stats(self, host: str, stats: dict[str, Any]) -> None:
        """Add a ``set_stats`` result's ``ansible_stats`` of ``host`` to the custom stats."""
        kept = self.custom_stats.setdefault(host, {}) if stats.get("per_host") else self.global_custom_stats
        for name, value in stats.get("data", {}).items():
            if name in kept and stats.get("aggregate", True):
                kept[name] = _aggregated(kept[name], value)
            else:
                kept[name] = copy.deepcopy(value)

    @property
    def failed_hosts(self) -> list[str]:
        failed = [host for host, stats in self.stats.items() if stats.failed > self.cleared.get(host, (0, 0))[0]]
        return failed + [host for host in self.halted_hosts if host not in failed]

    @property
    def unreachable_hosts(self) -> list[str]:
        return [host for host, stats in self.stats.items()
                if stats.unreachable > self.cleared.get(host, (0, 0))[1]]

    def clear_errors(self, hosts: Iterable[str]) -> None:
        """``meta: clear_host_errors`` for ``hosts``: their failures so far no longer count in the verdict."""
        hosts = set(hosts)
        self.halted_hosts = [host for host in self.halted_hosts if host not in hosts]
        for host in hosts:
            stats = self.stats.get(host)
            if stats is not None:
                self.cleared[host] = (stats.failed, stats.unreachable)

    @property
    def ok(self) -> bool:
        return not self.failed_hosts and not self.unreachable_hosts and not self.interrupted

    @property
    def triage(self) -> dict[str, Any] | None:
        """The verdict of the run's last ``triage`` task (severity, findings, ...), if it had one."""
        verdicts = [result.result for play in self.plays for results in play.tasks.values() for result in results
                    if result.module == "triage" and "severity" in result.result]
        return verdicts[-1] if verdicts else None

    @property
    def severity(self) -> int | None:
        """The incident severity its triage found (1 critical ... 4 low), None without one or without a triage."""
        return (self.triage or {}).get("severity")

    @property
    def exit_code(self) -> int:
        """ansible-playbook's exit code for the same outcome, unless the run triaged an incident.

        99 interrupted; 2 a host failed (none unreachable), or max_fail_percentage stopped the run;
        4 a host unreachable (another may have failed); 0 all well; as ansible-playbook. A run whose
        triage found an incident of severity N exits ``SEVERITY_EXIT_BASE + N`` (11 critical ...
        14 low) instead of 2 or 4.
        """
        if self.interrupted:
            return 99
        if self.severity is not None:
            return SEVERITY_EXIT_BASE + int(self.severity)
        if self.error is not None:
            return self.error_exit_code
        if self.max_fail_stopped or (self.failed_hosts and not self.unreachable_hosts):
            return 2
        if self.unreachable_hosts:
            return 4
        return 0

    def host_results(self, host: str) -> list[TaskResult]:
        """Every task result of ``host``, across plays, in order."""
        return [result for play in self.plays for result in play.tasks.get(host, [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "severity": self.severity,
            "triage": self.triage,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "interrupted": self.interrupted,
            "failed_hosts": self.failed_hosts,
            "unreachable_hosts": self.unreachable_hosts,
            "halted_hosts": self.halted_hosts,
            "error": self.error,
            "stats": {host: stats.to_dict() for host, stats in self.stats.items()},
            "custom_stats": self.custom_stats,
            "global_custom_stats": self.global_custom_stats,
            "plays": [play.to_dict() for play in self.plays],
        }


def _aggregated(current: Any, value: Any) -> Any:
    """``value`` added to a custom stat's ``current`` value, as ansible-core aggregates: mappings merge
    (recursively), other values add (``+``); a value of another type leaves the stat as it was."""
    if not isinstance(value, type(current)):
        return current
    if isinstance(current, Mapping):
        merged = dict(current)
        for key, item in value.items():
            both = key in merged and isinstance(merged[key], Mapping) and isinstance(item, Mapping)
            merged[key] = _aggregated(merged[key], item) if both else copy.deepcopy(item)
        return merged
    try:
        return current + value
    except TypeError:  # a type without addition (None): left as it was
        return current
