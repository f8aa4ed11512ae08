"""The triage decision matrix: every combination of service states, equity, master arm and latency."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from titan_ops.output.triage_table import triage_table
from titan_ops.triage import HealthFacts, TriagePolicy, assess, from_run, merge_reports, service_name

SERVICES = ("brain", "execution", "console", "scavenger", "ai_quant", "postgresql", "redis")
POLICY = TriagePolicy(scavenger_equity_threshold=5000)


def expected_severity(down: set[str], equity: float | None, armed: bool | None, latency: float | None) -> int | None:
    """The procedures' matrix, written out as plainly as the table reads."""
    candidates = []
    if down == set(SERVICES):
        candidates.append(1)
    if down & {"brain", "execution", "postgresql", "redis"}:
        candidates.append(1)
    if "console" in down:
        candidates.append(2)
    if "scavenger" in down:
        candidates.append(2 if equity is None or equity < 5000 else 3)
    if "ai_quant" in down:
        candidates.append(4 if armed is False else 3)
    if latency is not None and latency > 500:
        candidates.append(2)
    elif latency is not None and latency >= 200:
        candidates.append(3)
    return min(candidates) if candidates else None


@pytest.mark.parametrize("equity", [None, 100.0, 4999.99, 5000.0, 250000.0])
@pytest.mark.parametrize("armed", [None, True, False])
@pytest.mark.parametrize("latency", [None, 0.0, 199.9, 200.0, 350.0, 500.0, 500.1, 2000.0])
def test_every_combination_of_services(equity, armed, latency):
    for states in itertools.product((True, False), repeat=len(SERVICES)):
        services = dict(zip(SERVICES, states))
        down = {name for name, up in services.items() if not up}
        facts = HealthFacts(services=services, signal_latency_ms=latency, equity=equity, master_arm=armed)
        verdict = assess(facts, POLICY)
        assert verdict.severity == expected_severity(down, equity, armed, latency), (services, equity, armed, latency)
        if verdict.severity is None:
            assert verdict.playbooks == () and verdict.response_time == "-"
        else:
            assert verdict.findings[0].severity == verdict.severity
            assert verdict.playbooks, "a finding always names playbooks to run"


@pytest.mark.parametrize("facts, severity, time, team, first_playbooks", [
    (HealthFacts({"brain": False, "execution": False, "console": False, "scavenger": False, "ai_quant": False}),
     1, "Immediate", "On-call engineer + Operations manager + Development lead",
     ["collect-diagnostics.yml", "containment.yml"]),
    (HealthFacts({"brain": True, "execution": False}), 1, "Immediate",
     "On-call engineer + Operations manager + Development lead", ["collect-diagnostics.yml", "containment.yml"]),
    (HealthFacts({"console": False}), 2, "15 minutes", "On-call engineer + Operations manager",
     ["collect-diagnostics.yml", "restart-services.yml"]),
    (HealthFacts({"scavenger": False}, equity=1200), 2, "15 minutes", "On-call engineer + Operations manager",
     ["restart-services.yml"]),
    (HealthFacts({"scavenger": False}, equity=80000), 3, "1 hour", "On-call engineer", ["restart-services.yml"]),
    (HealthFacts({"ai_quant": False}, master_arm=True), 3, "1 hour", "On-call engineer", ["restart-services.yml"]),
    (HealthFacts({"ai_quant": False}, master_arm=False), 4, "Next business day",
     "Operations team (business hours)", ["restart-services.yml"]),
    (HealthFacts({"brain": True}, signal_latency_ms=812), 2, "15 minutes", "On-call engineer + Operations manager",
     ["collect-diagnostics.yml", "verify-recovery.yml"]),
    (HealthFacts({"brain": True}, signal_latency_ms=230), 3, "1 hour", "On-call engineer",
     ["collect-diagnostics.yml", "verify-recovery.yml"]),
    (HealthFacts({"postgresql": False, "brain": True}), 1, "Immediate",
     "On-call engineer + Operations manager + Development lead", ["collect-diagnostics.yml", "containment.yml",
                                                                  "db-check.yml", "db-recovery.yml"]),
    (HealthFacts({"brain": True}, breaker_open=True), 1, "Immediate",
     "On-call engineer + Operations manager + Development lead", ["collect-diagnostics.yml", "circuit-breaker.yml"]),
    (HealthFacts({"brain": True}, positions_mismatch=True), 2, "15 minutes",
     "On-call engineer + Operations manager", ["containment.yml", "position-mismatch.yml"]),
    (HealthFacts({"brain": True}, exchange_reachable=False), 2, "15 minutes",
     "On-call engineer + Operations manager", ["collect-diagnostics.yml", "exchange-api.yml"]),
])
def test_rows_of_the_matrix(facts, severity, time, team, first_playbooks):
    verdict = assess(facts)
    assert (verdict.severity, verdict.response_time, verdict.response_team) == (severity, time, team)
    assert list(verdict.playbooks[:len(first_playbooks)]) == first_playbooks


def test_healthy_fleet_is_no_incident():
    verdict = assess(HealthFacts({name: True for name in SERVICES}, signal_latency_ms=40, exchange_reachable=True,
                                 breaker_open=False, positions_mismatch=False))
    assert verdict.severity is None and verdict.findings == () and verdict.playbooks == ()
    assert "none (no incident)" in triage_table(verdict.to_dict())


def test_the_threshold_is_a_variable():
    facts = HealthFacts({"scavenger": False}, equity=8000)
    assert assess(facts, TriagePolicy(scavenger_equity_threshold=5000)).severity == 3
    assert assess(facts, TriagePolicy(scavenger_equity_threshold=10000)).severity == 2


def test_playbooks_come_in_recovery_order_without_repeats():
    verdict = assess(HealthFacts({"brain": False, "console": False, "postgresql": False}, signal_latency_ms=900))
    assert verdict.playbooks == ("collect-diagnostics.yml", "containment.yml", "db-check.yml", "db-recovery.yml",
                                 "restart-services.yml", "verify-recovery.yml")


def test_service_names_are_canonical():
    assert [service_name(n) for n in ("titan-brain", "Titan_Execution", "titan-ai-quant", "postgresql")] == \
        ["brain", "execution", "ai_quant", "postgresql"]


def test_merging_host_reports():
    facts = merge_reports([
        {"services": {"titan-brain": True, "redis": "up"}, "signal_latency_ms": 120, "equity": 3000,
         "master_arm": True, "exchange_reachable": True},
        {"services": {"titan-brain": False, "console": True}, "signal_latency_ms": 340, "exchange_reachable": False,
         "positions_mismatch": False},
        {"services": {}, "breaker_open": "false"},
    ])
    assert facts.services == {"brain": False, "redis": True, "console": True}
    assert facts.signal_latency_ms == 340 and facts.equity == 3000 and facts.master_arm is True
    assert facts.exchange_reachable is False and facts.positions_mismatch is False and facts.breaker_open is False


def _run_with(tasks: list[dict]) -> dict:
    return {"plays": [{"name": "p", "hosts": ["h"], "tasks": {"h": tasks}}]}


def test_from_run_uses_the_triage_task_and_accepts_overrides():
    triage_task = {"module": "triage", "result": {
        "facts": {"services": {"scavenger": False}, "signal_latency_ms": None, "equity": 8000.0, "master_arm": None,
                  "breaker_open": None, "positions_mismatch": None, "exchange_reachable": None},
        "policy": {"scavenger_equity_threshold": 5000.0, "latency_high_ms": 500.0, "latency_degraded_ms": 200.0}}}
    run = _run_with([triage_task])
    assert from_run(run).severity == 3
    assert from_run(run, scavenger_equity_threshold=9000).severity == 2


def test_from_run_falls_back_to_health_facts_and_refuses_other_runs():
    report = {"module": "set_fact", "result": {"ansible_facts": {"titan_health": {"services": {"console": False}}}}}
    assert from_run(_run_with([report])).severity == 2
    with pytest.raises(ValueError, match="health-check"):
        from_run(_run_with([{"module": "command", "result": {}}]))


def test_triage_command_reads_a_saved_run(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(_run_with([{"module": "set_fact", "result": {
        "ansible_facts": {"titan_health": {"services": {"titan-execution": False}}}}}])))
    done = subprocess.run([sys.executable, "-m", "titan_ops", "triage", "--from-json", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "severity       1" in done.stdout and "Immediate" in done.stdout
    assert "1. playbooks/collect-diagnostics.yml" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "titan_ops", "triage", "--from-json", str(tmp_path / "none.json")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 5 and "ERROR!" in bad.stderr


def test_the_triage_task_counts_a_silent_hosts_services_as_down(tmp_path):
    import titan_ops

    (tmp_path / "inventory.yml").write_text(
        "all:\n  hosts:\n    ghost: {ansible_host: 192.0.2.1}\n  vars:\n    titan_services:\n"
        "      titan-brain: {host: ghost, tier: 2}\n      titan-console: {host: localhost, tier: 3}\n")
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - set_fact:\n        titan_health: {services_expected: [titan-console], services_up: [titan-console]}\n"
        "    - triage: {hosts: [ghost, localhost], scavenger_equity_threshold: 100}\n      register: verdict\n")
    result = titan_ops.run(tmp_path / "play.yml", tmp_path / "inventory.yml")
    verdict = result.host_results("localhost")[-1].result
    assert verdict["severity"] == 1 and verdict["hosts_without_report"] == ["ghost"]
    assert verdict["facts"]["services"] == {"brain": False, "console": True}
    assert verdict["policy"]["scavenger_equity_threshold"] == 100
