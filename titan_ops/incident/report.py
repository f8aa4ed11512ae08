"""The post-incident report: an incident's timeline rendered as Markdown.

The sections follow the procedures' post-incident template: a summary, the
timeline, the impact, the actions taken (one per playbook run, with its
outcome), the evidence (with sha256), and the sections only people can
write (root cause, follow-ups, lessons learned), left as prompts.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from collections.abc import Iterable

from titan_ops.incident.recorder import environment_redactor

_TO_COMPLETE = "_To be completed by the incident commander._"


def render_report(incident_id: str, entries: list[dict[str, Any]]) -> str:
    """The Markdown report of incident ``incident_id`` from its timeline ``entries`` (oldest first)."""
    runs = [entry for entry in entries if entry.get("kind") == "run"]
    triages = [entry for entry in entries if entry.get("kind") == "triage"]
    drills = [entry for entry in entries if entry.get("kind") == "drill"]
    sections = [
        f"# Post-incident report: {incident_id}",
        _summary(incident_id, entries, runs, triages, drills),
        _timeline(entries),
        _impact(runs, triages),
        _actions(runs, drills),
        _evidence(runs),
        "## Root cause\n\n" + _TO_COMPLETE + "\n\nFive whys: what happened (symptom), why (immediate cause), "
        "why (underlying cause), why (root cause), why (systemic cause).",
        "## Follow-ups\n\n| Action | Owner | Due |\n|---|---|---|\n| | | |",
        "## Lessons learned\n\n" + _TO_COMPLETE,
    ]
    return environment_redactor().text("\n\n".join(sections) + "\n")


def _summary(incident_id: str, entries: list[dict[str, Any]], runs: list[dict[str, Any]],
             triages: list[dict[str, Any]], drills: list[dict[str, Any]]) -> str:
    first, last = (entries[0]["timestamp"], entries[-1]["timestamp"]) if entries else ("-", "-")
    operators = sorted({str(entry.get("operator")) for entry in entries})
    failed = [run for run in runs if not run.get("outcome", {}).get("ok")]
    checks = [run for run in runs if run.get("arguments", {}).get("check")]
    rows = [
        ("Incident", incident_id),
        ("Severity (highest triaged)", _severity(_worst(triages)) if triages else "not triaged"),
        ("First recorded action", first),
        ("Last recorded action", last),
        ("Elapsed", _elapsed(first, last)),
        ("Operators", ", ".join(operators) or "-"),
        ("Playbook runs", f"{len(runs)} ({len(runs) - len(failed)} succeeded, {len(failed)} failed, "
                          f"{len(checks)} in check mode)"),
        ("Drills", str(len(drills))),
        ("Status", _last_status(runs)),
    ]
    table = "| | |\n|---|---|\n" + "\n".join(f"| {name} | {_cell(value)} |" for name, value in rows)
    return f"## Summary\n\n{table}\n\n{_TO_COMPLETE} What happened, in two sentences."


def _timeline(entries: list[dict[str, Any]]) -> str:
    lines = ["## Timeline", "", "| Time | Operator | Action | Hosts | Mode | Outcome |", "|---|---|---|---|---|---|"]
    for entry in entries:
        kind = entry.get("kind")
        if kind == "run":
            outcome = entry.get("outcome", {})
            action = f"run `{entry.get('playbook')}`"
            hosts = ", ".join(entry.get("hosts") or []) or "-"
            mode = "check" if entry.get("arguments", {}).get("check") else "live"
            result = f"{'ok' if outcome.get('ok') else 'FAILED'} (exit {outcome.get('exit_code')})"
        elif kind == "triage":
            action, hosts, mode, result = "triage", "-", "-", _severity(entry)
        elif kind == "drill":
            action, hosts, mode = f"drill `{entry.get('drill')}`", "-", "drill"
            result = "passed" if entry.get("passed") else "FAILED"
        else:
            action, hosts, mode, result = str(kind), "-", "-", "-"
        lines.append(f"| {_cell(entry.get('timestamp'))} | {_cell(entry.get('operator'))} | {_cell(action)} | "
                     f"{_cell(hosts)} | {mode} | {_cell(result)} |")
    return "\n".join(lines)


def _impact(runs: list[dict[str, Any]], triages: list[dict[str, Any]]) -> str:
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
    lines.append("- Trading impact, positions at risk, data integrity, users affected: " + _TO_COMPLETE)
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


def _cell(value: Any) -> str:
    """``value`` as one Markdown table cell: no pipes or newlines breaking the row."""
    return str(value if value is not None else "-").replace("|", "\\|").replace("\n", " ")
