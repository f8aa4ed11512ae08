"""The triage decision matrix: every combination of service states, equity, master arm and latency."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.forked_cli import run_cli
from titan_ops.cli import main
from titan_ops.output.triage_table import triage_table
from titan_ops.engine.results import RunResult
from titan_ops.triage import (Baseline, HealthFacts, TriagePolicy, assess, breaker_kind, from_run, merge_reports,
                              next_baseline, service_name)

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
     "On-call engineer + Operations manager + Development lead", ["collect-diagnostics.yml", "containment.yml",
                                                                  "circuit-breaker.yml"]),
    (HealthFacts({"brain": True}, breaker_open=True, breaker={"reason": "exchange connection lost", "trigger": None}),
     1, "Immediate", "On-call engineer + Operations manager + Development lead",
     ["collect-diagnostics.yml", "containment.yml", "circuit-breaker.yml"]),
    (HealthFacts({"brain": True}, breaker_open=True, breaker={
        "reason": "daily drawdown limit", "trigger": {"metric": "drawdown_pct", "value": 1.5, "limit": 5}}),
     2, "15 minutes", "On-call engineer + Operations manager", ["collect-diagnostics.yml", "circuit-breaker.yml"]),
    (HealthFacts({"brain": True}, breaker_open=True, breaker={
        "reason": "daily drawdown limit", "trigger": {"metric": "drawdown_pct", "value": 5.0, "limit": 5}}),
     3, "1 hour", "On-call engineer", ["circuit-breaker.yml"]),
    (HealthFacts({"nginx": False, "brain": True}), 1, "Immediate",
     "On-call engineer + Operations manager + Development lead", ["collect-diagnostics.yml", "restart-services.yml"]),
    (HealthFacts({"brain": True}, websocket_up=False), 2, "15 minutes", "On-call engineer + Operations manager",
     ["collect-diagnostics.yml", "restart-services.yml"]),
    (HealthFacts({"brain": True, "prometheus": False}), 3, "1 hour", "On-call engineer", ["restart-services.yml"]),
    (HealthFacts({"brain": True, "grafana": False, "alertmanager": False}), 3, "1 hour", "On-call engineer",
     ["restart-services.yml"]),
    (HealthFacts({"brain": True}, disk_percent={"db1": 91}), 4, "Next business day",
     "Operations team (business hours)", ["collect-diagnostics.yml"]),
    (HealthFacts({"brain": True}, memory_percent={"db1": 97}), 4, "Next business day",
     "Operations team (business hours)", ["collect-diagnostics.yml"]),
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
    done = run_cli(["triage", "--from-json", path], timeout=60)
    assert done.returncode == 11, "severity 1: 10 + 1, as the health check's run exits"
    assert "severity       1" in done.stdout and "Immediate" in done.stdout
    assert "1. playbooks/collect-diagnostics.yml" in done.stdout
    bad = run_cli(["triage", "--from-json", tmp_path / "none.json"], timeout=60)
    assert bad.returncode == 5 and "ERROR!" in bad.stderr


@pytest.mark.parametrize("services,code", [({"titan-execution": True}, 0), ({"titan-execution": False}, 11),
                                           ({"titan-console": True, "titan-scavenger": False}, 13)])
def test_triage_command_exits_as_the_runs_verdict(tmp_path, capsys, services, code):
    """0 without an incident, 10 + severity with one: the exit code a run of health-check has."""
    path = tmp_path / "run.json"
    path.write_text(json.dumps(_run_with([{"module": "set_fact", "result": {
        "ansible_facts": {"titan_health": {"services": services, "equity": 9000.0}}}}])))
    assert main(["triage", "--from-json", str(path), "--json"]) == code
    assert json.loads(capsys.readouterr().out)["severity"] == (code - 10 if code else None)


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


def _errors(now: str, *stamps: str) -> dict:
    return {"now": now, "lines": [f"{stamp}: ERROR request failed" for stamp in stamps]}


def test_an_error_spike_is_a_rate_against_the_baseline_with_its_lines():
    recent = [f"2026-01-01T12:0{minute}:{second:02d}" for minute in range(1, 5) for second in range(0, 60, 15)]
    spike = assess(HealthFacts({"brain": True}, log_errors={"titan-brain": _errors("2026-01-01T12:05:00", *recent)}))
    assert spike.severity == 3
    [finding] = spike.findings
    assert "16 error lines in 5 min" in finding.reason and "baseline 0.00/min" in finding.reason
    table = triage_table(spike.to_dict()).splitlines()
    assert [line.split("  ")[0] for line in table if "| 2026-01-01T12:0" in line] == [""] * 5
    assert finding.details[-1] == "2026-01-01T12:04:45: ERROR request failed" and len(finding.details) == 5
    # The same 16 recent lines from a service that always logs that many: no spike.
    usual = [f"2026-01-01T11:{minute:02d}:{second:02d}" for minute in range(0, 60) for second in (0, 20, 40)]
    steady = _errors("2026-01-01T12:05:00", *usual[5:], *recent)
    assert assess(HealthFacts({"brain": True}, log_errors={"titan-brain": steady})).severity is None
    # Old errors only, or too few, or without timestamps: no spike.
    old = _errors("2026-01-01T12:05:00", *(f"2026-01-01T10:{minute:02d}:00" for minute in range(40)))
    few = _errors("2026-01-01T12:05:00", *recent[:9])
    untimed = {"now": "2026-01-01T12:05:00", "lines": ["ERROR no time here"] * 50}
    for report in (old, few, untimed):
        assert assess(HealthFacts({"brain": True}, log_errors={"titan-brain": report})).severity is None


def test_restart_loops_and_memory_leaks_against_the_baseline():
    baseline = Baseline(restarts={"titan-console": 2, "titan-brain": 0}, memory_mb={"titan-brain": 40.0})
    looping = HealthFacts({"console": True}, apps={"titan-console": {"restarts": 5, "memory_mb": 30}})
    [finding] = assess(looping, baseline=baseline).findings
    assert finding.severity == 2 and "titan-console restarting in a loop (3 restarts" in finding.reason
    assert assess(HealthFacts(apps={"titan-console": {"restarts": 4, "memory_mb": 30}}), baseline=baseline).severity \
        is None
    assert assess(looping).severity is None, "no baseline: restarts alone prove no loop"
    grown = HealthFacts(apps={"titan-brain": {"restarts": 0, "memory_mb": 130}})
    [leak] = assess(grown, baseline=baseline).findings
    assert leak.severity == 2 and "grew from 40 MB to 130 MB" in leak.reason
    over = HealthFacts(apps={"titan-brain": {"restarts": 0, "memory_mb": 600}})
    assert "over 512 MB" in assess(over).findings[0].reason
    restarted = HealthFacts(apps={"titan-brain": {"restarts": 1, "memory_mb": 130}})
    assert assess(restarted, baseline=baseline).severity is None, "a restarted app starts a new baseline"
    after = next_baseline(restarted, baseline)
    assert after.memory_mb["titan-brain"] == 130 and after.restarts["titan-brain"] == 1
    assert next_baseline(grown, baseline).memory_mb["titan-brain"] == 40, "growth keeps the memory at start"


def test_tables_emptied_while_postgresql_answers():
    baseline = Baseline(rows={"allocations": 5, "decisions": 50, "performance": 200})
    emptied = HealthFacts({"postgresql": True}, row_counts={"allocations": 5, "decisions": 0, "performance": 200})
    [finding] = assess(emptied, baseline=baseline).findings
    assert finding.severity == 1 and "tables emptied" in finding.reason and "decisions 0 rows (last known 50)" \
        in finding.reason and "db-recovery.yml" in finding.playbooks
    halved = HealthFacts({"postgresql": True}, row_counts={"allocations": 5, "decisions": 50, "performance": 90})
    assert "rows lost" in assess(halved, baseline=baseline).findings[0].reason
    grown = HealthFacts({"postgresql": True}, row_counts={"allocations": 5, "decisions": 70, "performance": 200})
    assert assess(grown, baseline=baseline).severity is None
    assert next_baseline(emptied, baseline).rows["decisions"] == 50, "a loss never becomes the last known count"
    assert next_baseline(grown, baseline).rows["decisions"] == 70
    down = HealthFacts({"postgresql": False}, row_counts={"decisions": 0})
    assert [item.reason for item in assess(down, baseline=baseline).findings] == ["postgresql down"]


def test_a_corrupt_index_is_database_corruption():
    found = 'index "performance_timestamp_idx" contains unexpected zero page at block 1'
    corrupt = HealthFacts({"postgresql": True, "brain": True}, corrupt_indexes=[found])
    [finding] = assess(corrupt).findings
    assert (finding.severity, finding.reason) == (1, f"database corruption: {found}")
    assert assess(corrupt).playbooks == ("collect-diagnostics.yml", "db-freeze.yml", "db-recovery.yml",
                                         "verify-recovery.yml")
    assert assess(HealthFacts({"postgresql": True}, corrupt_indexes=[])).severity is None
    assert assess(HealthFacts({"postgresql": True}, corrupt_indexes=None)).severity is None, "not checked"
    down = HealthFacts({"postgresql": False}, corrupt_indexes=[found])
    assert [item.reason for item in assess(down).findings] == ["postgresql down"]
    merged = merge_reports([{"host": "lab1", "services_expected": ["postgresql"], "services_down": [],
                             "corrupt_indexes": [found]}, {"host": "lab2", "corrupt_indexes": None}])
    assert merged.corrupt_indexes == [found]
    assert merge_reports([{"host": "lab2", "corrupt_indexes": None}]).corrupt_indexes is None


def test_what_was_not_checked_is_said_and_never_down():
    verdict = assess(HealthFacts({"brain": True}, unchecked={"lab1": ["postgresql", "redis"]}))
    assert verdict.severity is None and verdict.to_dict()["unchecked"] == {"lab1": ["postgresql", "redis"]}
    table = triage_table(verdict.to_dict())
    assert "not checked    lab1 (postgresql, redis)" in table


def test_breaker_kinds():
    assert breaker_kind({"trigger": {"metric": "loss", "value": "7", "limit": 5}}) == "valid"
    assert breaker_kind({"trigger": {"metric": "loss", "value": 2, "limit": 5}}) == "false_positive"
    assert breaker_kind({"trigger": None, "reason": "redis unavailable"}) == "system_failure"
    assert breaker_kind({"trigger": {"metric": "loss", "value": "n/a", "limit": 5}}) == "system_failure"
    assert breaker_kind(None) == "system_failure"


def test_merging_the_health_checks_own_shapes():
    facts = merge_reports([
        {"host": "lab2", "services_expected": ["titan-brain", "titan-console"], "services_down": ["titan-console"],
         "log_errors": [["titan-brain 2026-01-01T12:00:00", "2026-01-01T11:59:00: ERROR x"]],
         "apps": [{"name": "titan-brain", "restarts": 2, "memory": 50 * 1048576, "status": "online"}],
         "disk_percent": 40, "memory_percent": 20, "websocket_up": True},
        {"host": "lab1", "services_expected": ["postgresql"], "services_down": [], "row_counts": {"decisions": 50},
         "websocket_up": False},
    ], unchecked={"lab3": ["nginx"]})
    assert facts.services == {"brain": True, "console": False, "postgresql": True}
    assert facts.log_errors["titan-brain"]["lines"] == ["2026-01-01T11:59:00: ERROR x"]
    assert facts.apps == {"titan-brain": {"restarts": 2, "memory_mb": 50.0, "status": "online"}}
    assert facts.disk_percent == {"lab2": 40.0} and facts.row_counts == {"decisions": 50}
    assert facts.websocket_up is False and facts.unchecked == {"lab3": ["nginx"]}


def _run(severity: int | None, failed: bool = False, unreachable: bool = False) -> RunResult:
    from datetime import datetime

    from titan_ops.engine.results import HostStats, PlayResult, Status, TaskResult

    now = datetime.now()
    play = PlayResult("p", ["h"])
    play.add(TaskResult("h", "triage", "triage", Status.OK, now, now, {"severity": severity, "findings": []}))
    stats = HostStats()
    stats.failed, stats.unreachable = int(failed), int(unreachable)
    return RunResult("health-check.yml", [play], {"h": stats})


def test_the_exit_code_follows_the_severity():
    assert [_run(severity).exit_code for severity in (1, 2, 3, 4)] == [11, 12, 13, 14]
    assert _run(1, failed=True).exit_code == 11 and _run(2, unreachable=True).exit_code == 12
    assert _run(None).exit_code == 0 and _run(None, failed=True).exit_code == 2
    assert _run(None, unreachable=True).exit_code == 4
    assert _run(3).to_dict()["severity"] == 3 and _run(3).to_dict()["exit_code"] == 13
    interrupted = _run(1)
    interrupted.interrupted = True
    assert interrupted.exit_code == 99


def test_junit_carries_the_verdict():
    import xml.etree.ElementTree as ET

    from titan_ops.output.junit import junit_xml

    run = _run(2)
    run.plays[0].tasks["h"][0].result["findings"] = [{"severity": 2, "reason": "console down (no monitoring)"}]
    root = ET.fromstring(junit_xml(run))
    properties = {item.get("name"): item.get("value") for item in root.iter("property")}
    assert properties["severity"] == "2" and properties["exit_code"] == "12"
    [failure] = root.iter("failure")
    assert failure.get("type") == "severity-2" and "console down" in failure.get("message")
    assert root.get("failures") == "1"
    assert not list(ET.fromstring(junit_xml(_run(None))).iter("failure"))
