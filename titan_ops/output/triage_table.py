"""The triage renderer: severity, response time, response team and the playbooks to run next, as a table."""

from __future__ import annotations

import sys
from typing import Any, TextIO
from collections.abc import Mapping

from titan_ops.engine import events
from titan_ops.output.console import banner, printable


def triage_table(assessment: Mapping[str, Any], playbook_dir: str = "playbooks") -> str:
    """The text table of an assessment (``Assessment.to_dict()`` or a ``triage`` task's result), its control
    characters escaped."""
    severity = assessment.get("severity")
    rows: list[tuple[str, str]] = [
        ("severity", str(severity) if severity is not None else "none (no incident)"),
        ("response time", str(assessment.get("response_time", "-"))),
        ("response team", str(assessment.get("response_team", "-"))),
    ]
    findings = assessment.get("findings") or []
    lines = [text for finding in findings
             for text in (f"[{finding['severity']}] {finding['reason']}",
                          *(f"    | {line}" for line in finding.get("details") or []))]
    rows += [("findings" if index == 0 else "", text) for index, text in enumerate(lines)] or [("findings", "none")]
    playbooks = assessment.get("playbooks") or []
    rows += [("run next" if index == 0 else "", f"{index + 1}. {playbook_dir}/{playbook}")
             for index, playbook in enumerate(playbooks)] or [("run next", "nothing")]
    unchecked = assessment.get("unchecked") or {}
    rows += [("not checked" if index == 0 else "", f"{host} ({', '.join(services)})")
             for index, (host, services) in enumerate(sorted(unchecked.items()))]
    width = max(len(name) for name, _ in rows)
    lines = [banner("TRIAGE")]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return printable("\n".join(lines)) + "\n"  # findings quote what hosts said


class TriageRenderer:
    """Prints the triage table after the recap when the run had a ``triage`` task."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.assessment: Mapping[str, Any] | None = None

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.HostTaskDone) and event.result.module == "triage" \
                and "severity" in event.result.result:
            self.assessment = event.result.result
        elif isinstance(event, events.RunDone) and self.assessment is not None:
            self.stream.write("\n" + triage_table(self.assessment) + "\n")
            self.stream.flush()
