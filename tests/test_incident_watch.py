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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

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


GATED_HEALTH_CHECK = [{"name": "A health check that notes its start, waits for the test's go, then triages",
                       "hosts": "all", "gather_facts": False,
                       "tasks": [{"shell": "echo started >> {{ started }}"},
                                 {"wait_for": {"path": "{{ go }}", "sleep": 0.02, "timeout": 120}},
                                 {"triage": {"hosts": "{{ ansible_play_hosts_all }}", "baseline": "{{ baseline }}"},
                                  "run_once": True}]}]
"""Each run appends a line to the file ``started`` names, then holds until the file ``go`` names exists: the
test knows that a health check runs, and ends it when it chooses."""


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.01)


def _pending_signals(pid: int) -> int:
    """The signals sent to process ``pid`` that none of its threads has taken yet (a mask, bit n-1 for n)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("ShdPnd:"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no ShdPnd in /proc/{pid}/status")


def test_a_watcher_killed_while_it_triages_loses_nothing_and_a_sigterm_waits_for_the_alert(tmp_path):
    """The process, not a simulation: killed (SIGKILL) in the middle of an alert's health check, a restarted
    watcher triages and notifies it once; a SIGTERM that comes while an alert is being handled lets it finish
    (or keeps it for the next start), then exits 0."""
    started, go = tmp_path / "started", tmp_path / "go"
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"local": {"ansible_connection": "local"}},
        "vars": {"titan_services": {"titan-console": {"host": "local"}}, "baseline": str(tmp_path / "base.json"),
                 "started": str(started), "go": str(go)}}}))
    (tmp_path / "health.yml").write_text(yaml.safe_dump(GATED_HEALTH_CHECK, sort_keys=False))
    incidents = tmp_path / "incidents"

    def health_checks_started() -> int:
        return len(started.read_text().splitlines()) if started.exists() else 0

    with http_receiver() as http, smtp_receiver() as smtp:
        policy = local_policy(tmp_path, http, smtp)

        def start() -> tuple[subprocess.Popen, str]:
            watch = subprocess.Popen(
                [sys.executable, "-m", "titan_ops", "watch", "--policy", str(policy), "--dir", str(incidents),
                 "--listen", "127.0.0.1:0", "--tick", "1s", "-i", str(tmp_path / "inventory.yml"),
                 "--health-check", str(tmp_path / "health.yml")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "TEST_SLACK_WEBHOOK": http.url("/services/T/B/x")})
            listening = watch.stdout.readline()
            assert listening.startswith("listening on http://127.0.0.1:"), listening + watch.stderr.read()
            return watch, listening.split()[-1]

        def post(url: str, title: str) -> None:
            alert = json.dumps({"title": title, "severity": "high", "service": "titan-console"}).encode()
            with urllib.request.urlopen(urllib.request.Request(url, data=alert, method="POST"), timeout=30) as answer:
                assert answer.status == 200

        def wait_for_line(watch: subprocess.Popen, text: str) -> None:
            for line in watch.stdout:
                if text in line:
                    return
            raise AssertionError(f"the watcher ended before saying {text!r}: {watch.stderr.read()}")

        first, url = start()
        try:
            post(url, "Console down")
            wait_for_line(first, "opened")
            _wait_until(lambda: health_checks_started() == 1, "the first alert's health check")
        finally:
            first.kill()  # while its health check waits for the go
            first.communicate(timeout=60)
        [incident_id] = incident_ids(incidents)
        state = Incident(incident_id, incidents).state()
        assert len(state.alerts) == 1 and not state.messages and not http.posts, "killed before the triage ended"
        assert len(list((incidents / ".watch" / "inbox").glob("*.json"))) == 1, "the alert is still kept"

        second, url = start()
        try:
            _wait_until(lambda: health_checks_started() == 2, "the kept alert's health check")
            go.touch()
            wait_for_line(second, "triaged")
            go.unlink()
            post(url, "Console still down")  # a new alert (another fingerprint): its own incident
            wait_for_line(second, "opened")
            _wait_until(lambda: health_checks_started() == 3, "the new alert's health check")
            second.send_signal(signal.SIGTERM)  # while the second alert's health check runs
            _wait_until(lambda: second.poll() is not None or not _pending_signals(second.pid) & 1 << (signal.SIGTERM - 1),
                        "the SIGTERM taken")
            go.touch()
            output, errors = second.communicate(timeout=60)
        finally:
            second.kill()
        assert second.returncode == 0 and output.splitlines()[-1] == "stopped", errors
        assert not errors
    states = {Incident(name, incidents).state().title: Incident(name, incidents).state()
              for name in incident_ids(incidents)}
    assert set(states) == {"Console down", "Console still down"}
    for state in states.values():
        kinds = [entry["kind"] for entry in state.entries]
        assert kinds.count("alert") == 1 and kinds.count("run") == 1 and kinds.count("watch") == 1, kinds
        assert [message["audience"] for message in state.messages] == ["internal"], "told once"
    assert not list((incidents / ".watch" / "inbox").glob("*"))
    assert len(http.posts) == 2
    assert health_checks_started() == 3, "no health check ran twice after the restart"


REPORTING_HEALTH_CHECK = [{"name": "A health check whose one host reports what the test's file says is down",
                           "hosts": "all", "gather_facts": False,
                           "tasks": [{"set_fact": {"titan_health": {
                               "host": "{{ inventory_hostname }}", "services_expected": ["titan-console"],
                               "services_down": "{{ lookup('file', down_file) | from_json }}"}}},
                               {"triage": {"hosts": "{{ ansible_play_hosts_all }}", "baseline": "{{ baseline }}"},
                                "run_once": True}]}]


def test_the_routine_health_check_opens_an_incident_only_when_it_finds_one(tmp_path, monkeypatch):
    """``--health-check-every``: a sound check opens nothing; one that finds the Console down opens an incident
    (severity from its triage, the run and the verdict in its timeline, the team told); the next checks, while
    it is open, open no second one."""
    down = tmp_path / "down.json"
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"local": {"ansible_connection": "local"}},
        "vars": {"titan_services": {"titan-console": {"host": "local"}}, "baseline": str(tmp_path / "base.json"),
                 "down_file": str(down)}}}))
    (tmp_path / "health.yml").write_text(yaml.safe_dump(REPORTING_HEALTH_CHECK, sort_keys=False))
    incidents = tmp_path / "incidents"
    with http_receiver() as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url("/services/T/B/x"))
        watcher = Watcher(load_policy(local_policy(tmp_path, http, smtp)), incidents, health_check_every=0.01,
                          inventory=str(tmp_path / "inventory.yml"), health_check=str(tmp_path / "health.yml"),
                          log=lambda line: None)

        def tick() -> None:
            time.sleep(0.02)  # the schedule's interval has passed
            watcher.tick()

        down.write_text("[]")
        tick()
        assert incident_ids(incidents) == [] and http.posts == []
        down.write_text('["titan-console"]')
        tick()
        [incident_id] = incident_ids(incidents)
        state = Incident(incident_id, incidents).state()
        assert state.title == "Routine health check: console down (no monitoring)"
        assert state.source == "routine health check" and state.severity == 2
        assert [entry["kind"] for entry in state.entries if entry["kind"] in ("run", "triage")] == ["run", "triage"]
        assert [message["audience"] for message in state.messages] == ["internal"]
        assert "console down" in http.posts[0]["json"]["text"]
        tick()
        assert incident_ids(incidents) == [incident_id], "one incident while it is open"


def test_the_same_alert_again_updates_its_incident_and_its_resolution_is_recorded(tmp_path, monkeypatch):
    """Alertmanager repeats a firing alert and later sends it resolved (same fingerprint): one incident, each
    notification an ``alert`` entry of it; a resolved alert with no open incident opens none."""
    with http_receiver() as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url("/services/T/B/x"))
        watcher = Watcher(load_policy(local_policy(tmp_path, http, smtp)), tmp_path / "incidents",
                          log=lambda line: None)

        def webhook(status: str, fingerprint: str = "f00d") -> dict:
            return {"version": "4", "status": status, "alerts": [{
                "status": status, "fingerprint": fingerprint, "startsAt": "2026-12-01T10:00:00Z",
                "labels": {"alertname": "TitanConsoleDown", "severity": "2", "job": "titan-console"},
                "annotations": {"summary": "Console down"}}]}

        for status in ("firing", "firing", "resolved"):
            watcher.receive(json.dumps(webhook(status)).encode())
            watcher.process_inbox()
        watcher.receive(json.dumps(webhook("resolved", fingerprint="beef")).encode())
        assert watcher.process_inbox() == []
    [incident_id] = incident_ids(tmp_path / "incidents")
    state = Incident(incident_id, tmp_path / "incidents").state()
    assert [(alert["status"], alert["fingerprint"]) for alert in state.alerts] == [
        ("firing", "f00d"), ("firing", "f00d"), ("resolved", "f00d")]
    assert state.title == "Console down" and state.severity == 2
    assert [message["audience"] for message in state.messages] == ["internal"], "told once"
