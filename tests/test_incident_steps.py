"""The incident's failing steps (what rearm.yml's incident gate reads): the latest real run of each playbook."""

from __future__ import annotations

from titan_ops.modules.incident_steps import failing_steps


def run(playbook: str, ok: bool, check: bool = False) -> dict:
    return {"kind": "run", "playbook": f"playbooks/{playbook}", "timestamp": "t", "arguments": {"check": check},
            "outcome": {"ok": ok, "failures": [] if ok else [{"host": "lab2", "task": "x", "msg": "boom"}]}}


def test_the_latest_real_run_of_each_playbook_counts():
    entries = [run("db-check.yml", False), run("db-check.yml", True),  # fixed since
               run("containment.yml", True), run("containment.yml", False, check=True),  # a dry run: ignored
               run("db-recovery.yml", True), run("db-recovery.yml", False),  # broken since
               {"kind": "note", "type": "decision", "text": "x"}, run("rearm.yml", False)]
    failing = failing_steps(entries, ignore=("rearm.yml",))
    assert [(step["playbook"], step["failures"]) for step in failing] == [("db-recovery.yml", ["lab2: x: boom"])]
    assert failing_steps([]) == []
