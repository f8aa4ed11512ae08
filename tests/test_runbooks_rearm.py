"""rearm.yml on the Titan lab: master arm comes back only when every gate holds and the run confirms with a
justification; a refusal names each failed gate; the decision lands in the incident's timeline. Scenario 2
(position mismatch) ends with it."""

from __future__ import annotations


import pytest

import titan_ops
from titan_ops.engine.results import RunResult, Status
from titan_ops.incident import Timeline
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import PLAYBOOKS, call

CONFIRMED = {"confirm_rearm": "yes", "justification": "root cause fixed, positions checked", "operator_id": "alice"}


@pytest.fixture
def fleet(fleet: Fleet) -> Fleet:
    """The seeded lab with trading halted (master arm off), as after containment."""
    call(fleet, "titan-execution", "/api/execution/master-arm", {"enabled": False, "operator_id": "test"})
    return fleet


def run(fleet: Fleet, name: str, incidents, **extra_vars) -> RunResult:
    return titan_ops.run(PLAYBOOKS / name, fleet.inventory_path, extra_vars=extra_vars, incident="INC-ARM",
                         incident_dir=incidents)


def refusal(result: RunResult) -> str:
    [failure] = [str(task.msg) for host in result.stats for task in result.host_results(host)
                 if task.status is Status.FAILED and not task.ignored]
    return failure


def armed(fleet: Fleet) -> bool:
    return call(fleet, "titan-execution", "/api/execution/master-arm")[1]["enabled"]


@pytest.mark.parametrize("gate, breaks, named", [
    ("breaker", [("titan-brain", "/_standin/breaker", {"state": "open", "reason": "exchange feed lost"})],
     "gate breaker failed (open: exchange feed lost)"),
    ("positions", [("titan-execution", "/_standin/reconciler", {"frozen": True}),
                   ("exchange-mexc-standin", "/_standin/positions",
                    {"positions": [{"symbol": "SOLUSDT", "side": "long", "size": 10.0}]})],
     "gate positions failed (only in Titan: none; only on the exchange: mexc:SOLUSDT:long:10.0)"),
])
def test_a_failed_gate_is_named_and_nothing_is_armed(fleet, tmp_path, gate, breaks, named):
    for service, path, body in breaks:
        assert call(fleet, service, path, body)[0] == 200
    result = run(fleet, "rearm.yml", tmp_path, **CONFIRMED)
    assert result.exit_code == 2 and refusal(result) == f"re-arm refused: {named}"
    assert not armed(fleet)


def test_a_service_down_and_a_failing_incident_step_are_gates_too(fleet, tmp_path):
    failing = titan_ops.run(PLAYBOOKS / "db-check.yml", fleet.inventory_path, incident="INC-ARM",
                            incident_dir=tmp_path, extra_vars={"expected_counts": {"allocations": 1}})
    assert not failing.ok
    stopped = titan_ops.run(PLAYBOOKS / "restart-services.yml", fleet.inventory_path,
                            extra_vars={"service_state": "stopped", "only_services": ["titan-scavenger"]})
    assert stopped.ok
    try:
        result = run(fleet, "rearm.yml", tmp_path, **CONFIRMED)
        assert refusal(result) == ("re-arm refused: gate services failed (down: titan-scavenger); "
                                   "gate incident failed (failing: db-check.yml)")
        assert not armed(fleet)
    finally:
        started = titan_ops.run(PLAYBOOKS / "restart-services.yml", fleet.inventory_path,
                                extra_vars={"service_state": "started", "only_services": ["titan-scavenger"]})
        assert started.ok


def test_no_rearm_without_an_incident_a_confirmation_and_a_justification(fleet, tmp_path):
    alone = titan_ops.run(PLAYBOOKS / "rearm.yml", fleet.inventory_path, extra_vars=CONFIRMED)
    assert "gate incident failed (no incident: run with --incident ID" in refusal(alone)
    unconfirmed = run(fleet, "rearm.yml", tmp_path, justification="because")
    assert "re-arming needs -e confirm_rearm=yes" in refusal(unconfirmed)
    unjustified = run(fleet, "rearm.yml", tmp_path, confirm_rearm="yes")
    assert "re-arming needs -e confirm_rearm=yes" in refusal(unjustified)
    assert not armed(fleet)


def test_scenario_2_ends_with_rearming_recorded_in_the_timeline(fleet, tmp_path):
    call(fleet, "titan-execution", "/_standin/position-mismatch", {"symbol": "BTCUSDT", "exchange_size": 0.75})
    result = run(fleet, "position-mismatch.yml", tmp_path, **CONFIRMED)
    assert result.ok, [str(task.msg) for task in result.host_results("lab2") if task.status is Status.FAILED]
    state = call(fleet, "titan-execution", "/api/execution/master-arm")[1]
    assert state["enabled"] and state["operator_id"] == "alice"
    [decision] = [entry for entry in Timeline("INC-ARM", tmp_path).entries() if entry["kind"] == "note"]
    assert decision["type"] == "decision" and decision["text"] == "master arm re-enabled"
    assert decision["rationale"] == CONFIRMED["justification"] and decision["details"]["confirm_rearm"] == "yes"
    assert {gate["name"]: gate["ok"] for gate in decision["details"]["gates"]} == {
        "services": True, "breaker": True, "positions": True, "incident": True}


def test_containment_ends_with_rearming_when_asked_and_says_how_when_not(fleet, tmp_path):
    call(fleet, "titan-execution", "/api/execution/master-arm", {"enabled": True, "operator_id": "test"})
    halted = run(fleet, "containment.yml", tmp_path, operator_id="alice")
    assert halted.ok and not armed(fleet)
    assert any("trading stays halted. To re-arm once every gate holds: titan-ops run playbooks/rearm.yml" in str(task.msg)
               for host in halted.stats for task in halted.host_results(host))

    call(fleet, "titan-execution", "/api/execution/master-arm", {"enabled": True, "operator_id": "test"})
    result = run(fleet, "containment.yml", tmp_path, **CONFIRMED)
    assert result.ok, [str(task.msg) for task in result.host_results("lab2") if task.status is Status.FAILED]
    assert [play.name for play in result.plays][-1].lower().startswith("re-arm"), [play.name for play in result.plays]
    assert armed(fleet) and call(fleet, "titan-execution", "/api/execution/orders?status=open")[1]["count"] == 0
    [decision] = [entry for entry in Timeline("INC-ARM", tmp_path).entries() if entry["kind"] == "note"]
    assert decision["text"] == "master arm re-enabled" and decision["rationale"] == CONFIRMED["justification"]
