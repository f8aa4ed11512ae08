"""``titan-ops watch`` without the lab: the triage's verdict over the alert's label, the inbox that survives a
restart, a clean stop on SIGTERM. (The watcher with the lab's Prometheus and Alertmanager, through a whole
severity-1 incident: tests/test_incident_lab.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
import yaml

from tests.incident_support import SteppedClock, http_receiver, local_policy, smtp_receiver
from titan_ops.incident.clock import parse_time
from titan_ops.incident.lifecycle import Incident
from titan_ops.incident.policy import load_policy
from titan_ops.incident.timeline import incident_ids
from titan_ops.incident.watch import Watcher

TRIAGE_ONLY = [{"name": "A health check reduced to its triage (every listed service of a silent host is down)",
                "hosts": "all", "gather_facts": False,
                "tasks": [{"triage": {"hosts": "{{ ansible_play_hosts_all }}", "baseline": "{{ baseline }}"},
                           "run_once": True}]}]


@pytest.mark.parametrize("label, service, triaged, finding, told", [
    ("critical", "titan-console", 2, "console down (no monitoring)", ["internal"]),
    ("info", "titan-brain", 1, "brain down", ["internal", "external", "external"]),
])
def test_the_triage_not_the_alerts_label_sets_the_severity(tmp_path, monkeypatch, label, service, triaged, finding,
                                                           told):
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"local": {"ansible_connection": "local"}},
        "vars": {"titan_services": {service: {"host": "local"}}, "baseline": str(tmp_path / "baseline.json")}}}))
    (tmp_path / "health.yml").write_text(yaml.safe_dump(TRIAGE_ONLY, sort_keys=False))
    clock = SteppedClock()
    later = clock.jump_to(clock().replace(microsecond=0) + timedelta(hours=3))  # the incident's clock, not the system's
    with http_receiver() as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url("/services/T/B/x"))
        watcher = Watcher(load_policy(local_policy(tmp_path, http, smtp)), tmp_path / "incidents", clock=clock,
                          inventory=str(tmp_path / "inventory.yml"), health_check=str(tmp_path / "health.yml"),
                          log=lambda line: None)
        watcher.receive(json.dumps({"title": f"{service} alert", "severity": label, "service": service}).encode())
        [incident_id] = watcher.process_inbox()
        state = Incident(incident_id, tmp_path / "incidents").state()
    opened, *_ = state.entries
    assert opened["severity"] == {"critical": 1, "info": 4}[label]  # the label's guess
    assert state.last_triage["severity"] == triaged and state.severity == triaged
    [changed] = [entry for entry in state.entries if entry["kind"] == "severity"]
    assert changed["reason"] == f"triage of the health check: {finding}"
    assert [message["audience"] for message in state.messages] == told  # the duty of the triaged severity
    [run] = [entry for entry in state.entries if entry["kind"] == "run"]
    assert run["operator"] == "watcher" and parse_time(run["timestamp"]) == later
    assert parse_time(run["start"]) <= parse_time(run["end"]) <= later  # the run's times on the incident's clock
    assert watcher.process_inbox() == [] and sum(entry["kind"] == "run" for entry in state.entries) == 1


def test_an_alert_kept_in_the_inbox_survives_a_restart_and_is_processed_once(tmp_path, monkeypatch):
    with http_receiver() as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url("/services/T/B/x"))
        policy = load_policy(local_policy(tmp_path, http, smtp))
        first = Watcher(policy, tmp_path / "incidents", log=lambda line: None)
        body = json.dumps({"title": "Console down", "severity": "high", "service": "titan-console",
                           "detected_at": "2026-12-01T10:00:00Z"}).encode()
        first.receive(body)  # kept; the watcher dies before processing it
        [kept] = list((tmp_path / "incidents" / ".watch" / "inbox").glob("*.json"))
        saved = kept.read_bytes()
        second = Watcher(policy, tmp_path / "incidents", log=lambda line: None)
        [incident_id] = second.process_inbox()
        kept.write_bytes(saved)  # as if it had died after recording, before removing the file
        assert second.process_inbox() == [incident_id]
        state = Incident(incident_id, tmp_path / "incidents").state()
        assert len(state.alerts) == 1 and state.severity == 2 and state.detected.isoformat() == "2026-12-01T10:00:00+00:00"
        assert [message["audience"] for message in state.messages] == ["internal"]
        for bad in (b"not json", b"[1]", b'{"no": "title"}'):
            with pytest.raises(Exception, match="JSON|object|alert"):
                second.receive(bad)
        assert not list((tmp_path / "incidents" / ".watch" / "inbox").glob("*"))


def test_the_watch_command_opens_an_incident_and_stops_cleanly_on_sigterm(tmp_path):
    with http_receiver() as http, smtp_receiver() as smtp:
        policy = local_policy(tmp_path, http, smtp)
        incidents = tmp_path / "incidents"
        watch = subprocess.Popen([sys.executable, "-m", "titan_ops", "watch", "--policy", str(policy), "--dir",
                                  str(incidents), "--listen", "127.0.0.1:0", "--tick", "1s"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "TEST_SLACK_WEBHOOK": http.url("/services/T/B/x")})
        try:
            listening = watch.stdout.readline()
            assert listening.startswith("listening on http://127.0.0.1:"), listening + watch.stderr.read()
            alert = json.dumps({"title": "Console down", "severity": "high", "service": "titan-console"}).encode()
            request = urllib.request.Request(listening.split()[-1] + "/alerts", data=alert, method="POST")
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 200
            deadline = time.monotonic() + 60
            while not (incident_ids(incidents) and http.posts) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            watch.send_signal(signal.SIGTERM)
            output, errors = watch.communicate(timeout=60)
        assert watch.returncode == 0, errors
        assert output.splitlines()[-1] == "stopped" and not errors
        [incident_id] = incident_ids(incidents)
        assert Incident(incident_id, incidents).state().title == "Console down"
        assert "Console down" in http.posts[0]["json"]["text"]
