"""Helpers for the runbook and drill tests on the Titan lab: the CLI, the stand-ins' APIs, the lab's state."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from titan_ops.engine.results import RunResult, Status
from titan_ops.lab.titan import Fleet
from titan_ops.lab.titan_apps import app_statuses

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
DRILLS = ROOT / "drills"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``titan-ops ARGS`` in a subprocess, from the repository's root."""
    return subprocess.run([sys.executable, "-m", "titan_ops", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def failures(result: RunResult) -> list[str]:
    """The failed tasks of a run (neither ignored nor rescued), one line each: host, task, message."""
    return [f"{task.host}: {task.task}: {task.msg}" for host in result.stats for task in result.host_results(host)
            if task.status is Status.FAILED and not task.ignored and not task.rescued]


def call(fleet: Fleet, service: str, path: str, body: dict[str, Any] | None = None, *,
         auth: bool = True, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, JSON body) of one request to a stand-in of the fleet, from the controller."""
    request = urllib.request.Request(fleet.url(service) + path, method="POST" if body is not None else "GET",
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers=dict(headers or {}))
    if auth:
        user, password = fleet.api_credentials
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def reset_standins(fleet: Fleet) -> None:
    """The seeded state of the Brain, Execution (armed, open orders, closed breaker) and the exchanges."""
    for service in ("titan-brain", "titan-execution", "exchange-standin", "exchange-mexc-standin"):
        assert call(fleet, service, "/_standin/reset", {})[0] == 200


def psql(fleet: Fleet, query: str) -> str:
    done = subprocess.run(["psql", "-X", "-qtA", "-w", "-h", "127.0.0.1", "-p", str(fleet.config.ports["postgresql"]),
                           "-U", "titan_user", "-d", "titan_brain", "-c", query], capture_output=True, text=True,
                          env={**os.environ, "PGPASSWORD": fleet.config.secrets["db_password"]}, check=True)
    return done.stdout.strip()


def database_state(fleet: Fleet) -> str:
    """Row counts and the newest performance timestamp of titan_brain."""
    return psql(fleet, "select (select count(*) from allocations) || ',' || (select count(*) from decisions) || ','"
                       " || (select count(*) from performance) || ',' || (select max(\"timestamp\") from performance)")


def file_digest(fleet: Fleet, host: str, path: str) -> str | None:
    target = fleet.lab.host_path(host, path)
    return hashlib.sha256(target.read_bytes()).hexdigest() if target.exists() else None


def app_state(fleet: Fleet) -> dict[str, tuple[str, int]]:
    """Each pm2 app's status and pid (a restarted app has a new pid)."""
    found: dict[str, tuple[str, int]] = {}
    for host in fleet.config.app_hosts():
        pids = fleet.lab.host_path(host, "/var/lib/titan/pm2/pids")
        for name, status in app_statuses(fleet.lab, host).items():
            files = sorted(pids.glob(f"{name}-*.pid"))
            found[name] = (status, int(files[-1].read_text()) if files else 0)
    return found


def snapshot(fleet: Fleet) -> dict[str, Any]:
    """Everything a runbook could change: database, config files, apps, master arm, orders, breaker, positions."""
    return {
        "database": database_state(fleet),
        "files": {(host, path): file_digest(fleet, host, path) for host in fleet.config.app_hosts()
                  for path in ("/opt/titan/.env", "/opt/titan/ecosystem.config.js")},
        "apps": app_state(fleet),
        "master_arm": call(fleet, "titan-execution", "/api/execution/master-arm")[1]["enabled"],
        "open_orders": call(fleet, "titan-execution", "/api/execution/orders?status=open")[1]["count"],
        "positions": call(fleet, "titan-execution", "/api/execution/positions")[1]["count"],
        "reconciliation": call(fleet, "titan-execution", "/api/execution/reconciliation-status")[1]["status"],
        "breaker": call(fleet, "titan-brain", "/api/brain/breaker")[1]["state"],
    }
