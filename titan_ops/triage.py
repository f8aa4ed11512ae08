"""Triage: the procedures' decision matrix, as a pure function over health facts.

The matrix (Titan incident response procedures, "Triage Decision Matrix"):

| finding                                         | severity |
|-------------------------------------------------|----------|
| all services down                               | 1        |
| Brain down, or Execution down                   | 1        |
| Console down                                    | 2        |
| Scavenger down, equity below the threshold      | 2        |
| Scavenger down, equity at or above it           | 3        |
| AI Quant down while trading is armed (or unknown)| 3       |
| AI Quant down while master arm is off           | 4        |
| signal latency over 500 ms                      | 2        |
| signal latency 200-500 ms                       | 3        |

and, from the same procedures' severity examples, for what the health
check also sees: PostgreSQL or Redis down (data loss risk, Brain and
Execution cannot run): 1; circuit breaker open: 1; position tracking
mismatch: 2; exchange API unreachable: 2.

Scavenger is the phase-1 engine of small accounts, so it matters most while
equity is below ``scavenger_equity_threshold``; an unknown equity is treated
as below it (the stricter answer). "All services down" needs at least two
services reported (one service down is that service's row). The incident's
severity is the most severe finding; no finding means no incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from collections.abc import Iterable, Mapping

CORE_SERVICES = ("brain", "execution")
DATASTORES = ("postgresql", "redis")

RESPONSE = {
    1: ("Immediate", "On-call engineer + Operations manager + Development lead"),
    2: ("15 minutes", "On-call engineer + Operations manager"),
    3: ("1 hour", "On-call engineer"),
    4: ("Next business day", "Operations team (business hours)"),
}
"""Severity -> (response time, response team), as the procedures' severity levels define them."""

PLAYBOOK_ORDER = (
    "collect-diagnostics.yml", "containment.yml", "circuit-breaker.yml", "position-mismatch.yml",
    "exchange-api.yml", "db-check.yml", "db-recovery.yml", "restart-services.yml", "verify-recovery.yml",
)
"""The order in which suggested playbooks are listed: evidence first, verification last."""


@dataclass(frozen=True)
class TriagePolicy:
    """The thresholds of the matrix."""

    scavenger_equity_threshold: float = 5000.0
    latency_high_ms: float = 500.0
    latency_degraded_ms: float = 200.0


@dataclass(frozen=True)
class HealthFacts:
    """What the health check found, fleet-wide.

    ``services`` maps a service name (``brain``, ``execution``, ``console``,
    ``scavenger``, ``ai_quant``, ``postgresql``, ``redis``, ...) to True when
    it is up. ``None`` in the other fields means "not measured".
    """

    services: Mapping[str, bool] = field(default_factory=dict)
    signal_latency_ms: float | None = None
    equity: float | None = None
    master_arm: bool | None = None
    breaker_open: bool | None = None
    positions_mismatch: bool | None = None
    exchange_reachable: bool | None = None


@dataclass(frozen=True)
class Finding:
    """One row of the matrix that applies: why, how severe, what to run."""

    severity: int
    reason: str
    playbooks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "reason": self.reason, "playbooks": list(self.playbooks)}


@dataclass(frozen=True)
class Assessment:
    """The verdict: the severity (None: no incident), its response, and the playbooks to run next."""

    severity: int | None
    findings: tuple[Finding, ...]
    playbooks: tuple[str, ...]

    @property
    def response_time(self) -> str:
        return RESPONSE[self.severity][0] if self.severity else "-"

    @property
    def response_team(self) -> str:
        return RESPONSE[self.severity][1] if self.severity else "-"

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "response_time": self.response_time,
                "response_team": self.response_team, "playbooks": list(self.playbooks),
                "findings": [finding.to_dict() for finding in self.findings]}


def service_name(name: str) -> str:
    """A service's canonical name: ``titan-ai-quant`` -> ``ai_quant``, ``Titan_Brain`` -> ``brain``."""
    canonical = name.strip().lower().replace("-", "_")
    return canonical[len("titan_"):] if canonical.startswith("titan_") else canonical


_RESTART = ("collect-diagnostics.yml", "restart-services.yml", "verify-recovery.yml")


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
    return findings


def _signal_findings(facts: HealthFacts, policy: TriagePolicy) -> list[Finding]:
    findings: list[Finding] = []
    latency = facts.signal_latency_ms
    if latency is not None and latency > policy.latency_high_ms:
        findings.append(Finding(2, f"signal latency {latency:g} ms over {policy.latency_high_ms:g} ms",
                                ("collect-diagnostics.yml", "verify-recovery.yml")))
    elif latency is not None and latency >= policy.latency_degraded_ms:
        findings.append(Finding(3, f"signal latency {latency:g} ms ({policy.latency_degraded_ms:g}-"
                                   f"{policy.latency_high_ms:g} ms)",
                                ("collect-diagnostics.yml", "verify-recovery.yml")))
    if facts.breaker_open:
        findings.append(Finding(1, "circuit breaker open", ("collect-diagnostics.yml", "circuit-breaker.yml")))
    if facts.positions_mismatch:
        findings.append(Finding(2, "position tracking mismatch", ("containment.yml", "position-mismatch.yml")))
    if facts.exchange_reachable is False:
        findings.append(Finding(2, "exchange API unreachable", ("collect-diagnostics.yml", "exchange-api.yml")))
    return findings


def assess(facts: HealthFacts, policy: TriagePolicy = TriagePolicy()) -> Assessment:
    """Apply the decision matrix to ``facts``."""
    findings = sorted(_service_findings(facts.services, facts, policy) + _signal_findings(facts, policy),
                      key=lambda finding: finding.severity)
    severity = findings[0].severity if findings else None
    wanted = {playbook for finding in findings for playbook in finding.playbooks}
    playbooks = tuple(playbook for playbook in PLAYBOOK_ORDER if playbook in wanted)
    return Assessment(severity, tuple(findings), playbooks)


def merge_reports(reports: Iterable[Mapping[str, Any]]) -> HealthFacts:
    """Fleet-wide facts from per-host health reports (the ``titan_health`` fact of each host).

    A report names its services either as ``services`` (name -> up) or as
    the lists ``services_expected`` and ``services_up`` (what a playbook
    can build without loops).

    A service is up only when no host reports it down; the worst latency
    counts; any open breaker or mismatch counts; the exchange is reachable
    only when every host that tried reached it.
    """
    services: dict[str, bool] = {}
    latencies: list[float] = []
    equity: float | None = None
    master_arm: bool | None = None
    breaker: bool | None = None
    mismatch: bool | None = None
    exchange: bool | None = None
    for report in reports:
        for name, up in _service_states(report):
            canonical = service_name(str(name))
            services[canonical] = services.get(canonical, True) and up
        if report.get("signal_latency_ms") is not None:
            latencies.append(float(report["signal_latency_ms"]))
        if report.get("equity") is not None and equity is None:
            equity = float(report["equity"])
        if report.get("master_arm") is not None:
            master_arm = bool(master_arm) or _flag(report["master_arm"])
        if report.get("breaker_open") is not None:
            breaker = bool(breaker) or _flag(report["breaker_open"])
        if report.get("positions_mismatch") is not None:
            mismatch = bool(mismatch) or _flag(report["positions_mismatch"])
        if report.get("exchange_reachable") is not None:
            exchange = (exchange is not False) and _flag(report["exchange_reachable"])
    return HealthFacts(services, max(latencies) if latencies else None, equity, master_arm, breaker, mismatch,
                       exchange)


def _service_states(report: Mapping[str, Any]) -> list[tuple[str, bool]]:
    states = [(str(name), _flag(up)) for name, up in (report.get("services") or {}).items()]
    up = {str(name) for name in report.get("services_up") or []}
    states += [(str(name), str(name) in up) for name in report.get("services_expected") or []]
    return states


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "up", "online", "ok")
    return bool(value)


def from_run(run: Mapping[str, Any], **overrides: float) -> Assessment:
    """Re-assess a finished run, given as ``RunResult.to_dict()`` (what ``--output-json`` writes).

    Uses the facts and the policy of the run's ``triage`` task; without one,
    merges the ``titan_health`` facts the hosts set, with the default
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
    else:
        reports = [task["result"]["ansible_facts"]["titan_health"] for task in tasks
                   if task.get("module") == "set_fact"
                   and isinstance(task.get("result", {}).get("ansible_facts", {}).get("titan_health"), Mapping)]
        if not reports:
            raise ValueError("the run has no triage result and no titan_health facts "
                             "(run playbooks/health-check.yml)")
        facts, policy = merge_reports(reports), TriagePolicy()
    return assess(facts, replace(policy, **overrides))
