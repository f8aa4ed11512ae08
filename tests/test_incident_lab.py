"""A whole severity-1 incident on the Titan lab, from the alert to the report (issue 10, "Done when").

The Brain is stopped on the lab; the lab's Prometheus fires its alert, the lab's Alertmanager posts it to
``titan-ops watch`` (in this process, on an injected clock), which opens the incident at the alert's start,
runs the health check on the lab's inventory (the triage sets the severity) and notifies the local
Slack-style, status-page and SMTP receivers. The clock is moved, not waited for: without an
acknowledgement the watcher calls level 2 at level 1's deadline; the real runbooks contain, recover and
re-arm; an outage past 30 minutes escalates on the regulatory trigger and owes the regulator its notices;
the resolution is told. Every timestamp of the report is checked against what happened.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

import titan_ops
from tests.incident_support import SteppedClock, http_receiver, local_policy, smtp_receiver, text_of
from tests.runbooks_support import cli, failures
from titan_ops.incident.clock import parse_time
from titan_ops.incident.duties import OVERDUE, duties, next_escalation
from titan_ops.incident.lifecycle import Incident
from titan_ops.incident.policy import load_policy
from titan_ops.incident.report import render_report
from titan_ops.incident.respond import regulatory_notice
from titan_ops.incident.state import when
from titan_ops.incident.timeline import incident_ids
from titan_ops.incident.watch import Watcher, serve
from titan_ops.lab import titan
from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.titan import Fleet
from titan_ops.lab.titan_apps import app_statuses
from titan_ops.lab.titan_monitoring import active_alerts

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
SERVICE, ALERT, FINDING = "titan-brain", "TitanCoreServiceDown", "brain down"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
WEBHOOK_SECRET, STATUS_TOKEN = "webhook-secret-77", "status-secret-88"


def wait_for(predicate, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def pm2(fleet: Fleet, command: str) -> None:
    run_in_host(fleet.lab, fleet.host_of("core"), f"PM2_HOME=/var/lib/titan/pm2 pm2 {command} {SERVICE}")


def final_notice_due(detected: datetime) -> datetime:
    """Five New York business days after detection (a day off counts from the next business day), by hand."""
    local = detected.astimezone(ZoneInfo("America/New_York"))
    days_off = holidays.country_holidays("US", subdiv="NY", years=range(local.year, local.year + 2))

    def business(day) -> bool:
        return day.weekday() < 5 and day not in days_off

    day = local.date()
    while not business(day):
        day += timedelta(days=1)
    for _ in range(5):
        day += timedelta(days=1)
        while not business(day):
            day += timedelta(days=1)
    return datetime.combine(day, local.time(), tzinfo=local.tzinfo)


def test_a_severity_1_incident_on_the_lab_from_the_alert_to_the_report(fleet: Fleet, tmp_path, monkeypatch):
    clock = SteppedClock()
    incidents = tmp_path / "incidents"
    previous_webhook = titan.load(fleet.lab.directory).alert_webhook
    watcher_log: list[str] = []
    runs: list[tuple[str, datetime, datetime]] = []  # (playbook, clock before, clock after) of the test's runs
    done: dict[str, tuple[datetime, datetime]] = {}  # what the test did, between which moments of the clock

    def step(name: str, action) -> Any:
        before = clock()
        value = action()
        done[name] = (before, clock())
        return value

    with http_receiver(clock) as http, smtp_receiver(clock) as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url(f"/services/T1/B1/{WEBHOOK_SECRET}"))
        monkeypatch.setenv("TEST_STATUSPAGE_TOKEN", STATUS_TOKEN)
        policy = load_policy(local_policy(tmp_path, http, smtp))
        watcher = Watcher(policy, incidents, inventory=str(fleet.inventory_path),
                          health_check=str(PLAYBOOKS / "health-check.yml"), clock=clock, log=watcher_log.append)
        stop, listening = threading.Event(), []
        thread = threading.Thread(target=serve, args=(watcher, "127.0.0.1", 0, stop), daemon=True,
                                  kwargs={"tick_seconds": 1, "ready": lambda host, port: listening.append(port)})
        thread.start()

        def ours() -> str | None:
            for incident_id in incident_ids(incidents):
                entries = Incident(incident_id, incidents).entries()
                if any(entry["kind"] == "alert" and entry["name"] == ALERT and entry["labels"].get("job") == SERVICE
                       for entry in entries):
                    return incident_id
            return None

        def run(playbook: str, **extra_vars: Any) -> None:
            before = clock()
            result = titan_ops.run(PLAYBOOKS / playbook, fleet.inventory_path, incident=incident_id,
                                   incident_dir=incidents, incident_clock=clock, operator="alice",
                                   extra_vars={"operator_id": "alice", **extra_vars})
            runs.append((playbook, before, clock()))
            assert result.ok, (playbook, failures(result))

        def settle() -> None:
            """Tick the watcher now, as its loop does every second (this waits for what the loop is doing);
            then nothing it acts on is owed, and no message is on its way."""
            assert thread.is_alive(), watcher_log
            watcher.tick()
            now, current = clock(), incident.state()
            assert not current.sending and not [
                duty for duty in duties(current, policy, now) if duty.kind in ("notify", "resolution") and
                duty.done is None or duty.kind in ("update", "escalate") and duty.status(now) == OVERDUE], now

        try:
            wait_for(lambda: listening, 30, "the watcher to listen")
            titan.set_alert_webhook(f"http://127.0.0.1:{listening[0]}/alertmanager", fleet.lab.directory)
            pm2(fleet, "stop")  # the fault

            # -- detection: Prometheus -> Alertmanager -> the watcher opens, triages, notifies ----------------
            incident_id = wait_for(ours, 240, "the watcher to open an incident for the Brain's alert")
            [fired] = wait_for(lambda: [alert for alert in active_alerts(fleet.config) if alert["labels"]["alertname"]
                                        == ALERT and alert["labels"]["job"] == SERVICE], 60, "Alertmanager's alert")
            incident = Incident(incident_id, incidents, clock=clock, operator="alice")
            wait_for(lambda: any(entry["kind"] == "watch" for entry in incident.entries()), 300, "the triage")
            settle()
            state = incident.state()
            detected = parse_time(fired["startsAt"]).replace(microsecond=0)
            assert state.detected == detected and state.source == f"alert {ALERT}"
            opening = state.entries[0]
            assert opening["kind"] == "open" and opening["severity"] == 1  # the alert's label: a first guess
            triage = next(entry for entry in state.entries if entry["kind"] == "triage")
            assert triage["severity"] == 1 and triage["source"].endswith("health-check.yml")
            assert FINDING in [finding["reason"] for finding in triage["findings"]]
            assert state.severity == triage["severity"] and FINDING in state.affected_services
            sent = [(message["audience"], message["channel"]) for message in state.messages if message["ok"]]
            assert sent == [("internal", "slack-incidents"), ("external", "status-page"),
                            ("external", "email-stakeholders")]
            assert all(when(message) <= detected + timedelta(minutes=5) for message in state.messages)
            slack = [post["json"]["text"] for post in http.posts if incident_id in post["json"].get("text", "")]
            assert slack[0].startswith(f"[{incident_id}] SEV1 INVESTIGATING") and FINDING in slack[0]
            assert "We are currently experiencing" in text_of(smtp.mails[-1][2])

            # -- nobody acknowledges: at level 1's deadline the watcher calls level 2 ------------------------
            escalation = next_escalation(state, policy, clock())
            assert escalation.level.level == 2 and escalation.due == state.opened + timedelta(minutes=5)
            jumped = clock.jump_to(max(escalation.due, clock()))  # (the due moment, unless the machine was slower)
            settle()
            clock.resume()
            step("ack", incident.ack)
            step("assign", lambda: incident.assign("commander", "Olivia"))
            step("identified", lambda: incident.set_status("IDENTIFIED", f"{SERVICE} stopped"))

            # -- containment, recovery, re-arm: the real runbooks on the lab ------------------------------------
            run("containment.yml")
            run("restart-services.yml", service_state="started")
            run("health-check.yml")
            run("rearm.yml", confirm_rearm="yes", justification="Brain restarted, positions match both exchanges")
            step("monitoring", lambda: incident.set_status("MONITORING", "re-armed; watching"))

            # -- the clock runs on to 40 minutes after detection: the watcher does what falls due, when it does:
            # the updates every 30 minutes, and the escalation when the outage passes 30 minutes (regulatory)
            updates = [duty.due for duty in duties(incident.state(), policy, clock()) if duty.kind == "update"]
            for moment in sorted({detected + timedelta(minutes=30), *updates}):
                clock.jump_to(moment)
                settle()
            target = clock.jump_to(detected + timedelta(minutes=40))
            resolved_at = step("resolve", lambda: incident.resolve("Brain restarted, verified, re-armed"))
            settle()
            clock.resume()
            for notice in ("initial", "detailed", "final"):
                step(f"generate {notice}", lambda notice=notice: regulatory_notice(incident, policy, notice))
            for notice in ("initial", "detailed"):
                step(f"submit {notice}", lambda notice=notice: regulatory_notice(incident, policy, notice,
                                                                                 submitted=True))
            review = clock().replace(microsecond=0) + timedelta(hours=20)
            step("review", lambda: incident.review(scheduled_for=review))
            step("close", incident.close)
        finally:
            stop.set()
            thread.join(timeout=60)
            titan.set_alert_webhook(previous_webhook, fleet.lab.directory)
            if app_statuses(fleet.lab, fleet.host_of("core")).get(SERVICE) != "online":
                pm2(fleet, "start")

    assert not thread.is_alive()
    entries = incident.entries()
    final = incident.state()
    [level_2, level_3] = final.escalations
    assert level_2["level"] == 2 and state.opened + timedelta(minutes=5) <= when(level_2) <= jumped
    assert "no acknowledgement from level 1" in level_2["reason"]
    # level 2 was acknowledged; the regulatory trigger (outage over 30 minutes) calls up to level 4, level 3 first
    assert level_3["level"] == 3 and when(level_3) == max(when(level_2) + timedelta(minutes=15),
                                                          detected + timedelta(minutes=30))
    assert level_3["reason"].startswith("trigger: regulatory implications")
    assert final.severity == 1 and final.acknowledged >= when(level_2)
    assert final.resolved == target and resolved_at["timestamp"] == target.isoformat()

    # -- every message: its attempt logged before it reached the receiver, its outcome after; on time ----
    attempts = {entry["attempt"]: entry for entry in entries if entry["kind"] == "sending"}
    outcomes = [entry for entry in entries if entry["kind"] == "message"]
    assert len(attempts) == len(outcomes) and all(entry["ok"] for entry in outcomes)
    arrivals = {"slack": [post["at"] for post in http.posts if incident_id in post["json"].get("text", "")],
                "statuspage": [post["at"] for post in http.posts if post["json"].get("incident") == incident_id],
                "email": [at for at, (_, _, mail) in zip(smtp.arrivals, smtp.mails) if SERVICE in mail["Subject"]]}
    for kind, times in arrivals.items():
        mine = [entry for entry in outcomes if entry["channel_type"] == kind]
        assert len(mine) == len(times), kind
        for entry, arrived in zip(mine, times):
            assert when(attempts[entry["attempt"]]) <= arrived.replace(microsecond=0) <= when(entry), (kind, entry)
    for audience, channels in (("internal", ["slack-incidents"]), ("external", ["status-page", "email-stakeholders"])):
        told = [message for message in final.messages if message["audience"] == audience]
        first = max(when(message) for message in told[:len(channels)])
        # told within 5 minutes of detection, updated 30 minutes after, the resolution told when it came
        assert [message["channel"] for message in told] == channels * 3
        assert [message["status"] for message in told] == ["INVESTIGATING"] * len(channels) + \
            ["MONITORING"] * len(channels) + ["RESOLVED"] * len(channels)
        assert first <= detected + timedelta(minutes=5)
        assert {when(message) for message in told[len(channels):]} == {first + timedelta(minutes=30), target}
    escalations = [message for message in final.messages if message["audience"] == "escalation"]
    assert [when(message) for message in escalations] == [when(level_2), when(level_3)]
    assert [duty for duty in duties(final, policy, clock()) if duty.kind in ("notify", "resolution")
            and not duty.on_time] == []

    # -- the runs: the watcher's health check between the alert and its triage; the test's between its clock
    run_entries = [entry for entry in entries if entry["kind"] == "run"]
    assert [Path(entry["playbook"]).name for entry in run_entries] == [
        "health-check.yml", "containment.yml", "restart-services.yml", "health-check.yml", "rearm.yml"]
    first_alert = next(entry for entry in entries if entry["kind"] == "alert")
    assert run_entries[0]["operator"] == "watcher" and not run_entries[0]["outcome"]["ok"]
    assert when(first_alert) <= parse_time(run_entries[0]["start"]) <= parse_time(run_entries[0]["end"]) \
        <= when(run_entries[0]) == when(triage)
    for entry, (playbook, before, after) in zip(run_entries[1:], runs):
        assert Path(entry["playbook"]).name == playbook and entry["operator"] == "alice"
        assert before.replace(microsecond=0) <= parse_time(entry["start"]) <= parse_time(entry["end"]) \
            <= when(entry) <= after, playbook
    [rearmed] = [entry for entry in entries if entry["kind"] == "note" and entry.get("source", "").endswith("rearm.yml")]
    assert when(rearmed) == when(run_entries[-1]) and "Brain restarted" in rearmed["rationale"]
    for name, (before, after) in done.items():
        made = [entry for entry in entries if before.replace(microsecond=0) <= when(entry) <= after
                and entry["operator"] == "alice" and entry["kind"] not in ("run", "note", "triage")]
        assert made, name

    # -- the report and the metrics, by the commands (on the test's clock) ---------------------------------
    common = ["--dir", str(incidents), "--policy", str(tmp_path / "policy.yml"), "--now", clock().isoformat()]
    made = cli("incident", "report", incident_id, *common, "-o", str(tmp_path / "report.md"),
               "--html", str(tmp_path / "report.html"))
    assert made.returncode == 0, made.stderr
    report = (tmp_path / "report.md").read_text()
    assert report == render_report(incident_id, entries, policy, parse_time(common[-1]))
    assert 'src="data:image/png;base64,' in (tmp_path / "report.html").read_text()
    measured = cli("incident", "metrics", *common, "--json", "--chart", str(tmp_path / "trend.png"))
    assert measured.returncode == 0, measured.stderr
    assert (tmp_path / "trend.png").read_bytes().startswith(b"\x89PNG")

    # -- the regulator: reportable (outage over 30 minutes), notices generated, two submitted on time ----
    dues = {"initial": detected + timedelta(hours=4), "detailed": detected + timedelta(hours=24),
            "final": final_notice_due(detected)}
    for notice, due in dues.items():
        record = final.regulatory[notice]
        assert Path(record.path).read_text().startswith(f"# {notice.capitalize()} regulatory notice: incident")
        on_time = "pending" if notice == "final" else "yes"
        submitted = record.submitted.isoformat() if record.submitted else "-"
        assert f"| {notice} | {due.astimezone(detected.tzinfo).isoformat()} | {record.generated.isoformat()} | " \
               f"{submitted} | {on_time} |" in report, notice

    # -- the report: every timestamp in it is one of what happened, each checked above or here -----------
    happened = {detected, *dues.values(), parse_time(review.isoformat())}
    for entry in entries:
        happened |= {when(entry), parse_time(entry["timestamp"])}
        happened |= {parse_time(entry[key]) for key in ("start", "end", "detected_at") if entry.get(key)}
    assert {parse_time(text) for text in STAMP.findall(report)} <= happened
    for line in (f"| Detected | {detected.isoformat()} |", f"| Opened | {state.opened.isoformat()} |",
                 f"| Acknowledged | {final.acknowledged.isoformat()} by alice |",
                 f"| Resolved | {target.isoformat()} |", "| Escalation level reached | 3 |",
                 f"- Customer impact: {detected.isoformat()} to {target.isoformat()} (40m 00s)",
                 f"- Time to respond (detection to acknowledgement): "
                 f"{_span(final.acknowledged - detected)}",
                 "- Time to resolve (detection to resolution): 40m 00s",
                 f"| post-resolution | Re-enable Master Arm (if appropriate) | {when(run_entries[-1]).isoformat()} | "
                 "run rearm.yml |",
                 f"| stabilization | Immediate risk mitigation completed | {when(run_entries[1]).isoformat()} | "
                 "run containment.yml |",
                 f"| initial-response | Assess initial severity level | {when(triage).isoformat()} | triage |"):
        assert line in report, line
    assert WEBHOOK_SECRET not in (incidents / incident_id / "timeline.jsonl").read_text() + report
    assert STATUS_TOKEN not in (incidents / incident_id / "timeline.jsonl").read_text() + report

    # -- the metrics: this incident's, among those of the folder -------------------------------------------
    [row] = [row for row in json.loads(measured.stdout)["incidents"] if row["incident"] == incident_id]
    assert row["time_to_respond"] == (final.acknowledged - detected).total_seconds() / 60
    assert row["time_to_resolve"] == 40.0 and row["customer_impact"] == 40.0 and row["level"] == 3
    assert row["compliance"]["notify internal"] and row["compliance"]["notify external"]
    assert row["compliance"]["regulatory initial"] and row["compliance"]["regulatory detailed"]


def _span(delta: timedelta) -> str:
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    return f"{minutes}m {seconds:02d}s"
