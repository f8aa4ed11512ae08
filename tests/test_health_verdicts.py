"""Verdicts that cannot lie, on the Titan lab: health-check's exit code follows its triage, a database
that does not answer is down whatever systemd says, every finding the health check makes is triaged, a
breaker trip is told valid from false, and a limited run triages only what it visited."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.sshd import SESSION_PATH
from titan_ops.lab.titan import Fleet
from titan_ops.lab.titan_apps import app_statuses
from titan_ops.lab.titan_config import wait_until
from tests.runbooks_support import ROOT, call, cli, psql

STANDIN_BIN = ROOT / "tests" / "standins"


def health(fleet: Fleet, tmp_path: Path, *options: str, inventory: Path | None = None,
           baseline: str = "baseline.json") -> tuple[subprocess.CompletedProcess, dict, ET.Element]:
    """Run health-check.yml with the CLI (a baseline of the test's own): the process, its JSON and JUnit."""
    result, junit = tmp_path / "health.json", tmp_path / "health.xml"
    done = cli("run", "playbooks/health-check.yml", "-i", str(inventory or fleet.inventory_path),
               "--output-json", str(result), "--junit", str(junit),
               "-e", f"titan_health_baseline={tmp_path / baseline}", *options)
    return done, json.loads(result.read_text()), ET.parse(junit).getroot()


def reasons(run: dict) -> list[str]:
    return [f"[{finding['severity']}] {finding['reason']}" for finding in run["triage"]["findings"]]


TRIGGER = {"metric": "daily_drawdown_pct", "value": 6.5, "limit": 5.0}


def test_a_breaker_trip_sets_the_exit_code_and_is_told_valid_from_false(fleet, tmp_path):
    call(fleet, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "daily drawdown limit",
                                                     "trigger": TRIGGER, "cooldown_s": 600})
    done, run, junit = health(fleet, tmp_path)
    assert done.returncode == 13, done.stdout[-2000:]
    assert run["severity"] == 3 and run["exit_code"] == 13
    assert reasons(run)[0].startswith("[3] circuit breaker open, valid trigger (daily drawdown limit: "
                                      "daily_drawdown_pct 6.5 reached 5.0): wait for the cooldown")
    assert "severity       3" in done.stdout and "1. playbooks/circuit-breaker.yml" in done.stdout
    properties = {item.get("name"): item.get("value") for item in junit.iter("property")}
    assert properties["severity"] == "3" and properties["exit_code"] == "13"
    assert [failure.get("type") for failure in junit.iter("failure")] == ["severity-3"]
    refused = cli("run", "playbooks/circuit-breaker.yml", "-i", str(fleet.inventory_path),
                  "-e", "justification='looks fine'")
    assert refused.returncode == 2 and "Valid trigger (daily_drawdown_pct 6.5 reached its limit 5.0)" in refused.stdout
    assert "refused: the breaker tripped on a valid trigger" in refused.stdout
    assert call(fleet, "titan-brain", "/api/brain/breaker")[1]["state"] == "open"

    call(fleet, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "daily drawdown limit",
                                                     "trigger": {**TRIGGER, "value": 0.4}})
    done, run, _ = health(fleet, tmp_path)
    assert done.returncode == 12 and reasons(run)[0].startswith("[2] circuit breaker open, false positive")
    reset = cli("run", "playbooks/circuit-breaker.yml", "-i", str(fleet.inventory_path),
                "-e", "justification='drawdown read from a stale price feed'")
    assert reset.returncode == 0 and "False positive (daily_drawdown_pct 0.4 below its limit 5.0)" in reset.stdout
    assert call(fleet, "titan-brain", "/api/brain/breaker")[1]["state"] == "closed"

    call(fleet, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "exchange connection lost",
                                                     "trigger": None})
    done, run, _ = health(fleet, tmp_path)
    assert done.returncode == 11 and reasons(run)[0] == \
        "[1] circuit breaker open on a system failure (exchange connection lost)"


def test_a_database_that_does_not_answer_is_down_whatever_systemd_says(fleet, tmp_path):
    """PostgreSQL and Redis under (stand-in) systemd whose units read active: the failing pg_isready and
    redis-cli ping win."""
    units = fleet.lab.host_path("lab1", "/var/lib/titan/systemctl-standin")
    for folder in ("units", "active", "enabled"):
        (units / folder).mkdir(parents=True, exist_ok=True)
        for unit in ("postgresql", "redis-server"):
            (units / folder / f"{unit}.service").touch()
    (units / "bin").mkdir(exist_ok=True)  # a copy lab1 sees whatever the checkout's path (its /tmp is private)
    shutil.copy(STANDIN_BIN / "systemctl", units / "bin" / "systemctl")
    document = yaml.safe_load(fleet.inventory_path.read_text())
    variables = document["all"]["vars"]
    services = variables["titan_services"]
    for name, unit in (("postgresql", "postgresql"), ("redis", "redis-server")):
        services[name] = {"host": "lab1", "tier": 1, "manager": "systemd", "unit": unit,
                          "check": services[name]["check"]}
    variables["titan_remote_environment"] = {"PATH": f"/var/lib/titan/systemctl-standin/bin:{SESSION_PATH}",
                                             "SYSTEMCTL_STANDIN_ROOT": "/var/lib/titan/systemctl-standin"}
    inventory = tmp_path / "systemd.yml"
    inventory.write_text(yaml.safe_dump(document))
    done, run, _ = health(fleet, tmp_path, inventory=inventory)
    assert done.returncode == 0, reasons(run)
    calls = (units / "calls.log").read_text()
    assert "show -- postgresql" in calls and "show -- redis-server" in calls
    assert run["triage"]["facts"]["corrupt_indexes"] == [], "amcheck ran and found every index sound"

    # Neither answers (their checks ask a port where nothing listens); the units still read active.
    dead_port = fleet.config.ports["exchange-standin"] + 1000
    services["postgresql"]["check"] = f"pg_isready -h 127.0.0.1 -p {dead_port}"
    services["redis"]["check"] = f"redis-cli -e -p {dead_port} ping"
    inventory.write_text(yaml.safe_dump(document))
    done, run, _ = health(fleet, tmp_path, inventory=inventory)
    assert done.returncode == 11, done.stdout[-2000:]
    assert {"[1] postgresql down", "[1] redis down"} <= set(reasons(run))
    facts = run["triage"]["facts"]
    assert facts["services"]["postgresql"] is False and facts["services"]["redis"] is False
    lab1 = [task for task in run["plays"][0]["tasks"]["lab1"] if task["task"] == "systemd units"][0]
    assert [result["status"]["ActiveState"] for result in lab1["result"]["results"]] == ["active", "active"]


def test_a_corrupt_index_is_database_corruption(fleet, tmp_path):
    """A zeroed index page, every row still there: amcheck (installed in the lab's titan_brain, as db-recovery
    installs it) finds it, and the triage calls it the seed's severity-1 database corruption."""
    psql(fleet, "CREATE TABLE corruption_probe (id int); INSERT INTO corruption_probe SELECT generate_series(1, 5000);"
                " CREATE INDEX corruption_probe_idx ON corruption_probe (id)")
    document = yaml.safe_load(fleet.inventory_path.read_text())
    document["all"]["vars"]["titan_db"]["tables"].append("corruption_probe")
    inventory = tmp_path / "probe.yml"
    inventory.write_text(yaml.safe_dump(document))
    try:
        fault = cli("run", "drills/faults/index-corrupted.yml", "-i", str(inventory),
                    "-e", "index=corruption_probe_idx")
        assert fault.returncode == 0, fault.stdout[-2000:]
        assert psql(fleet, "SELECT count(*) FROM corruption_probe") == "5000"
        done, run, junit = health(fleet, tmp_path, inventory=inventory)
        assert done.returncode == 11, done.stdout[-2000:]
        [finding] = reasons(run)
        assert finding.startswith('[1] database corruption: index "corruption_probe_idx"'), finding
        assert run["triage"]["playbooks"] == ["collect-diagnostics.yml", "db-freeze.yml", "db-recovery.yml",
                                              "verify-recovery.yml"]
        assert [failure.get("type") for failure in junit.iter("failure")] == ["severity-1"]
    finally:
        psql(fleet, "DROP TABLE IF EXISTS corruption_probe")


def test_a_limited_run_triages_only_what_it_visited(fleet, tmp_path):
    assert cli("run", "playbooks/restart-services.yml", "-i", str(fleet.inventory_path), "-e",
               '{"service_state": "stopped", "only_services": ["titan-console"]}').returncode == 0
    try:
        done, run, _ = health(fleet, tmp_path, "-l", "lab2")
        assert done.returncode == 0, done.stdout[-2000:]
        assert run["triage"]["unchecked"] == {
            "lab1": ["postgresql", "redis"],
            "lab3": ["nginx", "prometheus", "alertmanager", "node-exporter", "titan-console", "grafana"]}
        assert "not checked    lab1 (postgresql, redis)" in done.stdout and "severity       none" in done.stdout
        assert set(run["triage"]["facts"]["services"]) == {"brain", "execution", "scavenger", "ai_quant"}
        done, run, _ = health(fleet, tmp_path, "-l", "lab3")
        assert done.returncode == 12 and reasons(run) == ["[2] console down (no monitoring)"]
        assert "lab2" in run["triage"]["unchecked"]
    finally:
        assert cli("run", "playbooks/restart-services.yml", "-i", str(fleet.inventory_path), "-e",
                   '{"service_state": "started", "only_services": ["titan-console"]}').returncode == 0


def test_every_finding_the_health_check_makes_is_triaged(fleet, tmp_path):
    psql(fleet, "CREATE TABLE triage_probe (id int); INSERT INTO triage_probe SELECT generate_series(1, 40)")
    document = yaml.safe_load(fleet.inventory_path.read_text())
    document["all"]["vars"]["titan_db"]["tables"].append("triage_probe")
    inventory = tmp_path / "probe.yml"
    inventory.write_text(yaml.safe_dump(document))
    lab3_pm2 = "PM2_HOME=/var/lib/titan/pm2 pm2"
    try:
        done, run, _ = health(fleet, tmp_path, inventory=inventory)
        assert done.returncode == 0, reasons(run)
        assert json.loads((tmp_path / "baseline.json").read_text())["rows"]["triage_probe"] == 40

        psql(fleet, "TRUNCATE triage_probe")
        call(fleet, "titan-ai-quant", "/_standin/leak", {"mb": 200})
        call(fleet, "titan-execution", "/_standin/websocket", {"up": False})
        call(fleet, "titan-scavenger", "/_standin/log-errors", {"count": 25, "message": "order book feed stale"})
        restarts = pm2_restarts(fleet, "lab3", "titan-console")
        call(fleet, "titan-console", "/_standin/crash", {"times": 3})
        assert wait_until(lambda: pm2_restarts(fleet, "lab3", "titan-console") >= restarts + 3
                          and app_statuses(fleet.lab, "lab3").get("titan-console") == "online", 60)
        run_in_host(fleet.lab, "lab3", f"{lab3_pm2} stop grafana")

        done, run, _ = health(fleet, tmp_path, "-e", "disk_warn_percent=1", "-e", "memory_warn_percent=1",
                              inventory=inventory)
        assert done.returncode == 11, done.stdout[-3000:]
        found = reasons(run)
        assert found[0] == "[1] database tables emptied while PostgreSQL answers: triage_probe 0 rows (last known 40)"
        assert "[2] WebSocket endpoint down (no real-time updates)" in found
        assert any(item.startswith("[2] titan-console restarting in a loop (3 restarts") for item in found), found
        assert any(item.startswith("[2] titan-ai-quant grew from") and "(memory leak)" in item for item in found)
        assert "[3] monitoring down: grafana" in found
        spike = [finding for finding in run["triage"]["findings"]
                 if "error spike in titan-scavenger" in finding["reason"]]
        assert spike and spike[0]["severity"] == 3 and "25 error lines in 5 min" in spike[0]["reason"]
        assert "order book feed stale (25/25)" in spike[0]["details"][-1]
        assert "    | " in done.stdout and "order book feed stale" in done.stdout
        assert any(item.startswith("[4] disk ") and "(threshold 1%: capacity)" in item for item in found)
        assert any(item.startswith("[4] memory ") and "(threshold 1%: capacity)" in item for item in found)
        assert json.loads((tmp_path / "baseline.json").read_text())["rows"]["triage_probe"] == 40
    finally:
        run_in_host(fleet.lab, "lab3", f"{lab3_pm2} start grafana")
        run_in_host(fleet.lab, "lab2", "PM2_HOME=/var/lib/titan/pm2 pm2 flush titan-scavenger")
        psql(fleet, "DROP TABLE IF EXISTS triage_probe")
        # The restarts were real: the lab's own last known values start afresh for the tests that follow.
        (fleet.lab.directory / "health-baseline.json").unlink(missing_ok=True)


def pm2_restarts(fleet: Fleet, host: str, app: str) -> int:
    """How many times pm2 restarted ``app`` on ``host``."""
    done = run_in_host(fleet.lab, host, "PM2_HOME=/var/lib/titan/pm2 pm2 jlist")
    entries = json.loads([line for line in done.stdout.splitlines() if line.startswith("[")][-1])
    return next(entry["pm2_env"]["restart_time"] for entry in entries if entry["name"] == app)
