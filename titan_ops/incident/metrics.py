"""The procedures' response and quality metrics, per incident and across incidents.

Per incident (:func:`incident_metrics`): time to detect (problem start to
detection), to respond (detection to acknowledgement), to resolve
(detection to resolution), the escalation level reached, customer impact,
and process compliance (each notification, regulatory notice and review on
time, each checklist complete). Across incidents (:func:`summarize`): their
means, the escalation frequency, the recurrence rate (an earlier incident
had the same root-cause tag), the false positive rate (closed as no
incident) and the compliance rate; by month for the trend chart.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean
from typing import Any

from titan_ops.incident.checklists import checklist
from titan_ops.incident.duties import duties
from titan_ops.incident.policy import Policy
from titan_ops.incident.state import IncidentState, fold
from titan_ops.incident.timeline import Timeline, incident_ids


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 60


def compliance_checks(state: IncidentState, policy: Policy, now: datetime) -> list[tuple[str, bool]]:
    """Each duty of the process with whether it was met: notifications, regulatory notices and the review on
    time (one still running is not counted yet), each checklist complete once the incident is closed."""
    checks = []
    for duty in duties(state, policy, now):
        if duty.kind in ("notify", "regulatory", "review") and (duty.done is not None or duty.due <= now):
            checks.append((f"{duty.kind} {duty.subject}", duty.on_time))
    if state.closed is not None and not state.false_positive:
        ticks = checklist(state, policy)
        for name in dict.fromkeys(tick.item.checklist for tick in ticks):
            checks.append((f"checklist {name}", all(tick.done for tick in ticks if tick.item.checklist == name)))
    return checks


def incident_metrics(state: IncidentState, policy: Policy, now: datetime) -> dict[str, Any]:
    """This incident's response metrics (minutes)."""
    outage = state.outage(now)
    checks = compliance_checks(state, policy, now)
    return {
        "incident": state.incident_id,
        "detected": state.detected.isoformat() if state.detected else None,
        "time_to_detect": _minutes(state.started, state.detected),
        "time_to_respond": _minutes(state.detected, state.acknowledged),
        "time_to_resolve": _minutes(state.detected, state.resolved),
        "level": state.level, "escalated": state.level > 1,
        "customer_impact": _minutes(*outage) if outage else None,
        "false_positive": state.false_positive, "root_cause_tag": state.root_cause_tag,
        "compliance": {name: met for name, met in checks},
    }


@dataclass
class Metrics:
    """The metrics of a set of incidents, and per month."""

    incidents: list[dict[str, Any]]
    summary: dict[str, Any]
    months: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "months": self.months, "incidents": self.incidents}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The across-incident metrics of ``rows`` (:func:`incident_metrics` results, oldest first)."""

    def average(key: str, population: list[dict[str, Any]]) -> float | None:
        values = [row[key] for row in population if row[key] is not None]
        return round(mean(values), 2) if values else None

    real = [row for row in rows if not row["false_positive"]]
    seen: set[str] = set()
    recurrences = 0
    for row in real:
        tag = row["root_cause_tag"]
        if tag and tag in seen:
            recurrences += 1
        if tag:
            seen.add(tag)
    checks = [met for row in real for met in row["compliance"].values()]
    impacts = [row["customer_impact"] for row in real if row["customer_impact"] is not None]
    return {
        "incidents": len(rows),
        "mttd_minutes": average("time_to_detect", real),
        "mean_time_to_respond_minutes": average("time_to_respond", real),
        "mean_time_to_resolve_minutes": average("time_to_resolve", real),
        "escalation_frequency": round(sum(row["escalated"] for row in real) / len(real), 4) if real else None,
        "recurrence_rate": round(recurrences / len(real), 4) if real else None,
        "false_positive_rate": round((len(rows) - len(real)) / len(rows), 4) if rows else None,
        "customer_impact_minutes_mean": round(mean(impacts), 2) if impacts else None,
        "customer_impact_minutes_total": round(sum(impacts), 2) if impacts else 0,
        "process_compliance_rate": round(sum(checks) / len(checks), 4) if checks else None,
    }


def collect(directory: str | os.PathLike[str] | None, policy: Policy, now: datetime,
            since: datetime | None = None) -> Metrics:
    """The metrics of every incident in ``directory`` detected at or after ``since``."""
    rows = []
    for incident_id in incident_ids(directory):
        state = fold(incident_id, Timeline(incident_id, directory).entries())
        if state.detected is None or (since is not None and state.detected < since):
            continue
        rows.append(incident_metrics(state, policy, now))
    rows.sort(key=lambda row: row["detected"])
    months: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        months.setdefault(row["detected"][:7], []).append(row)
    return Metrics(rows, summarize(rows), {month: summarize(group) for month, group in months.items()})


_TABLE = (("incidents", "incidents", "{:g}"), ("mttd_minutes", "mean time to detect", "{:.1f} min"),
          ("mean_time_to_respond_minutes", "mean time to respond", "{:.1f} min"),
          ("mean_time_to_resolve_minutes", "mean time to resolve", "{:.1f} min"),
          ("escalation_frequency", "escalation frequency", "{:.0%}"),
          ("recurrence_rate", "recurrence rate", "{:.0%}"), ("false_positive_rate", "false positive rate", "{:.0%}"),
          ("customer_impact_minutes_mean", "customer impact (mean)", "{:.1f} min"),
          ("customer_impact_minutes_total", "customer impact (total)", "{:.1f} min"),
          ("process_compliance_rate", "process compliance rate", "{:.0%}"))


def metrics_table(metrics: Metrics) -> str:
    """The summary as a table for people."""
    width = max(len(label) for _, label, _ in _TABLE)
    lines = []
    for key, label, form in _TABLE:
        value = metrics.summary.get(key)
        lines.append(f"{label:<{width}}  {'-' if value is None else form.format(value)}")
    return "\n".join(lines) + "\n"


def trend_chart(metrics: Metrics, path: str | os.PathLike[str]) -> None:
    """A PNG for the monthly review: incidents per month, and the mean times to respond and resolve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    from titan_ops.output.files import write_bytes_atomically

    months = list(metrics.months)
    figure, counts = pyplot.subplots(figsize=(8, 4), dpi=100)
    counts.bar(months, [metrics.months[month]["incidents"] for month in months], color="#c8d6e5", label="incidents")
    counts.set_ylabel("incidents")
    times = counts.twinx()
    for key, label in (("mean_time_to_respond_minutes", "mean time to respond"),
                       ("mean_time_to_resolve_minutes", "mean time to resolve"),
                       ("mttd_minutes", "mean time to detect")):
        values = [metrics.months[month][key] for month in months]
        times.plot(months, [float("nan") if value is None else value for value in values], marker="o", label=label)
    times.set_ylabel("minutes")
    figure.legend(loc="upper left", fontsize="small")
    counts.set_title("Incidents per month and response times")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    write_bytes_atomically(path, buffer.getvalue())
