"""Both exchanges on the Titan lab: exchange-api.yml reads each exchange's own status codes and the rate limit
the procedures name; exchange-switch.yml refuses a target that is not sound (the switch to the backup exchange
and back is the exchange-switch drill)."""

from __future__ import annotations


import pytest

import titan_ops
from titan_ops.engine.results import RunResult
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import PLAYBOOKS, call


def run(fleet: Fleet, name: str, **extra_vars) -> RunResult:
    return titan_ops.run(PLAYBOOKS / name, fleet.inventory_path, extra_vars=extra_vars)


def messages(result: RunResult) -> str:
    return "\n".join(str(task.msg) for task in result.host_results("lab2"))


@pytest.mark.parametrize("exchange, fault, verdict", [
    # HTTP 200 with an error retCode: only Bybit's own code tells
    ("exchange-standin", {"account_code": 10005}, "bybit: account-specific trouble (the account refused)"),
    ("exchange-standin", {"rate_limited": True}, "bybit: rate limit exhausted"),
    ("exchange-mexc-standin", {"account_code": 30005}, "mexc: account-specific trouble (the account refused)"),
    ("exchange-mexc-standin", {"status": 503}, "mexc: exchange-wide trouble (time endpoint down)"),
])
def test_exchange_api_reads_each_exchanges_own_verdict(fleet, exchange, fault, verdict):
    assert call(fleet, exchange, "/_standin/fault", fault)[0] == 200
    result = run(fleet, "exchange-api.yml")
    assert result.exit_code == 2 and verdict in messages(result), messages(result)


def active_exchange(fleet: Fleet) -> str:
    return call(fleet, "titan-execution", "/api/execution/exchange")[1]["active"]


def test_a_switch_to_an_exchange_that_does_not_answer_touches_nothing(fleet):
    """The switch and back, on a sound backup, is the exchange-switch drill (tests/test_runbooks_drills.py)."""
    call(fleet, "exchange-mexc-standin", "/_standin/fault", {"status": 503})
    refused = run(fleet, "exchange-switch.yml", exchange="mexc")
    assert refused.exit_code == 2 and "not switching to mexc" in messages(refused)
    assert active_exchange(fleet) == "bybit"
    assert call(fleet, "titan-execution", "/api/execution/master-arm")[1]["enabled"], "nothing touched"
    assert call(fleet, "titan-execution", "/api/execution/orders?status=open")[1]["count"] > 0


def test_the_health_check_looks_at_every_exchange(fleet):
    """The backup exchange down is an exchange finding of the triage, though the primary answers."""
    call(fleet, "exchange-mexc-standin", "/_standin/fault", {"status": 503})
    result = run(fleet, "health-check.yml")
    assert "exchange API unreachable" in [finding["reason"] for finding in result.triage["findings"]]
    assert "mexc (backup): time 503" in messages(result)
