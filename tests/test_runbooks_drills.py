"""Every shipped drill runs green against the Titan lab, and leaves the state it promises."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from titan_ops.incident import Timeline

from tests.runbooks_support import DRILLS, call, cli, database_state, file_digest, snapshot


@pytest.mark.timeout(1200)
def test_every_drill_runs_green_and_leaves_the_promised_state(fleet, tmp_path):
    seeded = database_state(fleet)
    files_before = {(host, path): file_digest(fleet, host, path) for host in ("lab2", "lab3")
                    for path in ("/opt/titan/.env", "/opt/titan/ecosystem.config.js")}
    junit, incidents = tmp_path / "drills.xml", tmp_path / "incidents"
    drills = sorted(DRILLS.glob("*.yml"))
    done = cli("drill", *map(str, drills), "-i", str(fleet.inventory_path), "--junit", str(junit),
               "--incident", "DRILL-CI", "--incident-dir", str(incidents), timeout=1100)
    assert done.returncode == 0, done.stdout[-4000:]
    assert done.stdout.count("PASSED: ") == len(drills) == 11
    assert done.stdout.count("time to recover ") == len(drills)
    assert "time to recover" in done.stdout

    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert len(root.findall("testsuite")) == len(drills)
    assert {case.get("classname") for case in root.iter("testcase")} == \
        {"drill.fault", "drill.recovery", "drill.verification", "drill.cleanup", "drill.budget"}

    # database loss: rows and the newest timestamp are the backup's (the seeded ones)
    assert database_state(fleet) == seeded
    # corrupted config: the files are the backups again, the corrupted ones kept beside them
    assert {key: file_digest(fleet, *key) for key in files_before} == files_before
    for host in ("lab2", "lab3"):
        kept = list(fleet.lab.host_path(host, "/opt/titan").glob(".env.*~"))
        assert kept and any("corrupted" in path.read_text() for path in kept)
    # Execution killed: back online, with every other app
    state = snapshot(fleet)
    assert all(status == "online" for status, _ in state["apps"].values()) and "titan-execution" in state["apps"]
    # positions reconciled; restore-fails (the last) left trading armed; the breaker closed
    assert (state["master_arm"], state["reconciliation"], state["breaker"]) == (True, "ok", "closed")

    entries = Timeline("DRILL-CI", incidents).entries()
    assert [entry["drill"] for entry in entries if entry["kind"] == "drill"] == [
        "circuit breaker false positive reset with a justification", "circuit breaker valid trip waits for its cooldown",
        "corrupted config restored and apps reloaded", "containment verified (master arm off, no open orders)",
        "database loss restored from backup", "backup-exchange switch, and back",
        "Execution killed and brought back in recovery order", "index corruption repaired in place",
        "compromised exchange key rotated and revoked", "position mismatch reconciled",
        "failed restore left the database as it was, then a good backup restored"]
    report = cli("incident", "report", "DRILL-CI", "--dir", str(incidents))
    assert report.returncode == 0
    assert [line.endswith(": passed") for line in report.stdout.splitlines() if line.startswith("### Drill")] == \
        [True] * len(drills)


def test_a_drill_over_budget_fails(fleet, tmp_path):
    drill = tmp_path / "tight.yml"
    drill.write_text(f"""
name: containment within a millisecond
budget_seconds: 0.001
fault: {{playbook: {DRILLS}/faults/armed-with-orders.yml}}
recovery: [{{playbook: {DRILLS.parent}/playbooks/containment.yml}}]
verification: [{{playbook: {DRILLS}/checks/contained.yml}}]
""")
    done = cli("drill", str(drill), "-i", str(fleet.inventory_path))
    assert done.returncode == 2 and "(over budget)" in done.stdout
    assert call(fleet, "titan-execution", "/api/execution/master-arm")[1]["enabled"] is False
