"""The pm2 module against real pm2 on a lab host: a daemon of this module's own (its own PM2_HOME on
lab1), two small node apps started from an ecosystem file, and ``pm2 jlist`` read directly to check."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from collections.abc import Iterator

import pytest

import titan_ops
from titan_ops.engine.results import Status
from titan_ops.lab.namespace import run_in_host

PM2_HOME = "/var/lib/titan/pm2-module-test"
FOLDER = "/srv/titan/pm2-module-test"
ECOSYSTEM = f"{FOLDER}/ecosystem.config.js"


@pytest.fixture(scope="module")
def pm2_host(lab) -> Iterator[str]:
    """lab1 with the test apps' files; the module's pm2 daemon is killed afterwards."""
    folder = lab.host_path("lab1", FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.js").write_text("setInterval(() => {}, 1000);\n")
    apps = [{"name": name, "script": f"{FOLDER}/app.js", "autorestart": True} for name in ("alpha", "beta")]
    (folder / "ecosystem.config.js").write_text(f"module.exports = {json.dumps({'apps': apps})};\n")
    try:
        yield "lab1"
    finally:
        run_in_host(lab, "lab1", "pm2 kill", env={"PM2_HOME": PM2_HOME}, check=False)


def jlist(lab) -> dict[str, dict]:
    """What pm2 itself says, by app name."""
    done = run_in_host(lab, "lab1", "pm2 jlist", env={"PM2_HOME": PM2_HOME})
    return {entry["name"]: entry for entry in json.loads(done.stdout.strip().splitlines()[-1])}


def run(lab, tmp_path: Path, tasks: str, **options) -> list[titan_ops.TaskResult]:
    play = tmp_path / "play.yml"
    play.write_text("- hosts: lab1\n  gather_facts: false\n  tasks:\n"
                    + textwrap.indent(textwrap.dedent(tasks), "    "))
    return titan_ops.run(play, lab.inventory_path, **options).host_results("lab1")


def pm2(name: str, state: str, **extra: str) -> str:
    arguments = {"name": name, "state": state, "pm2_home": PM2_HOME, **extra}
    return "- pm2: " + json.dumps(arguments) + "\n"


def test_start_from_ecosystem_then_ok(lab, pm2_host, tmp_path):
    first, second = run(lab, tmp_path, pm2("alpha", "started", ecosystem=ECOSYSTEM) * 2)
    assert first.status is Status.CHANGED and second.status is Status.OK
    assert first.result["status"] == second.result["status"] == "online"
    assert first.result["command"] == ["pm2", "start", ECOSYSTEM, "--only", "alpha"]
    state = jlist(lab)
    assert state["alpha"]["pm2_env"]["status"] == "online" and "beta" not in state
    app, = [app for app in second.result["apps"] if app["name"] == "alpha"]
    assert app["pid"] == state["alpha"]["pid"] and app["memory"] > 0
    assert set(app) == {"name", "pm_id", "status", "pid", "restarts", "memory", "cpu", "uptime"}


def test_stop_restart_reload_and_delete(lab, pm2_host, tmp_path):
    run(lab, tmp_path, pm2("beta", "started", ecosystem=ECOSYSTEM))
    restarts = jlist(lab)["beta"]["pm2_env"]["restart_time"]
    results = run(lab, tmp_path, pm2("beta", "stopped") + pm2("beta", "stopped") + pm2("beta", "started")
                  + pm2("beta", "restarted") + pm2("beta", "reloaded"))
    assert [result.status for result in results] == [Status.CHANGED, Status.OK, Status.CHANGED, Status.CHANGED,
                                                     Status.CHANGED]
    assert results[0].result["status"] == "stopped" and results[2].result["status"] == "online"
    assert jlist(lab)["beta"]["pm2_env"]["restart_time"] >= restarts + 2
    gone, again = run(lab, tmp_path, pm2("beta", "absent") * 2)
    assert gone.status is Status.CHANGED and again.status is Status.OK and again.result["status"] == "absent"
    assert "beta" not in jlist(lab)


def test_check_mode_changes_nothing(lab, pm2_host, tmp_path):
    run(lab, tmp_path, pm2("alpha", "started", ecosystem=ECOSYSTEM))
    before = jlist(lab)["alpha"]
    results = run(lab, tmp_path, pm2("alpha", "stopped") + pm2("alpha", "restarted") + pm2("alpha", "absent")
                  + pm2("gamma", "started", ecosystem=ECOSYSTEM), check=True, diff=True)
    assert all(result.status is Status.CHANGED for result in results[:3])
    assert results[0].diff[0]["before"] == "alpha: online\n" and results[0].diff[0]["after"] == "alpha: stopped\n"
    after = jlist(lab)["alpha"]
    assert after["pid"] == before["pid"] and after["pm2_env"]["status"] == "online"
    assert after["pm2_env"]["restart_time"] == before["pm2_env"]["restart_time"]


def test_unknown_app_without_ecosystem_and_missing_pm2(lab, pm2_host, tmp_path):
    unknown, no_pm2 = run(lab, tmp_path, f"""
        - pm2: {{name: nosuch, state: started, pm2_home: {PM2_HOME}}}
          ignore_errors: true
        - pm2: {{name: alpha, executable: /nonexistent/pm2, pm2_home: {PM2_HOME}}}
          ignore_errors: true
    """)
    assert unknown.failed and "no app nosuch" in unknown.msg
    assert no_pm2.failed and "pm2 not found" in no_pm2.msg


def test_pm2_home_from_the_task_environment(lab, pm2_host, tmp_path):
    run(lab, tmp_path, pm2("alpha", "started", ecosystem=ECOSYSTEM))
    result, = run(lab, tmp_path, f"""
        - pm2: {{name: alpha, state: started}}
          environment: {{PM2_HOME: {PM2_HOME}}}
    """)
    assert result.status is Status.OK and result.result["status"] == "online"


def test_check_mode_does_not_start_a_daemon(lab, pm2_host, tmp_path):
    home = "/var/lib/titan/pm2-never-started"
    arguments = {"name": "alpha", "ecosystem": ECOSYSTEM, "pm2_home": home}
    result, = run(lab, tmp_path, "- pm2: " + json.dumps(arguments) + "\n", check=True)
    assert result.status is Status.CHANGED and result.result["apps"] == [] and result.result["status"] == "absent"
    assert not lab.host_path("lab1", f"{home}/pm2.pid").exists()
