"""Triage: the procedures' decision matrix, as a pure function over health facts.

The matrix (Titan incident response procedures: the "Triage Decision Matrix"
and, for what it does not list, the severity levels' examples):

| finding                                                    | severity |
|------------------------------------------------------------|----------|
| all services down                                          | 1        |
| Brain down, or Execution down                              | 1        |
| PostgreSQL or Redis down (its check fails)                 | 1        |
| nginx down (every API behind it unreachable)               | 1        |
| tables emptied or rows lost (against the last known counts)| 1        |
| database corruption (amcheck finds a corrupt index)        | 1        |
| circuit breaker open on a system failure                   | 1        |
| circuit breaker open, false positive                       | 2        |
| Console down                                               | 2        |
| Scavenger down, equity below the threshold                 | 2        |
| WebSocket endpoint down                                    | 2        |
| position tracking mismatch                                 | 2        |
| signal latency over 500 ms                                 | 2        |
| pm2 app restarting in a loop, or leaking memory            | 2        |
| exchange API unreachable                                   | 2        |
| circuit breaker open, valid trigger (wait for cooldown)    | 3        |
| Scavenger down, equity at or above the threshold           | 3        |
| AI Quant down while trading is armed (or unknown)          | 3        |
| signal latency 200-500 ms                                  | 3        |
| monitoring down (Prometheus, Alertmanager, Grafana, ...)   | 3        |
| error spike in the logs (a rate against the baseline)      | 3        |
| AI Quant down while master arm is off                      | 4        |
| disk or memory over its threshold (capacity)               | 4        |

The circuit breaker's kind comes from its own report: a trip with a
risk-limit ``trigger`` (``metric``, ``value``, ``limit``) whose value reached
the limit is valid (the breaker did its job: wait for the cooldown); one whose
value did not reach it is a false positive (reset with a justification); a
trip without a trigger came from a component failure (severity 1, as the
procedures' "circuit breaker activated due to system failure").

Scavenger is the phase-1 engine of small accounts, so it matters most while
equity is below ``scavenger_equity_threshold``; an unknown equity is treated
as below it (the stricter answer). "All services down" needs at least two
services reported (one service down is that service's row). Services on
hosts the run did not visit are not checked: they count neither as up nor
as down. The incident's severity is the most severe finding; no finding
means no incident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

CORE_SERVICES = ("brain", "execution")
DATASTORES = ("postgresql", "redis")
MONITORING = ("prometheus", "alertmanager", "grafana", "node_exporter", "monitoring")

RESPONSE = {
    1: ("Immediate", "On-call engineer + Operations manager + Development lead"),
    2: ("15 minutes", "On-call engineer + Operations manager"),
    3: ("1 hour", "On-call engineer"),
    4: ("Next business day", "Operations team (business hours)"),
}
"""Severity -> (response time, response team), as the procedures' severity levels define them."""

PLAYBOOK_ORDER = (
    "collect-diagnostics.yml", "containment.yml", "circuit-breaker.yml", "position-mismatch.yml",
    "exchange-api.yml", "db-check.yml", "db-freeze.yml", "db-recovery.yml", "restart-services.yml",
    "verify-recovery.yml",
)
"""The order in which suggested playbooks are listed: evidence first, verification last."""

_TIMESTAMP = re.compile(r"^\[?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})")


@dataclass(frozen=True)
class TriagePolicy:
    """The thresholds of the matrix."""

    scavenger_equity_threshold: float = 5000.0
    latency_high_ms: float = 500.0
    latency_degraded_ms: float = 200.0
    disk_warn_percent: float = 90.0
    memory_warn_percent: float = 95.0
    error_window_minutes: float = 5.0
    error_baseline_minutes: float = 60.0
    error_spike_factor: float = 5.0
    error_min_count: int = 10
    restart_loop_count: int = 3
    app_memory_limit_mb: float = 512.0
    memory_growth_factor: float = 2.0
    row_loss_ratio: float = 0.5


@dataclass(frozen=True)
class HealthFacts:
    """What the health check found, fleet-wide.

    ``services`` maps a service name (``brain``, ``execution``, ``console``,
    ``scavenger``, ``ai_quant``, ``postgresql``, ``redis``, ...) to True when
    it is up. ``None`` (or empty) in the other fields means "not measured".
    ``breaker`` is the Brain's breaker report (``reason``, ``trigger``,
    ``cooldown_until``); ``disk_percent``/``memory_percent`` map a host to
    its use; ``log_errors`` maps a service to ``{"now", "lines"}`` (the host's
    time and its error lines, each starting with its timestamp); ``apps``
    maps a pm2 app to ``{"restarts", "memory_mb", "status"}``; ``row_counts``
    maps a table to its rows; ``corrupt_indexes`` lists what amcheck found
    corrupt (empty: every index sound; None: not checked); ``unchecked`` maps
    a host the run did not visit to the services it runs.
    """

    services: Mapping[str, bool] = field(default_factory=dict)
    signal_latency_ms: float | None = None
    equity: float | None = None
    master_arm: bool | None = None
    breaker_open: bool | None = None
    positions_mismatch: bool | None = None
    exchange_reachable: bool | None = None
    breaker: Mapping[str, Any] | None = None
    websocket_up: bool | None = None
    disk_percent: Mapping[str, float] = field(default_factory=dict)
    memory_percent: Mapping[str, float] = field(default_factory=dict)
    log_errors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    apps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    row_counts: Mapping[str, int] | None = None
    unchecked: Mapping[str, list[str]] = field(default_factory=dict)
    corrupt_indexes: Sequence[str] | None = None


@dataclass(frozen=True)
class Baseline:
    """The last known values the facts are compared with: rows per table, and per pm2 app its restart
    count and its memory when it was last seen fresh (first seen, or just restarted)."""

    rows: Mapping[str, int] = field(default_factory=dict)
    restarts: Mapping[str, int] = field(default_factory=dict)
    memory_mb: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": dict(self.rows), "restarts": dict(self.restarts), "memory_mb": dict(self.memory_mb)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        return cls(**{item.name: dict(data.get(item.name) or {}) for item in fields(cls)})


@dataclass(frozen=True)
class Finding:
    """One row of the matrix that applies: why, how severe, what to run, and the evidence (log lines...)."""

    severity: int
    reason: str
    playbooks: tuple[str, ...]
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"severity": self.severity, "reason": self.reason, "playbooks": list(self.playbooks)}
        if self.details:
            found["details"] = list(self.details)
        return found


@dataclass(frozen=True)
class Assessment:
    """The verdict: the severity (None: no incident), its response, the playbooks to run next, and what
    the run did not check."""

    severity: int | None
    findings: tuple[Finding, ...]
    playbooks: tuple[str, ...]
    unchecked: Mapping[str, list[str]] = field(default_factory=dict)

    @property
    def response_time(self) -> str:
        return RESPONSE[self.severity][0] if self.severity else "-"

    @property
    def response_team(self) -> str:
        return RESPONSE[self.severity][1] if self.severity else "-"

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "response_time": self.response_time,
                "response_team": self.response_team, "playbooks": list(self.playbooks),
                "findings": [finding.to_dict() for finding in self.findings],
                "unchecked": {host: list(services) for host, services in self.unchecked.items()}}


def service_name(name: str) -> str:
    """A service's canonical name: ``titan-ai-quant`` -> ``ai_quant``, ``Titan_Brain`` -> ``brain``."""
    canonical = name.strip().lower().replace("-", "_")
    return canonical[len("titan_"):] if canonical.startswith("titan_") else canonical


_RESTART = ("collect-diagnostics.yml", "restart-services.yml", "verify-recovery.yml")
_DIAGNOSE = ("collect-diagnostics.yml", "verify-recovery.yml")


def _service_findings(services: Mapping[str, bool], facts: HealthFacts, policy: TriagePolicy) -> list[Finding]:
    down = {service_name(name) for name, up in services.items() if not up}
    findings: list[Finding] = []
    known = {service_name(name) for name in services}
    if len(known) > 1 and down == known:
        findings.append(Finding(1, "all services down", ("collect-diagnostics.yml", "containment.yml", "db-check.yml",
                                                         "restart-services.yml", "verify-recovery.yml")))
    for name in CORE_SERVICES:
        if name in down:
            findings.append(Finding(1, f"{name} down", ("collect-diagnostics.yml", "containment.yml",
                                                         "restart-services.yml", "verify-recovery.yml")))
    if "postgresql" in down:
        findings.append(Finding(1, "postgresql down", ("collect-diagnostics.yml", "containment.yml", "db-check.yml",
                                                       "db-recovery.yml", "verify-recovery.yml")))
    if "redis" in down:
        findings.append(Finding(1, "redis down", ("collect-diagnostics.yml", "containment.yml", *_RESTART[1:])))
    if "nginx" in down:
        findings.append(Finding(1, "nginx down (every API behind it unreachable)", _RESTART))
    if "console" in down:
        findings.append(Finding(2, "console down (no monitoring)", _RESTART))
    if "scavenger" in down:
        equity = facts.equity
        if equity is None or equity < policy.scavenger_equity_threshold:
            shown = "unknown" if equity is None else f"{equity:g}"
            findings.append(Finding(2, f"scavenger down, equity {shown} below "
                                       f"{policy.scavenger_equity_threshold:g} (phase 1 disabled)", _RESTART[1:]))
        else:
            findings.append(Finding(3, f"scavenger down, equity {equity:g} at or above "
                                       f"{policy.scavenger_equity_threshold:g}", _RESTART[1:]))
    if "ai_quant" in down:
        if facts.master_arm is False:
            findings.append(Finding(4, "ai_quant down, master arm off (no optimization needed now)", _RESTART[1:]))
        else:
            findings.append(Finding(3, "ai_quant down (no optimization)", _RESTART[1:]))
    for name in sorted(down & set(MONITORING)):
        findings.append(Finding(3, f"monitoring down: {name}", _RESTART[1:]))
    return findings


def breaker_kind(breaker: Mapping[str, Any] | None) -> str:
    """``valid``, ``false_positive`` or ``system_failure``, from an open breaker's own report.

    A risk-limit trip carries ``trigger: {metric, value, limit}``: valid when the
    value reached the limit, a false positive otherwise. A trip without a
    readable trigger came from a component failure (or cannot be verified:
    the stricter answer).
    """
    trigger = (breaker or {}).get("trigger")
    if not isinstance(trigger, Mapping):
        return "system_failure"
    try:
        value, limit = float(trigger["value"]), float(trigger["limit"])
    except (KeyError, TypeError, ValueError):
        return "system_failure"
    return "valid" if value >= limit else "false_positive"


def _breaker_findings(facts: HealthFacts) -> list[Finding]:
    if not facts.breaker_open:
        return []
    breaker = facts.breaker or {}
    kind = breaker_kind(breaker)
    reason = breaker.get("reason") or "no reason given"
    trigger = breaker.get("trigger") if isinstance(breaker.get("trigger"), Mapping) else {}
    if kind == "valid":
        until = breaker.get("cooldown_until") or "unknown"
        return [Finding(3, f"circuit breaker open, valid trigger ({reason}: {trigger.get('metric')} "
                           f"{trigger.get('value')} reached {trigger.get('limit')}): wait for the cooldown "
                           f"(until {until})", ("circuit-breaker.yml",))]
    if kind == "false_positive":
        return [Finding(2, f"circuit breaker open, false positive ({reason}: {trigger.get('metric')} "
                           f"{trigger.get('value')} below its limit {trigger.get('limit')}): reset with a "
                           f"justification", ("collect-diagnostics.yml", "circuit-breaker.yml"))]
    return [Finding(1, f"circuit breaker open on a system failure ({reason})",
                    ("collect-diagnostics.yml", "containment.yml", "circuit-breaker.yml"))]


def _signal_findings(facts: HealthFacts, policy: TriagePolicy) -> list[Finding]:
    findings: list[Finding] = []
    latency = facts.signal_latency_ms
    if latency is not None and latency > policy.latency_high_ms:
        findings.append(Finding(2, f"signal latency {latency:g} ms over {policy.latency_high_ms:g} ms", _DIAGNOSE))
    elif latency is not None and latency >= policy.latency_degraded_ms:
        findings.append(Finding(3, f"signal latency {latency:g} ms ({policy.latency_degraded_ms:g}-"
                                   f"{policy.latency_high_ms:g} ms)", _DIAGNOSE))
    if facts.positions_mismatch:
        findings.append(Finding(2, "position tracking mismatch", ("containment.yml", "position-mismatch.yml")))
    if facts.exchange_reachable is False:
        findings.append(Finding(2, "exchange API unreachable", ("collect-diagnostics.yml", "exchange-api.yml")))
    if facts.websocket_up is False:
        findings.append(Finding(2, "WebSocket endpoint down (no real-time updates)", _RESTART))
    return findings


def _capacity_findings(facts: HealthFacts, policy: TriagePolicy) -> list[Finding]:
    findings = []
    for what, used, limit in (("disk", facts.disk_percent, policy.disk_warn_percent),
                              ("memory", facts.memory_percent, policy.memory_warn_percent)):
        for host, percent in sorted(used.items()):
            if percent >= limit:
                findings.append(Finding(4, f"{what} {percent:g}% on {host} (threshold {limit:g}%: capacity)",
                                        ("collect-diagnostics.yml",)))
    return findings


def _timestamp(line: str) -> datetime | None:
    match = _TIMESTAMP.match(line)
    if match is None:
        return None
    try:
        return datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}")
    except ValueError:
        return None


def error_rate(lines: Iterable[str], now: datetime, policy: TriagePolicy) -> tuple[list[str], float, float]:
    """(the error lines of the last ``error_window_minutes``, their rate per minute, the baseline rate
    per minute over the ``error_baseline_minutes`` before). Lines without a leading timestamp are not counted."""
    window = timedelta(minutes=policy.error_window_minutes)
    baseline_start = now - window - timedelta(minutes=policy.error_baseline_minutes)
    recent: list[str] = []
    earlier = 0
    for line in lines:
        stamp = _timestamp(line)
        if stamp is None or stamp > now + timedelta(minutes=1):
            continue
        if stamp > now - window:
            recent.append(line)
        elif stamp > baseline_start:
            earlier += 1
    return recent, len(recent) / policy.error_window_minutes, earlier / policy.error_baseline_minutes


def _log_findings(facts: HealthFacts, policy: TriagePolicy) -> list[Finding]:
    findings = []
    for service, report in sorted(facts.log_errors.items()):
        now = _timestamp(str(report.get("now", "")))
        if now is None:
            continue
        recent, rate, baseline = error_rate([str(line) for line in report.get("lines") or []], now, policy)
        if len(recent) >= policy.error_min_count and rate >= policy.error_spike_factor * baseline:
            findings.append(Finding(3, f"error spike in {service}'s logs: {len(recent)} error lines in "
                                       f"{policy.error_window_minutes:g} min ({rate:.1f}/min, baseline "
                                       f"{baseline:.2f}/min)", ("collect-diagnostics.yml",),
                                    tuple(line[:300] for line in recent[-5:])))
    return findings


def _app_findings(facts: HealthFacts, baseline: Baseline, policy: TriagePolicy) -> list[Finding]:
    findings = []
    for app, state in sorted(facts.apps.items()):
        restarts = int(state.get("restarts") or 0)
        memory = float(state.get("memory_mb") or 0)
        known = baseline.restarts.get(app)
        if known is not None and restarts - known >= policy.restart_loop_count:
            findings.append(Finding(2, f"{app} restarting in a loop ({restarts - known} restarts since the last "
                                       f"check, {restarts} in all)", _RESTART))
        fresh = baseline.memory_mb.get(app)
        limit = float(state.get("memory_limit_mb") or policy.app_memory_limit_mb)
        if memory >= limit:
            findings.append(Finding(2, f"{app} uses {memory:.0f} MB, over {limit:g} MB (memory leak)", _RESTART))
        elif fresh and known == restarts and memory >= policy.memory_growth_factor * fresh and memory - fresh >= 64:
            findings.append(Finding(2, f"{app} grew from {fresh:.0f} MB to {memory:.0f} MB since its start "
                                       f"(memory leak)", _RESTART))
    return findings


def _row_findings(facts: HealthFacts, baseline: Baseline, policy: TriagePolicy) -> list[Finding]:
    if facts.row_counts is None or facts.services.get("postgresql") is False:
        return []
    lost = []
    for table, count in sorted(facts.row_counts.items()):
        known = baseline.rows.get(table)
        if known and int(count) < known * policy.row_loss_ratio:
            lost.append(f"{table} {count} rows (last known {known})")
    if not lost:
        return []
    emptied = all(item.split()[1] == "0" for item in lost)
    return [Finding(1, f"database {'tables emptied' if emptied else 'rows lost'} while PostgreSQL answers: "
                       + ", ".join(lost), ("collect-diagnostics.yml", "containment.yml", "db-check.yml",
                                           "db-recovery.yml", "verify-recovery.yml"))]


def _corruption_findings(facts: HealthFacts) -> list[Finding]:
    if not facts.corrupt_indexes or facts.services.get("postgresql") is False:
        return []
    return [Finding(1, "database corruption: " + "; ".join(facts.corrupt_indexes),
                    ("collect-diagnostics.yml", "db-freeze.yml", "db-recovery.yml", "verify-recovery.yml"))]


def assess(facts: HealthFacts, policy: TriagePolicy = TriagePolicy(), baseline: Baseline = Baseline()) -> Assessment:
    """Apply the decision matrix to ``facts`` (compared with the ``baseline`` where a row needs one)."""
    findings = sorted(_service_findings(facts.services, facts, policy) + _breaker_findings(facts)
                      + _signal_findings(facts, policy) + _row_findings(facts, baseline, policy)
                      + _corruption_findings(facts)
                      + _app_findings(facts, baseline, policy) + _log_findings(facts, policy)
                      + _capacity_findings(facts, policy), key=lambda finding: finding.severity)
    severity = findings[0].severity if findings else None
    wanted = {playbook for finding in findings for playbook in finding.playbooks}
    playbooks = tuple(playbook for playbook in PLAYBOOK_ORDER if playbook in wanted)
    return Assessment(severity, tuple(findings), playbooks, dict(facts.unchecked))


def next_baseline(facts: HealthFacts, baseline: Baseline, policy: TriagePolicy = TriagePolicy()) -> Baseline:
    """The baseline after this check: row counts that did not drop (a loss keeps the counts before it),
    every app's restart count, and an app's memory when it is first seen or has restarted."""
    rows = dict(baseline.rows)
    if facts.row_counts is not None:
        for table, count in facts.row_counts.items():
            known = rows.get(table)
            if not known or int(count) >= known * policy.row_loss_ratio:
                rows[table] = int(count)
    restarts, memory = dict(baseline.restarts), dict(baseline.memory_mb)
    for app, state in facts.apps.items():
        count = int(state.get("restarts") or 0)
        if restarts.get(app) != count or app not in memory:
            memory[app] = float(state.get("memory_mb") or 0)
        restarts[app] = count
    return Baseline(rows, restarts, memory)


def merge_reports(reports: Iterable[Mapping[str, Any]], unchecked: Mapping[str, list[str]] | None = None
                  ) -> HealthFacts:
    """Fleet-wide facts from per-host health reports (the ``titan_health`` fact of each host).

    A report names its services either as ``services`` (name -> up) or as
    the lists ``services_expected`` and ``services_up`` (what a playbook
    can build without loops).

    A service is up only when no host reports it down; the worst latency
    counts; any open breaker or mismatch counts; the exchange and the
    WebSocket are up only when every host that tried reached them.
    """
    services: dict[str, bool] = {}
    latencies: list[float] = []
    equity: float | None = None
    flags: dict[str, bool | None] = dict.fromkeys(("master_arm", "breaker_open", "positions_mismatch"))
    every: dict[str, bool | None] = dict.fromkeys(("exchange_reachable", "websocket_up"))
    breaker: Mapping[str, Any] | None = None
    disk: dict[str, float] = {}
    memory: dict[str, float] = {}
    log_errors: dict[str, Mapping[str, Any]] = {}
    apps: dict[str, Mapping[str, Any]] = {}
    rows: dict[str, int] | None = None
    corrupt: list[str] | None = None
    for report in reports:
        for name, up in _service_states(report):
            canonical = service_name(str(name))
            services[canonical] = services.get(canonical, True) and up
        if report.get("signal_latency_ms") is not None:
            latencies.append(float(report["signal_latency_ms"]))
        if report.get("equity") is not None and equity is None:
            equity = float(report["equity"])
        for key in flags:
            if report.get(key) is not None:
                flags[key] = bool(flags[key]) or _flag(report[key])
        for key in every:
            if report.get(key) is not None:
                every[key] = (every[key] is not False) and _flag(report[key])
        if isinstance(report.get("breaker"), Mapping):
            breaker = report["breaker"]
        host = str(report.get("host", len(disk)))
        for target, key in ((disk, "disk_percent"), (memory, "memory_percent")):
            if report.get(key) is not None:
                target[host] = float(report[key])
        log_errors.update(_log_reports(report.get("log_errors")))
        apps.update(_app_reports(report.get("apps")))
        if isinstance(report.get("row_counts"), Mapping):
            rows = {**(rows or {}), **{str(table): int(count) for table, count in report["row_counts"].items()}}
        if isinstance(report.get("corrupt_indexes"), list):
            corrupt = [*(corrupt or []), *map(str, report["corrupt_indexes"])]
    return HealthFacts(services, max(latencies) if latencies else None, equity, flags["master_arm"],
                       flags["breaker_open"], flags["positions_mismatch"], every["exchange_reachable"], breaker,
                       every["websocket_up"], disk, memory, log_errors, apps, rows, dict(unchecked or {}), corrupt)


def _service_states(report: Mapping[str, Any]) -> list[tuple[str, bool]]:
    states = [(str(name), _flag(up)) for name, up in (report.get("services") or {}).items()]
    expected = [str(name) for name in report.get("services_expected") or []]
    if "services_down" in report:
        down = {str(name) for name in report.get("services_down") or []}
        states += [(name, name not in down) for name in expected]
    else:
        up = {str(name) for name in report.get("services_up") or []}
        states += [(name, name in up) for name in expected]
    return states


def _log_reports(value: Any) -> dict[str, Mapping[str, Any]]:
    """``{service: {"now", "lines"}}`` from a mapping of that shape, or from the health check's list of
    outputs, each ``["SERVICE HOST-TIME", line, ...]``."""
    if isinstance(value, Mapping):
        return dict(value)
    found: dict[str, Mapping[str, Any]] = {}
    for output in value or []:
        if isinstance(output, list) and output and len(str(output[0]).split()) == 2:
            service, now = str(output[0]).split()
            found[service] = {"now": now, "lines": [str(line) for line in output[1:]]}
    return found


def _app_reports(value: Any) -> dict[str, Mapping[str, Any]]:
    """``{app: {"restarts", "memory_mb", "status"}}`` from a mapping of that shape or pm2's app list
    (``name``, ``restarts``, ``memory`` in bytes, ``status``)."""
    if isinstance(value, Mapping):
        return dict(value)
    return {str(app["name"]): {"restarts": int(app.get("restarts") or 0), "status": app.get("status"),
                               "memory_mb": round(float(app.get("memory") or 0) / 1048576, 1)}
            for app in value or [] if isinstance(app, Mapping) and "name" in app}


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "up", "online", "ok")
    return bool(value)


def from_run(run: Mapping[str, Any], **overrides: float) -> Assessment:
    """Re-assess a finished run, given as ``RunResult.to_dict()`` (what ``--output-json`` writes).

    Uses the facts, policy and baseline of the run's ``triage`` task; without
    one, merges the ``titan_health`` facts the hosts set, with the default
    policy. ``overrides`` replace policy fields (``scavenger_equity_threshold=8000``).
    Raises ValueError when the run holds neither.
    """
    tasks = [task for play in run.get("plays", []) for results in (play.get("tasks") or {}).values()
             for task in results]
    triaged = [task["result"] for task in tasks if task.get("module") == "triage"
               and isinstance(task.get("result", {}).get("facts"), Mapping)]
    if triaged:
        facts = HealthFacts(**triaged[-1]["facts"])
        policy = TriagePolicy(**triaged[-1].get("policy", {}))
        baseline = Baseline.from_dict(triaged[-1].get("baseline") or {})
    else:
        reports = [task["result"]["ansible_facts"]["titan_health"] for task in tasks
                   if task.get("module") == "set_fact"
                   and isinstance(task.get("result", {}).get("ansible_facts", {}).get("titan_health"), Mapping)]
        if not reports:
            raise ValueError("the run has no triage result and no titan_health facts "
                             "(run playbooks/health-check.yml)")
        facts, policy, baseline = merge_reports(reports), TriagePolicy(), Baseline()
    return assess(facts, replace(policy, **overrides), baseline)
