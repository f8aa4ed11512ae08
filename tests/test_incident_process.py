"""The incident process: lifecycle, policy, clock, messages through real local receivers, report, metrics."""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.forked_cli import Finished, run_cli
from tests.incident_support import EXAMPLE_POLICY, http_receiver, local_policy, smtp_receiver, text_of
from titan_ops.errors import TitanOpsError
from titan_ops.incident.checklists import checklist
from titan_ops.incident.clock import parse_time
from titan_ops.incident.duties import OVERDUE, duties, next_escalation
from titan_ops.incident.lifecycle import Incident
from titan_ops.incident.metrics import collect, trend_chart
from titan_ops.incident.policy import PolicyError, load_policy
from titan_ops.incident.report import render_html, render_report
from titan_ops.incident.respond import act_on_duties, regulatory_notice

T0 = datetime(2026, 12, 23, 14, 0, tzinfo=UTC)  # a Wednesday; Friday 25 is Christmas
WEBHOOK_TOKEN = "T0SECRET/B0SECRET/xoxWebhookToken42"
STATUS_TOKEN = "sp-token-93551"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def policy():
    return load_policy(EXAMPLE_POLICY)


def cli(*argv: str, env: dict[str, str] | None = None) -> Finished:
    return run_cli(["incident", *argv], env={**os.environ, **(env or {})})


# -- lifecycle ---------------------------------------------------------------------
def test_lifecycle_entries_carry_the_clock_and_fold_into_state(tmp_path):
    clock = Clock()
    incident = Incident.create("Execution down", tmp_path, incident_id="INC-1", severity=2,
                               detected_at=T0 - timedelta(minutes=2), source="alertmanager", clock=clock,
                               operator="alice")
    clock.advance(minutes=3)
    incident.ack()
    incident.assign("commander", "Olivia (Operations Manager)")
    clock.advance(minutes=5)
    incident.set_status("IDENTIFIED", "the Execution process was killed")
    incident.note("Restart Execution before flattening", "decision", "positions are hedged")
    incident.note("Called the exchange", "manual-action", at=T0 + timedelta(minutes=4))
    clock.advance(minutes=20)
    incident.resolve("restarted")
    state = incident.state()
    assert state.detected == T0 - timedelta(minutes=2) and state.opened == T0
    assert state.acknowledged == T0 + timedelta(minutes=3) and state.acknowledged_by == "alice"
    assert state.resolved == T0 + timedelta(minutes=28) and state.status == "RESOLVED"
    assert state.roles == {"commander": "Olivia (Operations Manager)"}
    assert state.current_actions()[:2] == ["Called the exchange", "Restart Execution before flattening"]
    for bad in (lambda: incident.set_status("FIXED"), lambda: incident.assign("janitor", "x"),
                lambda: incident.resolve(), lambda: Incident.create("again", tmp_path, incident_id="INC-1"),
                lambda: incident.note("late", at=clock.now + timedelta(hours=1))):
        with pytest.raises(TitanOpsError):
            bad()
    incident.close()
    with pytest.raises(TitanOpsError, match="closed"):
        incident.ack()
    with pytest.raises(TitanOpsError, match="unknown incident INC-404"):
        Incident("INC-404", tmp_path).state()


WRITER = """
import sys
from titan_ops.incident.lifecycle import Incident
incident = Incident("INC-C", sys.argv[1], operator=sys.argv[2])
for number in range(int(sys.argv[3])):
    incident.note(f"{sys.argv[2]} note {number} " + "x" * 3000)
"""


def test_concurrent_writers_lose_nothing(tmp_path):
    Incident.create("concurrency", tmp_path, incident_id="INC-C")
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"w{number}", "60"])
               for number in range(6)]
    assert [writer.wait(timeout=120) for writer in writers] == [0] * 6
    entries = Incident("INC-C", tmp_path).entries()
    assert len(entries) == 1 + 6 * 60
    for number in range(6):
        texts = [entry["text"].split(" x")[0] for entry in entries if entry.get("operator") == f"w{number}"]
        assert texts == [f"w{number} note {index}" for index in range(60)]


def test_a_writer_waits_for_the_line_another_is_appending(tmp_path):
    """The lock itself, without a race to win: while this test holds the timeline's lock with half a line
    written (a writer in the middle of its append), another process's note waits (it shows in /proc/locks as a
    waiter), then lands whole after the line is finished."""
    incident = Incident.create("concurrency", tmp_path, incident_id="INC-C")
    path = tmp_path / "INC-C" / "timeline.jsonl"
    half = json.dumps({"kind": "note", "timestamp": "2026-12-01T10:00:00+00:00", "operator": "first",
                       "text": "appended in two writes"}, sort_keys=True)
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(half[:40])
        handle.flush()
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "second", "1"])
        try:
            deadline = time.monotonic() + 60
            while f" {writer.pid} " not in "".join(line for line in Path("/proc/locks").read_text().splitlines(True)
                                                   if "->" in line):
                assert writer.poll() is None, "the writer went ahead while the line was half written"
                assert time.monotonic() < deadline, "the writer never waited for the lock"
                time.sleep(0.05)
            handle.write(half[40:] + "\n")
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    assert writer.wait(timeout=60) == 0
    texts = [entry.get("text", "").split(" x")[0] for entry in incident.entries()]
    assert texts[1:] == ["appended in two writes", "second note 0"]


def test_incident_ids_are_unique_under_concurrent_opens(tmp_path):
    script = ("import sys; from titan_ops.incident.lifecycle import Incident; "
              "print(Incident.create('x', sys.argv[1]).incident_id)")
    openers = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
               for _ in range(5)]
    ids = [opener.communicate(timeout=60)[0].strip() for opener in openers]
    assert len(set(ids)) == 5 and all(identifier.startswith("INC-") for identifier in ids)


# -- policy --------------------------------------------------------------------------
@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("response: 15m", "response: 15 minutes"), r"policy.yml:\d+:\d+: 'response': invalid"),
    (lambda text: text.replace("escalation:\n  channels: [slack-incidents]", "escalation:\n  channels: [pager]"),
     r"policy.yml:\d+:\d+: 'channels': unknown channel 'pager'"),
    (lambda text: text.replace("contacts: [cto]", "contacts: [cfo]"), r"unknown contact role 'cfo'"),
    (lambda text: text.replace("timezone: America/New_York", "timezone: Mars/Olympus"), r"unknown time zone"),
    (lambda text: text.replace("    type: email\n    audiences: [external]", "    type: email\n    audiences: [external]\n    url: x", 1),
     r"channel settings do not fit type 'email'"),
    (lambda text: text + "\nnotification: [\n", r"policy.yml:\d+:\d+: malformed YAML"),
    (lambda text: text.replace("level: 4}", "level: 7}", 1), r"'level': invalid value 7"),
])
def test_a_bad_policy_is_one_line_naming_file_line_and_key(tmp_path, edit, message):
    path = tmp_path / "policy.yml"
    path.write_text(edit(EXAMPLE_POLICY.read_text()))
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy(path)
    assert "\n" not in str(caught.value)
    Incident.create("x", tmp_path, incident_id="INC-P")
    before = (tmp_path / "INC-P" / "timeline.jsonl").read_text()
    done = cli("status", "INC-P", "--dir", str(tmp_path), "--policy", str(path))
    assert done.returncode == 5 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert (tmp_path / "INC-P" / "timeline.jsonl").read_text() == before


# -- the clock -------------------------------------------------------------------------
def test_severity_1_clock_notifications_escalation_regulatory_review(tmp_path, policy):
    clock = Clock()
    incident = Incident.create("All services down", tmp_path, incident_id="INC-S1", severity=1, clock=clock)

    def status(kind: str, subject: str) -> tuple[datetime, str]:
        duty = next(duty for duty in duties(incident.state(), policy, clock()) if (duty.kind, duty.subject) ==
                    (kind, subject))
        return duty.due, duty.status(clock())

    assert status("notify", "internal") == (T0 + timedelta(minutes=5), "due")
    assert status("escalate", "level 2")[0] == T0 + timedelta(minutes=5)
    clock.advance(minutes=6)
    assert status("notify", "external")[1] == OVERDUE
    step = next_escalation(incident.state(), policy, clock())
    assert step.level.level == 2 and "no acknowledgement from level 1" in step.reason
    clock.advance(minutes=1)
    incident.ack()
    # acknowledged late: level 2 was still due; the severity-1 trigger keeps it due too, and nothing after it
    incident.escalate(2, step.reason)
    assert next_escalation(incident.state(), policy, clock()) is None
    # no regulatory duty until the outage passes 30 minutes (severity 1: from detection)
    assert not [duty for duty in duties(incident.state(), policy, clock()) if duty.kind == "regulatory"]
    clock.advance(minutes=30)
    notices = {duty.subject: duty.due for duty in duties(incident.state(), policy, clock()) if duty.kind == "regulatory"}
    assert notices == {"initial": T0 + timedelta(hours=4), "detailed": T0 + timedelta(hours=24),
                       # Dec 23 + 5 business days in New York: 24, (25 Christmas), 28, 29, 30, 31
                       "final": datetime(2026, 12, 31, 9, 0, tzinfo=policy.timezone)}
    # regulatory trigger -> escalation trigger up to level 4, one level per response time
    step = next_escalation(incident.state(), policy, clock())
    assert step.level.level == 3 and step.reason.startswith("trigger: regulatory implications")
    clock.advance(hours=1)
    incident.resolve()
    assert status("review", "post-incident review") == (clock() + timedelta(hours=24), "due")


def test_check_exits_2_when_overdue_and_0_when_not(tmp_path):
    Incident.create("Console down", tmp_path, incident_id="INC-K", severity=2, clock=lambda: T0)
    Incident("INC-K", tmp_path, clock=lambda: T0 + timedelta(minutes=3)).ack()
    common = ["--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY)]
    early = cli("check", *common, "--now", (T0 + timedelta(minutes=10)).isoformat())
    assert early.returncode == 0 and "nothing overdue" in early.stdout
    late = cli("check", *common, "--now", (T0 + timedelta(minutes=16)).isoformat())
    assert late.returncode == 2 and "INC-K: OVERDUE notify internal" in late.stdout
    table = cli("status", "INC-K", *common, "--now", (T0 + timedelta(minutes=16)).isoformat())
    assert table.returncode == 0 and "!!  notify internal" in table.stdout and "call next" not in table.stdout
    data = json.loads(cli("status", "INC-K", *common, "--json", "--now", (T0 + timedelta(minutes=16)).isoformat()).stdout)
    assert data["next_escalation"] is None and data["level"] == 1 and data["acknowledged"] == "2026-12-23T14:03:00+00:00"
    unknown = cli("status", "INC-404", *common)
    assert unknown.returncode == 5 and "unknown incident INC-404" in unknown.stderr


def test_status_shows_the_scheduled_review_until_it_is_held(tmp_path):
    incident = Incident.create("Console down", tmp_path, incident_id="INC-V", severity=2, clock=lambda: T0)
    Incident("INC-V", tmp_path, clock=lambda: T0 + timedelta(minutes=20)).resolve("restarted")
    Incident("INC-V", tmp_path, clock=lambda: T0 + timedelta(minutes=30)).review(
        scheduled_for=T0 + timedelta(hours=20))
    common = ["INC-V", "--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY), "--now",
              (T0 + timedelta(hours=1)).isoformat()]
    shown = cli("status", *common)
    assert shown.returncode == 0 and "review       scheduled for 2026-12-24T10:00:00+00:00" in shown.stdout
    assert json.loads(cli("status", *common, "--json").stdout)["review_scheduled"] == "2026-12-24T10:00:00+00:00"
    Incident("INC-V", tmp_path, clock=lambda: T0 + timedelta(minutes=50)).review(held=True)
    assert "scheduled for" not in cli("status", *common).stdout
    assert incident.state().review_held == T0 + timedelta(minutes=50)


@pytest.mark.parametrize("command", [
    ["ack"], ["note", "hello"], ["assign", "commander", "Olivia"], ["status", "IDENTIFIED"], ["severity", "2"],
    ["impact", "--financial", "5"], ["resolve"], ["close"], ["notify"], ["escalate"], ["regulatory", "initial"],
    ["action", "add", "fix", "--owner", "bob", "--due", "2026-12-31"], ["root-cause", "--why", "a", "--tag", "t"],
    ["review"], ["report"], ["tick", "Acknowledge the incident"],
])
def test_every_command_refuses_an_unknown_incident_in_one_line_and_creates_nothing(tmp_path, capsys, command):
    from titan_ops.cli import main

    Incident.create("Console down", tmp_path, incident_id="INC-1", severity=2)
    before = (tmp_path / "INC-1" / "timeline.jsonl").read_text()
    verb, *rest = command
    assert main(["incident", verb, "INC-404", *rest, "--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY)]) == 5
    errors = capsys.readouterr().err
    assert errors.startswith("ERROR! unknown incident INC-404") and errors.count("\n") == 1, errors
    assert sorted(path.name for path in tmp_path.iterdir()) == ["INC-1"]
    assert (tmp_path / "INC-1" / "timeline.jsonl").read_text() == before


def test_list_shows_every_incident_and_its_state(tmp_path, capsys):
    from titan_ops.cli import main

    Incident.create("Console down", tmp_path, incident_id="INC-1", severity=2, clock=lambda: T0)
    closed = Incident.create("Brain down", tmp_path, incident_id="INC-2", severity=1, clock=lambda: T0)
    closed.resolve("restarted")
    closed.close()
    assert main(["incident", "list", "--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"INC-1  sev 2  INVESTIGATING  open  {T0.isoformat()}  Console down",
        f"INC-2  sev 1  RESOLVED       closed  {T0.isoformat()}  Brain down"]


def test_the_lifecycle_example_of_docs_incidents_md_runs_as_written(tmp_path):
    """docs/incidents.md's lifecycle commands, run by a shell from the repository (set -e: each must succeed)."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "incidents.md").read_text()
    [example] = re.findall(r"## Lifecycle\n\n```sh\n(.*?)```", text, re.DOTALL)
    done = subprocess.run(["bash", "-ec", example + 'echo "$ID"'], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent,
                          env={**os.environ, "TITAN_OPS_INCIDENT_DIR": str(tmp_path),
                               "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    incident_id = done.stdout.split()[-1]
    state = Incident(incident_id, tmp_path).state()
    assert [entry["kind"] for entry in state.entries] == ["open", "ack", "assign", "status", "note", "impact",
                                                          "resolve", "close"]
    assert state.detected == parse_time("2026-11-23T09:00:00-05:00") and state.roles == {"commander": "Olivia"}
    assert {entry["operator"] for entry in state.entries} == {"alice"} and state.closed is not None


def test_action_items_are_added_and_done_from_the_command_line(tmp_path, capsys):
    from titan_ops.cli import main

    Incident.create("Execution down", tmp_path, incident_id="INC-A", severity=2)
    common = ["--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY)]
    assert main(["incident", "action", "INC-A", "add", "Cap the order cache", "--owner", "dev-lead",
                 "--due", "2027-01-08", *common]) == 0
    assert main(["incident", "action", "INC-A", "done", "1", *common]) == 0
    capsys.readouterr()
    assert main(["incident", "action", "INC-A", "done", "7", *common]) == 5
    assert capsys.readouterr().err == "ERROR! incident INC-A has no action 7\n"
    entries = Incident("INC-A", tmp_path).entries()
    done_at = entries[-1]["timestamp"]
    report = render_report("INC-A", entries, load_policy(EXAMPLE_POLICY))
    assert f"| 1 | Cap the order cache | dev-lead | 2027-01-08 | {done_at} |" in report


# -- messages --------------------------------------------------------------------------
def test_notify_through_slack_statuspage_and_email_logs_every_message_masked(tmp_path, monkeypatch):
    with http_receiver() as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url(f"/services/{WEBHOOK_TOKEN}"))
        monkeypatch.setenv("TEST_STATUSPAGE_TOKEN", STATUS_TOKEN)
        policy = load_policy(local_policy(tmp_path, http, smtp))
        clock = Clock()
        incident = Incident.create("Execution {{ 7 * 7 }} down", tmp_path, incident_id="INC-N", severity=1,
                                   clock=clock)
        incident.assign("commander", "Olivia")
        clock.advance(minutes=1)
        sent = act_on_duties(incident, policy)
        assert [(entry["audience"], entry["channel"], entry["ok"]) for entry in sent
                if entry["kind"] == "message"] == [
            ("internal", "slack-incidents", True), ("external", "status-page", True),
            ("external", "email-stakeholders", True)]
        slack = next(post for post in http.posts if post["path"].startswith("/services/"))
        assert set(slack["json"]) == {"text"}
        assert "INCIDENT UPDATE - SEVERITY 1" in slack["json"]["text"] and "Execution {{ 7 * 7 }} down" in \
            slack["json"]["text"] and "Incident Commander: Olivia" in slack["json"]["text"]
        status_page = next(post for post in http.posts if post["path"] == "/api/incidents")
        assert status_page["headers"]["Authorization"] == f"Bearer {STATUS_TOKEN}"
        assert status_page["json"]["incident"] == "INC-N" and status_page["json"]["status"] == "INVESTIGATING"
        assert "SYSTEM STATUS UPDATE" in status_page["json"]["message"]
        [(sender, recipients, mail)] = smtp.mails
        assert recipients == ["stakeholders@titan.example"] and "System status update" in mail["Subject"]
        assert "We are currently experiencing Execution {{ 7 * 7 }} down." in text_of(mail)
        # nothing more is owed now; the next update is due 30 minutes after the last message
        assert act_on_duties(incident, policy) == []
        clock.advance(minutes=31)
        later = act_on_duties(incident, policy)
        # unacknowledged: level 2 (due at +5 min; level 3 only 15 minutes after level 2 is called); the updates
        assert [entry["level"] for entry in later if entry["kind"] == "escalate"] == [2]
        assert [entry["audience"] for entry in later if entry["kind"] == "message"] == [
            "escalation", "internal", "external", "external"]
        escalation = [post["json"]["text"] for post in http.posts if "ESCALATION" in post["json"].get("text", "")]
        assert "Escalated to level 2 (Operations Manager)" in escalation[0] and "+1-555-0101" in escalation[0]
    timeline = (tmp_path / "INC-N" / "timeline.jsonl").read_text()
    assert WEBHOOK_TOKEN.split("/")[-1] not in timeline and STATUS_TOKEN not in timeline
    state = incident.state()
    assert all(message["body"] for message in state.messages)


def test_a_refusing_channel_and_a_broken_template_are_one_line_errors_and_keep_the_timeline(tmp_path, monkeypatch):
    with http_receiver() as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url("/refuse/hook"))
        policy_path = local_policy(tmp_path, http, smtp)
        Incident.create("Console down", tmp_path, incident_id="INC-R", severity=2)
        common = ["INC-R", "--dir", str(tmp_path), "--policy", str(policy_path)]
        refused = cli("notify", *common, env={"TEST_SLACK_WEBHOOK": http.url("/refuse/hook")})
        assert refused.returncode == 2 and refused.stderr.startswith("ERROR! 1 of 1 channels did not take")
        assert refused.stderr.count("\n") == 1 and "500" in refused.stderr
        [entry] = [entry for entry in Incident("INC-R", tmp_path).entries() if entry["kind"] == "message"]
        assert entry["ok"] is False and "500" in entry["error"]
        template = tmp_path / "internal.j2"
        template.write_text("INCIDENT {{ incident_id }}\nline two {{ no_such_thing }}\n")
        broken = local_policy(tmp_path, http, smtp, templates={"internal": "internal.j2"})
        before = (tmp_path / "INC-R" / "timeline.jsonl").read_text()
        failed = cli("notify", "INC-R", "--dir", str(tmp_path), "--policy", str(broken))
        assert failed.returncode == 5 and "internal.j2" in failed.stderr and "no_such_thing" in failed.stderr
        template.write_text("{{ ''.__class__.__mro__ }}")
        sandboxed = cli("notify", "INC-R", "--dir", str(tmp_path), "--policy", str(broken))
        assert sandboxed.returncode == 5 and "sandbox" in sandboxed.stderr
        template.write_text("{% if %}")
        syntax = cli("notify", "INC-R", "--dir", str(tmp_path), "--policy", str(broken))
        assert syntax.returncode == 5 and "internal.j2:1" in syntax.stderr
        assert (tmp_path / "INC-R" / "timeline.jsonl").read_text() == before
        assert len(http.posts) == 1


SENDER = """
import sys
from titan_ops.incident.lifecycle import Incident
from titan_ops.incident.policy import load_policy
from titan_ops.incident.respond import notify
notify(Incident(sys.argv[1], sys.argv[2]), load_policy(sys.argv[3]), "internal")
"""


def test_a_sender_killed_while_sending_leaves_the_message_in_the_log_and_the_duty_owed(tmp_path, monkeypatch):
    sender: list[subprocess.Popen] = []

    def kill_the_sender(post: dict) -> None:  # the message has arrived; its sender dies before it hears back
        if sender:
            sender.pop().kill()

    with http_receiver(on_post=kill_the_sender) as http, smtp_receiver() as smtp:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", http.url(f"/services/{WEBHOOK_TOKEN}"))
        policy_path = local_policy(tmp_path, http, smtp)
        incident = Incident.create("Console down", tmp_path, incident_id="INC-X", severity=2)
        sender.append(subprocess.Popen([sys.executable, "-c", SENDER, "INC-X", str(tmp_path), str(policy_path)]))
        process = sender[0]
        assert process.wait(timeout=120) == -9 and len(http.posts) == 1
        [attempt] = [entry for entry in incident.entries() if entry["kind"] in ("sending", "message")]
        assert attempt["kind"] == "sending"  # logged before it went; no outcome
        state = incident.state()
        assert list(state.sending.values()) == [attempt]
        assert not state.messages and (attempt["audience"], attempt["channel"]) == ("internal", "slack-incidents")
        assert attempt["body"].strip() in http.posts[0]["json"]["text"] and WEBHOOK_TOKEN not in json.dumps(attempt)
        policy = load_policy(policy_path)
        report = render_report("INC-X", incident.entries(), policy)
        assert "| internal | slack-incidents (slack) | [INC-X] SEV2 INVESTIGATING: Console down | UNKNOWN: no outcome " \
               "recorded (the sender stopped while sending) |" in report
        [owed] = [duty for duty in duties(state, policy, datetime.now(UTC)) if duty.kind == "notify"]
        assert owed.done is None  # not known to be delivered: owed still, and sent again
        [again] = act_on_duties(incident, policy)[1:]
        assert again["ok"] and len(http.posts) == 2
        state = incident.state()
        assert [message["attempt"] for message in state.messages] == [again["attempt"]] and len(state.sending) == 1


def test_message_templates_render_in_the_projects_bounded_sandbox(tmp_path, monkeypatch):
    from titan_ops.incident.messages import render_template

    with http_receiver() as http, smtp_receiver() as smtp:
        template = tmp_path / "internal.j2"
        policy = local_policy(tmp_path, http, smtp, templates={"internal": "internal.j2"})
        Incident.create("Console {{ 6 * 7 }} down", tmp_path, incident_id="INC-T", severity=2)
        before = (tmp_path / "INC-T" / "timeline.jsonl").read_text()
        common = ["notify", "INC-T", "--dir", str(tmp_path), "--policy", str(policy)]
        environment = {"TEST_SLACK_WEBHOOK": http.url("/services/T/B/x")}
        for text, refused in (("{{ 'x' * 100000000 }}", "a repetition of 100000000 would exceed 10000000"),
                              ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                               "longer than its deadline (0.3 s)"),
                              ("{{ (title ~ ' ') * 100000000 }}", "refused")):
            template.write_text(text)
            done = cli(*common, env={**environment, "TITAN_OPS_TEMPLATE_TIMEOUT": "0.3"})
            assert done.returncode == 5 and done.stderr.count("\n") == 1, done.stderr
            assert done.stderr.startswith(f"ERROR! {template}: ") and refused in done.stderr, done.stderr
        assert (tmp_path / "INC-T" / "timeline.jsonl").read_text() == before and not http.posts
        template.write_text("{{ title }} / {{ services_affected | join(', ') or 'none' }}\n")
        assert cli(*common, env=environment).returncode == 0
        assert http.posts[0]["json"]["text"].endswith("Console {{ 6 * 7 }} down / none")  # the title is data
    with pytest.raises(TitanOpsError, match="only an authored template file is rendered"):
        render_template("{{ 6 * 7 }}", "from a host", {})


# -- checklists, regulatory notices and the report --------------------------------------------
def test_checklists_are_ticked_by_runs_and_commands_and_the_report_shows_what_was_left(tmp_path, policy):
    clock = Clock()
    incident = Incident.create("Brain down", tmp_path, incident_id="INC-L", severity=1, clock=clock)
    run = {"playbook": "/x/playbooks/collect-diagnostics.yml", "hosts": ["lab2"], "arguments": {"check": False},
           "outcome": {"ok": True, "exit_code": 0}}
    incident.append("run", **{**run, "playbook": "/x/playbooks/containment.yml", "arguments": {"check": True}})
    clock.advance(minutes=2)
    incident.append("run", **run)
    incident.ack()
    incident.tick("Review recent changes or deployments", [item.item for item in policy.checklists])
    done = {tick.item.item: tick.by for tick in checklist(incident.state(), policy) if tick.done}
    assert done["Logs collected and preserved"] == "run collect-diagnostics.yml"
    assert done["Review recent changes or deployments"].startswith("ticked by")
    assert "Immediate risk mitigation completed" not in done  # a check-mode run does not count
    report = render_report("INC-L", incident.entries(), policy, clock())
    assert "| stabilization | Immediate risk mitigation completed | **NOT DONE** | - |" in report
    with pytest.raises(TitanOpsError, match="no checklist item"):
        incident.tick("Make coffee", [item.item for item in policy.checklists])


def test_regulatory_notices_are_generated_and_their_timeliness_reported(tmp_path, policy):
    clock = Clock()
    incident = Incident.create("Position tracking mismatch", tmp_path, incident_id="INC-G", severity=2,
                               categories=["position-tracking"], clock=clock)
    clock.advance(hours=3)
    [entry] = regulatory_notice(incident, policy, "initial")  # the example policy names no regulatory channel
    text = Path(entry["path"]).read_text()
    assert "# Initial regulatory notice: incident INC-G" in text and "position tracking error" in text
    regulatory_notice(incident, policy, "initial", submitted=True)
    clock.advance(hours=22)
    regulatory_notice(incident, policy, "detailed", submitted=True)  # 25 h after detection: late
    report = render_report("INC-G", incident.entries(), policy, clock())
    assert "| initial | 2026-12-23T18:00:00+00:00 | 2026-12-23T17:00:00+00:00 | 2026-12-23T17:00:00+00:00 | yes |" \
        in report
    assert "| detailed | 2026-12-24T14:00:00+00:00 | - | 2026-12-24T15:00:00+00:00 | NO |" in report
    assert "| final | 2026-12-31T14:00:00+00:00 | - | - | pending |" in report
    with pytest.raises(TitanOpsError, match="no regulatory notice 'weekly'"):
        regulatory_notice(incident, policy, "weekly")
    quiet = Incident.create("Docs typo", tmp_path, incident_id="INC-Q", severity=4, clock=clock)
    with pytest.raises(TitanOpsError, match="meets no regulatory trigger"):
        regulatory_notice(quiet, policy, "initial")


def test_a_regulatory_notice_goes_to_the_regulatory_channels_and_a_refusal_exits_2(tmp_path):
    with http_receiver() as http, smtp_receiver() as smtp:
        regulatory = yaml.safe_load(EXAMPLE_POLICY.read_text())["regulatory"]
        Incident.create("Position tracking mismatch", tmp_path, incident_id="INC-G", severity=2,
                        categories=["position-tracking"])
        common = ["INC-G", "--dir", str(tmp_path), "--policy"]
        to_email = local_policy(tmp_path, http, smtp, regulatory={**regulatory, "channels": ["email-stakeholders"]})
        sent = cli("regulatory", *common, str(to_email), "initial")
        assert sent.returncode == 0 and "sent: email-stakeholders (email)" in sent.stdout, sent.stderr
        [(_sender, recipients, mail)] = smtp.mails
        assert recipients == ["stakeholders@titan.example"] and mail["Subject"] == "[INC-G] initial regulatory notice"
        assert "# Initial regulatory notice: incident INC-G" in text_of(mail) and "position tracking" in text_of(mail)

        to_slack = local_policy(tmp_path, http, smtp, regulatory={**regulatory, "channels": ["slack-incidents"]})
        refused = cli("regulatory", *common, str(to_slack), "detailed",
                      env={"TEST_SLACK_WEBHOOK": http.url("/refuse/hook")})
        assert refused.returncode == 2 and refused.stderr.startswith("ERROR! 1 of 1 channels did not take")
        assert (tmp_path / "INC-G" / "regulatory-detailed.md").is_file()
    messages = [entry for entry in Incident("INC-G", tmp_path).entries() if entry["kind"] == "message"]
    assert [(entry["audience"], entry["channel"], entry["ok"]) for entry in messages] == [
        ("regulatory", "email-stakeholders", True), ("regulatory", "slack-incidents", False)]


def test_report_markdown_and_html_with_chart(tmp_path, policy, monkeypatch):
    monkeypatch.setenv("PWD", str(tmp_path))  # the shell's working directory: named like a secret, and none
    clock = Clock()
    incident = Incident.create("Execution down", tmp_path, incident_id="INC-H", severity=2, clock=clock,
                               started_at=T0 - timedelta(minutes=4))
    clock.advance(minutes=2)
    incident.ack()
    incident.record_impact(financial_impact=12500, description="orders not executed", customers_affected=40,
                           start=T0 - timedelta(minutes=4), end=T0 + timedelta(minutes=20))
    incident.root_cause(["Execution stopped", "OOM kill", "leak in order cache", "no cap on cache",
                         "no memory budget in reviews"], tag="memory-leak")
    incident.add_action("Cap the order cache", "dev-lead", "2027-01-08")
    incident.append("run", playbook=f"{tmp_path}/playbooks/restart-services.yml", arguments={"check": False},
                    outcome={"ok": True, "exit_code": 0})
    clock.advance(minutes=30)
    incident.resolve()
    text = render_report("INC-H", incident.entries(), policy, clock())
    assert f"run `{tmp_path}/playbooks/restart-services.yml`" in text
    for line in ("| Detected | 2026-12-23T14:00:00+00:00 |", "| Acknowledged | 2026-12-23T14:02:00+00:00 by ",
                 "| Resolved | 2026-12-23T14:32:00+00:00 |", "- Financial impact: 12,500.00",
                 "- Customer impact: 2026-12-23T13:56:00+00:00 to 2026-12-23T14:20:00+00:00 (24m 00s)",
                 "4. Why did that happen? (root cause) no cap on cache", "Root-cause tag: memory-leak",
                 "| 1 | Cap the order cache | dev-lead | 2027-01-08 | open |", "- Time to detect: 4m 00s",
                 "- Time to respond (detection to acknowledgement): 2m 00s",
                 "- Time to resolve (detection to resolution): 32m 00s"):
        assert line in text, line
    page = render_html("INC-H", incident.entries(), policy, clock())
    assert page.count('src="data:image/png;base64,') == 1 and "<table>" in page
    done = cli("report", "INC-H", "--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY),
               "--html", str(tmp_path / "r.html"), "-o", str(tmp_path / "r.md"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


# -- metrics across incidents --------------------------------------------------------------
def test_metrics_of_a_generated_set_match_values_computed_independently(tmp_path, policy):
    generator = random.Random(7)
    expected = []
    for number in range(40):
        start = datetime(2026, 1 + number % 6, 2 + number % 20, 8, tzinfo=UTC)
        detect, respond, resolve = generator.randint(1, 30), generator.randint(1, 20), generator.randint(10, 300)
        false_positive = number % 10 == 9
        escalate = number % 4 == 0
        tag = generator.choice(["db", "oom", "network", None])
        notified_late = number % 5 == 0
        clock = Clock(start + timedelta(minutes=detect))
        incident = Incident.create(f"incident {number}", tmp_path, incident_id=f"INC-M{number:02d}", severity=3,
                                   started_at=start, clock=clock)
        clock.advance(minutes=respond)
        incident.ack()
        if escalate:
            incident.escalate(2, "by hand")
        resolved = start + timedelta(minutes=detect + resolve)
        clock.now = start + timedelta(minutes=detect + max(resolve, 62))
        incident.append("message", audience="internal", channel="slack-incidents", ok=True,
                        at=start + timedelta(minutes=detect + (61 if notified_late else 1)))
        incident.resolve(at=resolved)
        incident.record_impact(start=start, end=resolved)
        if tag:
            incident.root_cause(["x"], tag=tag)
        incident.close(false_positive=false_positive)
        expected.append(dict(detect=detect, respond=respond, resolve=resolve, fp=false_positive, escalate=escalate,
                             tag=tag, late=notified_late, impact=detect + resolve, month=start.strftime("%Y-%m")))
    real = [row for row in expected if not row["fp"]]
    seen, recurring = set(), 0
    for row in real:
        recurring += bool(row["tag"] and row["tag"] in seen)
        seen.add(row["tag"]) if row["tag"] else None
    result = collect(tmp_path, policy, datetime(2027, 1, 1, tzinfo=UTC))
    summary = result.summary
    assert summary["incidents"] == 40
    assert summary["mttd_minutes"] == round(sum(row["detect"] for row in real) / len(real), 2)
    assert summary["mean_time_to_respond_minutes"] == round(sum(row["respond"] for row in real) / len(real), 2)
    assert summary["mean_time_to_resolve_minutes"] == round(sum(row["resolve"] for row in real) / len(real), 2)
    assert summary["escalation_frequency"] == round(sum(row["escalate"] for row in real) / len(real), 4)
    assert summary["false_positive_rate"] == round(4 / 40, 4)
    assert summary["recurrence_rate"] == round(recurring / len(real), 4)
    assert summary["customer_impact_minutes_total"] == sum(row["impact"] for row in real)
    # per incident: the notification (on time or not), the review (never held), three checklists (none complete:
    # nothing ran) and, for an outage over 30 minutes, three regulatory notices (never submitted)
    on_time = sum(not row["late"] for row in real)
    checks = sum(5 + (3 if row["impact"] > 30 else 0) for row in real)
    assert summary["process_compliance_rate"] == round(on_time / checks, 4)
    assert set(result.months) == {f"2026-0{month}" for month in range(1, 7)}
    since = collect(tmp_path, policy, datetime(2027, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert since.summary["incidents"] == sum(row["month"] == "2026-06" for row in expected)
    chart = tmp_path / "trend.png"
    trend_chart(result, chart)
    assert chart.read_bytes().startswith(b"\x89PNG")
    done = cli("metrics", "--dir", str(tmp_path), "--policy", str(EXAMPLE_POLICY), "--json", "--chart",
               str(tmp_path / "cli.png"))
    assert done.returncode == 0 and json.loads(done.stdout)["summary"]["incidents"] == 40


def test_parse_time_rejects_garbage():
    with pytest.raises(TitanOpsError):
        parse_time("yesterday")
