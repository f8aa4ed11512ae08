"""The full lab (`titan-ops lab up --titan`): the inventory it writes, the real PostgreSQL, Redis and pm2
it runs, the stand-in services' endpoints and state, and that `down` stops all of it and only it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

import titan_ops
from titan_ops import lab as lab_api
from titan_ops.connection import ConnectionPool
from titan_ops.engine.results import Status
from titan_ops.lab import LabError, titan
from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.titan import Fleet
from titan_ops.lab.titan_config import wait_until
from titan_ops.redaction import is_secret_name
from tests.runbooks_support import call, reset_standins


@pytest.fixture
def fresh_standins(titan_lab: Fleet) -> Iterator[Fleet]:
    """Brain's and Execution's seeded state before and after the test."""
    reset_standins(titan_lab)
    yield titan_lab
    reset_standins(titan_lab)


def psql(fleet: Fleet, query: str) -> str:
    done = subprocess.run(["psql", "-X", "-qtA", "-w", "-h", "127.0.0.1", "-p", str(fleet.config.ports["postgresql"]),
                           "-U", "titan_user", "-d", "titan_brain", "-c", query], capture_output=True, text=True,
                          env={**os.environ, "PGPASSWORD": fleet.config.secrets["db_password"]}, check=True)
    return done.stdout.strip()


def test_inventory_groups_and_variables(titan_lab):
    inventory = titan_ops.load_inventory(titan_lab.inventory_path)
    groups = inventory.groups()
    assert groups["databases"] == ["lab1"] and groups["core"] == groups["trading"] == ["lab2"]
    assert groups["interface"] == groups["monitoring"] == ["lab3"]
    assert [titan_lab.host_of(group) for group in ("databases", "core", "trading", "interface", "monitoring")] == \
        ["lab1", "lab2", "lab2", "lab3", "lab3"]
    variables = inventory.host_vars("lab2")
    services = variables["titan_services"]
    assert {name: (service["host"], service["manager"], service["tier"]) for name, service in services.items()} == {
        "postgresql": ("lab1", "command", 1), "redis": ("lab1", "command", 1), "nginx": ("lab3", "command", 1),
        "titan-brain": ("lab2", "pm2", 2), "titan-execution": ("lab2", "pm2", 2),
        "titan-console": ("lab3", "pm2", 3), "titan-scavenger": ("lab2", "pm2", 4),
        "titan-ai-quant": ("lab2", "pm2", 4), "grafana": ("lab3", "pm2", 5), "prometheus": ("lab3", "command", 5),
        "alertmanager": ("lab3", "command", 5), "node-exporter": ("lab3", "command", 5)}
    assert services["titan-execution"]["health_url"] == titan_lab.url("titan-execution") + "/health"
    assert services["titan-execution"]["url"] == services["titan-brain"]["url"] == titan_lab.public_url
    assert variables["titan_db"]["name"] == "titan_brain" and variables["titan_db"]["user"] == "titan_user"
    assert variables["titan_db"]["port"] == titan_lab.config.ports["postgresql"]
    secrets = {name for name, value in variables.items() if value in titan_lab.config.secrets.values()}
    assert secrets == {"titan_api_password", "titan_db_password", "titan_db_admin_password",
                       "titan_exchange_api_key", "titan_exchange_api_secret", "titan_redis_password",
                       "titan_mexc_api_key", "titan_mexc_api_secret"}
    assert all(is_secret_name(name) for name in secrets)


def test_database_is_seeded_and_backed_up(titan_lab):
    counts = psql(titan_lab, "select (select count(*) from allocations) || ',' || (select count(*) from decisions)"
                             " || ',' || (select count(*) from performance)")
    assert counts == "5,50,200"
    assert psql(titan_lab, 'select max("timestamp") > now() - interval \'1 day\' from performance') == "t"
    dump = titan_lab.lab.host_path("lab1", "/var/backups/titan/db/titan_brain-latest.dump")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert all(f"TABLE DATA public {table}" in listing for table in ("allocations", "decisions", "performance"))
    for host in ("lab2", "lab3"):
        for name in (".env", "ecosystem.config.js"):
            live = titan_lab.lab.host_path(host, f"/opt/titan/{name}").read_text()
            assert titan_lab.lab.host_path(host, f"/var/backups/titan/config/{name}").read_text() == live
    assert not titan_lab.lab.host_path("lab1", "/opt/titan/.env").exists()


def test_every_service_is_healthy_and_the_apis_need_auth(titan_lab):
    for app in titan.APPS:
        status, body = call(titan_lab, app.name, app.health_path, auth=False)
        assert status == 200 and (body.get("standin") is True or body.get("retCode") == 0
                                  or "serverTime" in body), app.name  # the exchanges answer as exchanges do
    assert call(titan_lab, "titan-execution", "/api/execution/positions", auth=False)[0] == 401
    assert call(titan_lab, "titan-brain", "/api/brain/breaker", auth=False)[0] == 401
    assert call(titan_lab, "titan-execution", "/api/execution/positions")[0] == 200


def test_containment_master_arm_orders_positions_trades(fresh_standins):
    fleet = fresh_standins
    assert call(fleet, "titan-execution", "/api/execution/master-arm", {"enabled": False})[0] == 400
    status, arm = call(fleet, "titan-execution", "/api/execution/master-arm",
                       {"enabled": False, "operator_id": "oncall-1"})
    assert status == 200 and arm["enabled"] is False and arm["operator_id"] == "oncall-1"
    assert call(fleet, "titan-execution", "/api/execution/master-arm")[1]["enabled"] is False
    order = {"symbol": "BTCUSDT", "side": "buy", "qty": 1, "price": 1}
    assert call(fleet, "titan-execution", "/api/execution/orders", order)[0] == 409
    assert call(fleet, "titan-execution", "/api/execution/cancel-all", {"operator_id": "oncall-1"})[1]["cancelled"] == 3
    assert call(fleet, "titan-execution", "/api/execution/orders?status=open")[1]["count"] == 0
    assert call(fleet, "titan-execution", "/api/execution/positions")[1]["count"] == 2
    assert call(fleet, "titan-execution", "/api/execution/flatten-all", {"operator_id": "oncall-1"})[1]["closed"] == 2
    assert call(fleet, "titan-execution", "/api/execution/positions")[1]["positions"] == []
    trades = call(fleet, "titan-execution", "/api/execution/trades?limit=50")[1]["trades"]
    assert len(trades) == 50 and {trade.get("reason") for trade in trades[:2]} == {"flatten-all"}


def test_position_mismatch_and_reconcile(fresh_standins):
    fleet = fresh_standins
    assert call(fleet, "titan-execution", "/api/execution/reconciliation-status")[1]["status"] == "ok"
    call(fleet, "titan-execution", "/_standin/position-mismatch", {"symbol": "ETHUSDT", "exchange_size": 3.0})
    status = call(fleet, "titan-execution", "/api/execution/reconciliation-status")[1]
    assert status["status"] == "mismatch" and status["mismatches"][0]["symbol"] == "ETHUSDT"
    reconciled = call(fleet, "titan-execution", "/api/execution/reconcile", {"operator_id": "oncall-1"})[1]
    assert reconciled["corrections"][0]["exchange"]["size"] == 3.0
    assert call(fleet, "titan-execution", "/api/execution/reconciliation-status")[1]["status"] == "ok"
    sizes = {p["symbol"]: p["size"] for p in call(fleet, "titan-execution", "/api/execution/positions")[1]["positions"]}
    assert sizes == {"BTCUSDT": 0.5, "ETHUSDT": 3.0}


def test_brain_breaker_and_dashboard(fresh_standins):
    fleet = fresh_standins
    assert call(fleet, "titan-brain", "/api/brain/breaker")[1]["state"] == "closed"
    call(fleet, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "drawdown"})
    assert call(fleet, "titan-brain", "/api/brain/breaker")[1]["tripped"] is True
    assert call(fleet, "titan-brain", "/api/brain/breaker/reset", {"operator_id": "oncall-1"})[0] == 400
    status, breaker = call(fleet, "titan-brain", "/api/brain/breaker/reset",
                           {"operator_id": "oncall-1", "justification": "false trip, feed glitch"})
    assert status == 200 and breaker["state"] == "closed" and breaker["reset_by"] == "oncall-1"
    assert call(fleet, "titan-brain", "/api/brain/dashboard")[1]["signal_latency_ms"] == 45
    call(fleet, "titan-brain", "/_standin/dashboard", {"signal_latency_ms": 650})
    assert call(fleet, "titan-brain", "/api/brain/dashboard")[1]["signal_latency_ms"] == 650


def test_exchange_standin(titan_lab):
    status, answer = call(titan_lab, "exchange-standin", "/v5/market/time", auth=False)
    assert status == 200 and answer["retCode"] == 0 and int(answer["result"]["timeSecond"]) > 0
    key = {"X-BAPI-API-KEY": titan_lab.config.secrets["exchange_api_key"]}
    assert call(titan_lab, "exchange-standin", "/v5/account/info", auth=False, headers=key)[0] == 200
    assert call(titan_lab, "exchange-standin", "/v5/account/info", auth=False)[0] == 401
    try:
        call(titan_lab, "exchange-standin", "/_standin/fault", {"status": 503})
        assert call(titan_lab, "exchange-standin", "/v5/market/time", auth=False)[0] == 503
    finally:
        call(titan_lab, "exchange-standin", "/_standin/fault", {"status": None})
    assert call(titan_lab, "exchange-standin", "/v5/market/time", auth=False)[0] == 200


def test_state_survives_a_pm2_restart_and_a_broken_env_stops_the_app(fresh_standins, tmp_path):
    fleet = fresh_standins
    call(fleet, "titan-execution", "/api/execution/master-arm", {"enabled": False, "operator_id": "oncall-1"})
    play = tmp_path / "restart.yml"
    play.write_text("- hosts: trading\n  gather_facts: false\n  tasks:\n"
                    "    - pm2: {name: titan-execution, state: restarted, pm2_home: '{{ titan_pm2_home }}',"
                    " ecosystem: '{{ titan_ecosystem_file }}'}\n")
    result, = titan_ops.run(play, fleet.inventory_path).host_results("lab2")
    assert result.status is Status.CHANGED and result.result["status"] == "online"
    execution = titan.APPS[1]
    assert wait_until(lambda: titan.titan_apps.healthy(fleet.config, execution), 20)
    assert call(fleet, "titan-execution", "/api/execution/master-arm")[1]["enabled"] is False
    env = fleet.lab.host_path("lab2", "/opt/titan/.env")
    try:
        env.write_text("this is not a .env file\n")
        titan_ops.run(play, fleet.inventory_path)
        assert wait_until(lambda: "configuration error" in fleet.lab.host_path(
            "lab2", "/var/log/titan/titan-execution.err.log").read_text(), 20)
        assert not titan.titan_apps.healthy(fleet.config, execution)
    finally:
        env.write_text(fleet.lab.host_path("lab2", "/var/backups/titan/config/.env").read_text())
        titan_ops.run(play, fleet.inventory_path)
    assert wait_until(lambda: titan.titan_apps.healthy(fleet.config, execution), 20)


def test_processes_live_in_their_hosts(titan_lab):
    pool = ConnectionPool()
    try:
        commands = {host: set(pool.get(titan_lab.lab.address(host)).run("ps -eo comm=").stdout.split())
                    for host in ("lab1", "lab2", "lab3")}
    finally:
        pool.close_all()
    assert {"postgres", "redis-server"} <= commands["lab1"] and not any("PM2" in c for c in commands["lab1"])
    assert any("PM2" in c for c in commands["lab2"]) and "postgres" not in commands["lab2"]
    assert "postgres" not in commands["lab3"] and any("PM2" in c for c in commands["lab3"])


def test_up_again_reuses_everything(titan_lab):
    before = run_in_host(titan_lab.lab, "lab1", "head -1 /var/lib/titan/postgresql/data/postmaster.pid").stdout
    pm2_before = titan.titan_apps.app_statuses(titan_lab.lab, "lab2")
    again = titan.up(hosts=3, directory=titan_lab.lab.directory)
    assert again.config.ports == titan_lab.config.ports and again.running
    assert run_in_host(titan_lab.lab, "lab1", "head -1 /var/lib/titan/postgresql/data/postmaster.pid").stdout == before
    assert titan.titan_apps.app_statuses(titan_lab.lab, "lab2") == pm2_before
    inventory = titan_lab.inventory_path.read_text()
    with pytest.raises(LabError, match="runs on 3 hosts"):
        titan.up(hosts=1, directory=titan_lab.lab.directory)
    assert titan.status(titan_lab.lab.directory).running
    assert titan_lab.inventory_path.read_text() == inventory, "a refused up leaves the inventory as it was"


def test_cli_status_lists_the_services(titan_lab):
    done = subprocess.run([sys.executable, "-m", "titan_ops", "lab", "status", "--dir", str(titan_lab.lab.directory)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for app in ("postgresql", "redis", *(app.name for app in titan.APPS), "nginx", "prometheus", "alertmanager"):
        assert any(line.split()[:1] == [app] and line.split()[-1] == "online" for line in done.stdout.splitlines())


def test_down_stops_its_own_fleet_and_nothing_else(titan_lab, tmp_path_factory):
    directory = tmp_path_factory.mktemp("titan-single")
    try:
        fleet = titan.up(hosts=1, directory=directory)
        assert fleet.running and {service.host for service in fleet.services} == {"lab1"}
        assert titan_ops.load_inventory(fleet.inventory_path).groups()["trading"] == ["lab1"]
        stopped = titan.down(directory)
        assert stopped == ["nginx", "prometheus", "alertmanager", "node-exporter", "pm2@lab1", "postgresql", "redis"]
        after = titan.status(directory)
        assert after is not None and all(service.status == "down" for service in after.services)
        assert all(not titan.titan_apps.healthy(fleet.config, app) for app in titan.APPS)
        assert titan.down(directory) == []
    finally:
        titan.down(directory)
        lab_api.down(directory)
    assert titan.status(titan_lab.lab.directory).running
