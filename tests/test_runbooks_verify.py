"""verify-recovery on the Titan lab: every check it makes can fail on its own. Each case breaks exactly one
condition (through the stand-ins' fault switches) and sees the verification fail naming that check alone."""

from __future__ import annotations

import re

import pytest

import titan_ops
from titan_ops.engine.results import RunResult
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import PLAYBOOKS, call

ARMED = {"expected_master_arm": True, "signal_timeout_s": 3}


def verify(fleet: Fleet, **extra_vars) -> tuple[RunResult, list[str], str]:
    """The run, the names of the checks that failed, and the findings line."""
    result = titan_ops.run(PLAYBOOKS / "verify-recovery.yml", fleet.inventory_path, extra_vars=extra_vars)
    [findings] = [str(task.msg) for task in result.host_results("lab2") if task.task == "Findings"]
    return result, re.findall(r"(?:^|; )([a-z ]+) FAILED \(", findings), findings


def test_a_sound_fleet_verifies(fleet):
    result, failed, findings = verify(fleet, **ARMED)
    assert result.ok and failed == [], findings
    assert "agree on 2 open positions" in findings and "bybit:USDT:25000.00, mexc:USDT:10000.00" in findings
    assert "came out at Execution" in findings and "retCode 0" in findings and "canTrade True" in findings


@pytest.mark.parametrize("check, breaks, extra", [
    ("breaker", [("titan-brain", "/_standin/breaker", {"state": "open", "reason": "exchange feed lost"})], {}),
    ("master arm", [], {"expected_master_arm": False}),
    ("exchanges", [("exchange-standin", "/_standin/fault", {"account_code": 10005})], {}),
    # MEXC's balances come from its account endpoint: an account it refuses has no readable balance either.
    ("exchanges+balances", [("exchange-mexc-standin", "/_standin/fault", {"account_code": 30005})], {}),
    ("exchanges", [("exchange-standin", "/_standin/fault", {"rate_limited": True})], {}),
    # Titan's reconciler stalls saying "ok" while the backup exchange's positions drift: caught all the same.
    ("positions", [("titan-execution", "/_standin/reconciler", {"frozen": True}),
                   ("exchange-mexc-standin", "/_standin/positions",
                    {"positions": [{"symbol": "SOLUSDT", "side": "long", "size": 10.0}]})], {}),
    ("balances", [("exchange-standin", "/_standin/balance", {"USDT": 24250.5})], {}),
    ("signal flow", [("titan-brain", "/_standin/signals", {"stalled": True})], {}),
    ("latency", [("titan-brain", "/_standin/dashboard", {"signal_latency_ms": 750})], {}),
])
def test_each_check_fails_on_its_own(fleet, check, breaks, extra):
    for service, path, body in breaks:
        assert call(fleet, service, path, body)[0] == 200
    if check == "positions":
        status = call(fleet, "titan-execution", "/api/execution/reconciliation-status")[1]
        assert status["status"] == "ok", "the premise: Titan's own status does not see it"
    result, failed, findings = verify(fleet, **{**ARMED, **extra})
    assert not result.ok and failed == check.split("+"), findings
