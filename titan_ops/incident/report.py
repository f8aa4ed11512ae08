"""The post-incident report: an incident's timeline rendered as Markdown, and as HTML with a chart.

The sections follow the procedures' post-incident template: a summary, the
roles, the timeline with the communication log, the impact (financial
impact included), the regulatory submissions and whether they were on time,
the checklists with what was left undone, the actions taken (one per
playbook run, with its outcome), the evidence (with sha256), the root cause
(five whys), the follow-up actions, this incident's response metrics, and
what only people can write, left as prompts. Without a policy, the sections
that need one (deadlines, checklists, metrics) say so.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from titan_ops.incident.clock import format_span, iso
from titan_ops.incident.recorder import environment_redactor
from titan_ops.incident.state import IncidentState, fold, when

if TYPE_CHECKING:
    from titan_ops.incident.policy import Policy

_TO_COMPLETE = "_To be completed by the incident commander._"


def render_report(incident_id: str, entries: list[dict[str, Any]], policy: Policy | None = None,
                  now: datetime | None = None) -> str:
    """The Markdown report of incident ``incident_id`` from its timeline ``entries`` (oldest first);
    deadlines, checklists and metrics from ``policy`` as of ``now`` (default: the last entry's time)."""
    runs = [entry for entry in entries if entry.get("kind") == "run"]
    triages = [entry for entry in entries if entry.get("kind") == "triage"]
    drills = [entry for entry in entries if entry.get("kind") == "drill"]
    state = fold(incident_id, entries)
    if now is None:
        now = max((when(entry) for entry in entries), default=datetime.now(UTC))
    sections = [
        f"# Post-incident report: {incident_id}" + (f" {state.title}" if state.title else ""),
        _summary(incident_id, entries, runs, triages, drills, state),
        _roles(state, policy),
        _timeline(entries),
        _communication(state),
        _impact(runs, triages, state, now),
        _regulatory(state, policy, now),
        _checklists(state, policy),
        _actions(runs, drills),
        _evidence(runs),
        _root_cause(state),
        _follow_ups(state),
        _response_metrics(state, policy, now),
        "## Lessons learned\n\n" + _TO_COMPLETE,
    ]
    return environment_redactor().text("\n\n".join(sections) + "\n")


def render_html(incident_id: str, entries: list[dict[str, Any]], policy: Policy | None = None,
                now: datetime | None = None) -> str:
    """The report as one HTML page, the timeline drawn as a chart (an embedded PNG)."""
    import html

    import markdown

    text = render_report(incident_id, entries, policy, now)
    body = markdown.markdown(html.escape(text, quote=False), extensions=["tables"])
    chart = base64.b64encode(timeline_chart(fold(incident_id, entries))).decode()
    figure = f'<figure><img alt="timeline of {html.escape(incident_id)}" src="data:image/png;base64,{chart}">' \
             "<figcaption>Timeline: detection, acknowledgement, escalations, messages, runs, resolution" \
             "</figcaption></figure>"
    body = body.replace("<h2>Timeline</h2>", "<h2>Timeline</h2>\n" + figure, 1)
    style = "body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}" \
            "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}img{max-width:100%}"
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Post-incident report: "
            f"{html.escape(incident_id)}</title><style>{style}</style></head><body>\n{body}\n</body></html>\n")


_MARKERS = {"open": ("opened", "#d62728"), "ack": ("acknowledged", "#2ca02c"), "escalate": ("escalation", "#ff7f0e"),
            "message": ("message", "#1f77b4"), "run": ("run", "#7f7f7f"), "status": ("status", "#9467bd"),
            "resolve": ("resolved", "#17becf"), "close": ("closed", "#8c564b"), "alert": ("alert", "#e377c2"),
            "regulatory": ("regulatory", "#bcbd22")}


def timeline_chart(state: IncidentState) -> bytes:
    """A PNG of the incident's life: the phases as bars (detection to acknowledgement to resolution)
    and every event as a marker on its own row."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as pyplot

    rows = list(dict.fromkeys(entry["kind"] for entry in state.entries if entry.get("kind") in _MARKERS))
    figure, axes = pyplot.subplots(figsize=(10, 1.2 + 0.45 * (len(rows) + 1)), dpi=100)
    end = state.resolved or max((when(entry) for entry in state.entries), default=state.opened)
    if state.detected and end:
        acked = state.acknowledged or end
        axes.barh(len(rows), mdates.date2num(acked) - mdates.date2num(state.detected),
                  left=mdates.date2num(state.detected), color="#f4cccc", label="until acknowledged")
        axes.barh(len(rows), mdates.date2num(end) - mdates.date2num(acked), left=mdates.date2num(acked),
                  color="#d9ead3", label="until resolved")
    for row, kind in enumerate(rows):
        label, colour = _MARKERS[kind]
        moments = [when(entry) for entry in state.entries if entry.get("kind") == kind]
        axes.plot(moments, [row] * len(moments), "o", color=colour)
    axes.set_yticks(range(len(rows) + 1), [_MARKERS[kind][0] for kind in rows] + ["response"])
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=UTC))
    axes.set_xlabel("UTC")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def _summary(incident_id: str, entries: list[dict[str, Any]], runs: list[dict[str, Any]],
             triages: list[dict[str, Any]], drills: list[dict[str, Any]], state: IncidentState) -> str:
    first, last = (entries[0]["timestamp"], entries[-1]["timestamp"]) if entries else ("-", "-")
    operators = sorted({str(entry.get("operator")) for entry in entries})
    failed = [run for run in runs if not run.get("outcome", {}).get("ok")]
    checks = [run for run in runs if run.get("arguments", {}).get("check")]
    lifecycle = [] if state.opened is None else [
        ("Title", state.title), ("Severity", state.severity or "-"), ("Detected", _at(state.detected)),
        ("Detected by", state.source or "-"), ("Opened", _at(state.opened)),
        ("Acknowledged", f"{_at(state.acknowledged)} by {state.acknowledged_by}" if state.acknowledged else "never"),
        ("Resolved", _at(state.resolved)), ("Closed", _at(state.closed) + (" (no incident: false positive)"
                                                                         if state.false_positive else "")),
        ("Escalation level reached", state.level)]
    rows = [
        ("Incident", incident_id),
        *lifecycle,
        ("Severity (highest triaged)", _severity(_worst(triages)) if triages else "not triaged"),
        ("First recorded action", first),
        ("Last recorded action", last),
        ("Elapsed", _elapsed(first, last)),
        ("Operators", ", ".join(operators) or "-"),
        ("Playbook runs", f"{len(runs)} ({len(runs) - len(failed)} succeeded, {len(failed)} failed, "
                          f"{len(checks)} in check mode)"),
        ("Drills", str(len(drills))),
        ("Status", state.status if state.opened else _last_status(runs)),
    ]
    table = "| | |\n|---|---|\n" + "\n".join(f"| {name} | {_cell(value)} |" for name, value in rows)
    return f"## Summary\n\n{table}\n\n{_TO_COMPLETE} What happened, in two sentences."


def _timeline(entries: list[dict[str, Any]]) -> str:
    lines = ["## Timeline", "", "| Time | Operator | Action | Hosts | Mode | Outcome |", "|---|---|---|---|---|---|"]
    for entry in entries:
        action, hosts, mode, result = _describe(entry)
        lines.append(f"| {_cell(_at(when(entry)) if entry.get('timestamp') else None)} | "
                     f"{_cell(entry.get('operator'))} | {_cell(action)} | {_cell(hosts)} | {mode} | {_cell(result)} |")
    return "\n".join(lines)


def _describe(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    """An entry as (action, hosts, mode, outcome) for the timeline table."""
    kind = entry.get("kind")
    if kind == "run":
        outcome = entry.get("outcome", {})
        mode = "check" if entry.get("arguments", {}).get("check") else "live"
        return (f"run `{entry.get('playbook')}`", ", ".join(entry.get("hosts") or []) or "-", mode,
                f"{'ok' if outcome.get('ok') else 'FAILED'} (exit {outcome.get('exit_code')})")
    if kind == "triage":
        return "triage", "-", "-", _severity(entry)
    if kind == "drill":
        return f"drill `{entry.get('drill')}`", "-", "drill", "passed" if entry.get("passed") else "FAILED"
    described = {
        "open": lambda: (f"opened: {entry.get('title')}", f"severity {entry.get('severity') or '-'}, detected "
                                                          f"{entry.get('detected_at')} by {entry.get('source')}"),
        "ack": lambda: ("acknowledged", "-"),
        "status": lambda: (f"status {entry.get('status')}", entry.get("message") or "-"),
        "severity": lambda: (f"severity {entry.get('severity')}", entry.get("reason") or "-"),
        "note": lambda: (f"{entry.get('type')}: {entry.get('text')}", entry.get("rationale") or "-"),
        "assign": lambda: (f"{entry.get('role')}: {entry.get('person')}", "-"),
        "impact": lambda: ("impact recorded", _impact_line(entry)),
        "escalate": lambda: (f"escalated to level {entry.get('level')}", entry.get("reason") or "-"),
        "sending": lambda: (f"sending to {entry.get('audience')} via {entry.get('channel')}", "-"),
        "watch": lambda: (f"watcher: {entry.get('step')}", entry.get("playbook") or "-"),
        "message": lambda: (f"message to {entry.get('audience')} via {entry.get('channel')}",
                            "sent" if entry.get("ok") else f"REFUSED: {entry.get('error')}"),
        "alert": lambda: (f"alert {entry.get('name')} {entry.get('status')}", entry.get("summary") or "-"),
        "resolve": lambda: ("resolved", entry.get("summary") or "-"),
        "close": lambda: ("closed", "false positive" if entry.get("false_positive") else entry.get("reason") or "-"),
        "action": lambda: (f"action {entry.get('number')} {'done' if entry.get('done') else 'added'}",
                           entry.get("text") or "-"),
        "regulatory": lambda: (f"regulatory {entry.get('notice')} notice",
                               "submitted" if entry.get("submitted") else "generated"),
        "review": lambda: ("post-incident review", "held" if entry.get("held") else
                           f"scheduled for {entry.get('scheduled_for')}"),
        "root-cause": lambda: ("root cause", entry.get("tag") or "-"),
        "checklist": lambda: (f"ticked: {entry.get('item')}", "-"),
    }.get(str(kind))
    if described is None:
        return str(kind), "-", "-", "-"
    action, result = described()
    return action, "-", "-", result


def _impact_line(entry: dict[str, Any]) -> str:
    parts = [f"{key.replace('_', ' ')} {entry[key]}" for key in ("financial_impact", "customers_affected", "start",
                                                                 "end", "description") if entry.get(key)]
    return "; ".join(parts + [f"category {category}" for category in entry.get("categories") or ()]) or "-"


def _communication(state: IncidentState) -> str:
    lines = ["## Communication log", ""]
    if not state.messages and not state.sending:
        return "\n".join(lines + ["No message was sent."])
    rows = [(when(message), message, "yes" if message.get("ok") else f"NO: {message.get('error')}")
            for message in state.messages]
    rows += [(when(attempt), attempt, "UNKNOWN: no outcome recorded (the sender stopped while sending)")
             for attempt in state.sending.values()]
    lines += ["| Time | Audience | Channel | Subject | Delivered |", "|---|---|---|---|---|"]
    for moment, message, delivered in sorted(rows, key=lambda row: row[0]):
        lines.append(f"| {_at(moment)} | {_cell(message.get('audience'))} | {_cell(message.get('channel'))} "
                     f"({_cell(message.get('channel_type'))}) | {_cell(message.get('subject'))} | {_cell(delivered)} |")
    return "\n".join(lines)


def _impact(runs: list[dict[str, Any]], triages: list[dict[str, Any]], state: IncidentState, now: datetime) -> str:
    lines = ["## Impact", ""]
    if triages:
        latest = triages[-1]
        lines.append(f"- Severity at the last triage: {_severity(latest)}")
        for finding in latest.get("findings", []):
            lines.append(f"  - {finding.get('reason')} (severity {finding.get('severity')})")
    failing = sorted({host for run in runs for host in run.get("outcome", {}).get("failed_hosts", [])})
    unreachable = sorted({host for run in runs for host in run.get("outcome", {}).get("unreachable_hosts", [])})
    lines.append(f"- Hosts with failed tasks during the response: {', '.join(failing) or 'none'}")
    lines.append(f"- Hosts unreachable during the response: {', '.join(unreachable) or 'none'}")
    if state.opened is None:
        lines.append("- Trading impact, positions at risk, data integrity, users affected: " + _TO_COMPLETE)
        return "\n".join(lines)
    outage = state.outage(now)
    lines.append("- Customer impact: " + (f"{_at(outage[0])} to {_at(outage[1])} "
                                          f"({format_span((outage[1] - outage[0]).total_seconds())})"
                                          if outage else "none recorded"))
    lines.append("- Financial impact: " + (f"{state.financial_impact:,.2f}" if state.financial_impact is not None
                                           else "not assessed"))
    lines.append(f"- Customers affected: {state.customers_affected if state.customers_affected is not None else '-'}")
    lines.append(f"- Categories: {', '.join(state.categories) or '-'}")
    lines.append(f"- Description: {state.impact or _TO_COMPLETE}")
    return "\n".join(lines)


def _roles(state: IncidentState, policy: Policy | None) -> str:
    lines = ["## Roles", ""]
    for role in ("commander", "technical", "operations", "communications"):
        lines.append(f"- {role}: {state.roles.get(role, 'not assigned')}")
    if policy is not None and state.opened is not None:
        from titan_ops.incident.status import who

        lines.append(f"- escalation reached {who(policy, state.level)}")
    return "\n".join(lines)


def _regulatory(state: IncidentState, policy: Policy | None, now: datetime) -> str:
    lines = ["## Regulatory submissions", ""]
    if policy is None or state.opened is None:
        return "\n".join(lines + ["Not assessed (no policy given)."])
    from titan_ops.incident.duties import duties

    owed = [duty for duty in duties(state, policy, now) if duty.kind == "regulatory"]
    if not owed:
        return "\n".join(lines + ["Not reportable: no regulatory trigger of the policy was met."])
    lines += [f"Reportable: {owed[0].detail}.", "", "| Notice | Due | Generated | Submitted | On time |",
              "|---|---|---|---|---|"]
    for duty in owed:
        record = state.regulatory.get(duty.subject)
        on_time = "yes" if duty.on_time else ("NO" if duty.done or duty.due <= now else "pending")
        lines.append(f"| {duty.subject} | {_at(duty.due)} | {_at(record.generated) if record else '-'} | "
                     f"{_at(duty.done)} | {on_time} |")
    return "\n".join(lines)


def _checklists(state: IncidentState, policy: Policy | None) -> str:
    lines = ["## Checklists", ""]
    if policy is None or state.opened is None:
        return "\n".join(lines + ["Not assessed (no policy given)."])
    from titan_ops.incident.checklists import checklist

    ticks = checklist(state, policy)
    undone = [tick for tick in ticks if tick.done is None]
    lines.append(f"{len(ticks) - len(undone)} of {len(ticks)} items done; left undone: "
                 f"{len(undone) or 'nothing'}.")
    lines += ["", "| Checklist | Item | Done | By |", "|---|---|---|---|"]
    for tick in ticks:
        lines.append(f"| {tick.item.checklist} | {_cell(tick.item.item)} | "
                     f"{_at(tick.done) if tick.done else '**NOT DONE**'} | {_cell(tick.by or '-')} |")
    return "\n".join(lines)


def _root_cause(state: IncidentState) -> str:
    questions = ("What happened? (symptom)", "Why did it happen? (immediate cause)",
                 "Why did that happen? (underlying cause)", "Why did that happen? (root cause)",
                 "Why did that happen? (systemic cause)")
    if not state.whys:
        return "## Root cause\n\n" + _TO_COMPLETE + "\n\nFive whys: " + "; ".join(questions)
    lines = ["## Root cause", ""]
    for number, question in enumerate(questions):
        answer = state.whys[number] if number < len(state.whys) else _TO_COMPLETE
        lines.append(f"{number + 1}. {question} {answer}")
    lines += ["", f"Root-cause tag: {state.root_cause_tag or '-'}"]
    return "\n".join(lines)


def _follow_ups(state: IncidentState) -> str:
    lines = ["## Follow-ups: action items", ""]
    if not state.actions:
        return "\n".join(lines + ["No action item recorded (`titan-ops incident action add ID TEXT --owner O`)."])
    lines += ["| # | Action | Owner | Due | Done |", "|---|---|---|---|---|"]
    for action in state.actions.values():
        lines.append(f"| {action.number} | {_cell(action.text)} | {_cell(action.owner or '-')} | "
                     f"{_cell(action.due)} | {_at(action.done) if action.done else 'open'} |")
    return "\n".join(lines)


def _response_metrics(state: IncidentState, policy: Policy | None, now: datetime) -> str:
    lines = ["## Response metrics", ""]
    if policy is None or state.opened is None:
        return "\n".join(lines + ["Not computed (no policy given)."])
    from titan_ops.incident.metrics import incident_metrics

    metrics = incident_metrics(state, policy, now)

    def minutes(value: float | None) -> str:
        return "-" if value is None else format_span(value * 60)

    lines += [f"- Time to detect: {minutes(metrics['time_to_detect'])}",
              f"- Time to respond (detection to acknowledgement): {minutes(metrics['time_to_respond'])}",
              f"- Time to resolve (detection to resolution): {minutes(metrics['time_to_resolve'])}",
              f"- Customer impact: {minutes(metrics['customer_impact'])}",
              f"- Escalation level reached: {metrics['level']}"]
    checks = metrics["compliance"]
    met = sum(checks.values())
    lines.append(f"- Process compliance: {met} of {len(checks)} on time or complete"
                 + (": missed " + ", ".join(name for name, ok in checks.items() if not ok) if met < len(checks)
                    else ""))
    return "\n".join(lines)


def _actions(runs: list[dict[str, Any]], drills: list[dict[str, Any]]) -> str:
    lines = ["## Actions taken"]
    if not runs and not drills:
        lines += ["", "No playbook was run for this incident."]
    for number, run in enumerate(runs, start=1):
        outcome = run.get("outcome", {})
        verdict = "succeeded" if outcome.get("ok") else f"FAILED (exit {outcome.get('exit_code')})"
        mode = " in check mode" if run.get("arguments", {}).get("check") else ""
        lines += ["", f"### {number}. `{run.get('playbook')}`{mode}: {verdict}", "",
                  f"Run by {run.get('operator')} from {run.get('start')} to {run.get('end')}.", "",
                  f"Arguments: `{json.dumps(run.get('arguments', {}), sort_keys=True, default=str)}`", ""]
        lines += _stats_table(outcome.get("stats", {}))
        for failure in outcome.get("failures", []):
            lines.append(f"- failed on {failure.get('host')}: {failure.get('task')}: {failure.get('msg')}")
    for drill in drills:
        verdict = "passed" if drill.get("passed") else "FAILED"
        lines += ["", f"### Drill `{drill.get('drill')}`: {verdict}", ""]
        for phase in drill.get("phases", []):
            lines.append(f"- {phase.get('name')}: {phase.get('status')} in {phase.get('duration', 0):.1f}s")
        if drill.get("time_to_recover") is not None:
            lines.append(f"- time to recover: {drill['time_to_recover']:.1f}s (budget {drill.get('budget')}s)")
    return "\n".join(lines)


def _stats_table(stats: dict[str, dict[str, int]]) -> list[str]:
    if not stats:
        return ["No host ran a task."]
    names = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")
    lines = ["| Host | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for host, counters in sorted(stats.items()):
        lines.append(f"| {_cell(host)} | " + " | ".join(str(counters.get(name, 0)) for name in names) + " |")
    return lines


def _evidence(runs: list[dict[str, Any]]) -> str:
    bundles = [bundle for run in runs for bundle in run.get("evidence", [])]
    lines = ["## Evidence", ""]
    if not bundles:
        return "\n".join(lines + ["No evidence bundle was collected."])
    lines += ["| Host | Bundle | Bytes | sha256 | Collected |", "|---|---|---|---|---|"]
    for bundle in bundles:
        lines.append(f"| {_cell(bundle.get('host'))} | `{_cell(bundle.get('path'))}` | {bundle.get('size')} | "
                     f"`{bundle.get('sha256')}` | {_cell(bundle.get('collected'))} |")
    return "\n".join(lines)


def _severity(triage: dict[str, Any]) -> str:
    severity = triage.get("severity")
    if severity is None:
        return "no incident (all checks passed)"
    return f"{severity} (response: {triage.get('response_time')}; team: {triage.get('response_team')})"


def _worst(triages: list[dict[str, Any]]) -> dict[str, Any]:
    """The triage with the most severe verdict (severity 1 is the worst; none is the mildest)."""
    return min(triages, key=lambda entry: entry.get("severity") or 99)


def _last_status(runs: Iterable[dict[str, Any]]) -> str:
    live = [run for run in runs if not run.get("arguments", {}).get("check")]
    if not live:
        return "no live run recorded"
    last = live[-1]
    verdict = "succeeded" if last.get("outcome", {}).get("ok") else "failed"
    return f"last live run `{last.get('playbook')}` {verdict}"


def _elapsed(first: str, last: str) -> str:
    try:
        seconds = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    except (TypeError, ValueError):
        return "-"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s"


def _at(moment: datetime | None) -> str:
    return iso(moment) if moment else "-"


def _cell(value: Any) -> str:
    """``value`` as one Markdown table cell: no pipes or newlines breaking the row."""
    return str(value if value is not None else "-").replace("|", "\\|").replace("\n", " ")
