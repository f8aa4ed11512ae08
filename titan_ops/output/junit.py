"""The JUnit XML renderer: a testsuite per play, a testcase per host and task.

Every task result becomes a testcase (``classname`` = ``play/host``, ``name``
= the task's name), so no outcome is lost:

- failed: ``<failure>`` with the task's message, the full result as text;
- unreachable: ``<error type="unreachable">``;
- skipped: ``<skipped>`` with the reason;
- ignored (``ignore_errors``/``ignore_unreachable``) or rescued failures pass,
  with what happened in ``<system-out>``;
- stdout and stderr, when the module returned them, in ``<system-out>`` and
  ``<system-err>``;
- a ``triage`` task that found an incident: ``<failure type="severity-N">``
  with the findings, and its play's testsuite gets ``<properties>``
  (``severity``, ``response_time``, ``response_team``, ``exit_code``), so CI
  shows the verdict, not only the tasks.

The layout is the one of Ant's JUnit report (the JUnit XSD Jenkins, GitLab
and most CI systems read).
"""

from __future__ import annotations

import json
import os
import re
import socket
import xml.etree.ElementTree as ET
from typing import Any

from titan_ops.engine import events
from titan_ops.engine.results import PlayResult, RunResult, Status, TaskResult
from titan_ops.output.files import write_atomically

# Characters XML 1.0 cannot hold, even escaped (terminal escapes in stdout, ...).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: Any) -> str:
    """``text`` as a string XML can carry: unprintable characters become ``\\xNN``."""
    if not isinstance(text, str):
        text = json.dumps(text, sort_keys=True, default=str)
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _details(result: TaskResult) -> str:
    return json.dumps(result.result, indent=2, sort_keys=True, default=str)


def _message(result: TaskResult) -> str:
    msg = result.result.get("msg")
    if msg is None or msg == "":
        return f"{result.status.value}: {result.task}"
    return _clean(msg)


def _testcase(play: PlayResult, result: TaskResult) -> tuple[ET.Element, str | None]:
    """The testcase of one result, and the counter its outcome adds to (None: passed)."""
    case = ET.Element("testcase", {"classname": _clean(f"{play.name}/{result.host}"), "name": _clean(result.task),
                                   "time": f"{max(result.duration, 0.0):.3f}"})
    notes: list[str] = []
    outcome: str | None = None
    if result.status in (Status.FAILED, Status.UNREACHABLE) and (result.ignored or result.rescued):
        why = "ignored" if result.ignored else "rescued"
        notes.append(f"{why} {result.status.value}: {_message(result)}")
    elif result.status is Status.FAILED:
        outcome = "failures"
        element = ET.SubElement(case, "failure", {"message": _message(result), "type": "failed"})
        element.text = _clean(_details(result))
    elif result.status is Status.UNREACHABLE:
        outcome = "errors"
        element = ET.SubElement(case, "error", {"message": _message(result), "type": "unreachable"})
        element.text = _clean(_details(result))
    elif result.status is Status.SKIPPED:
        outcome = "skipped"
        reason = result.result.get("skip_reason") or result.result.get("msg") or "skipped"
        ET.SubElement(case, "skipped", {"message": _clean(reason)})
    elif result.module == "triage" and result.result.get("severity") is not None:
        outcome = "failures"
        verdict = result.result
        findings = "; ".join(f"[{item['severity']}] {item['reason']}" for item in verdict.get("findings") or [])
        element = ET.SubElement(case, "failure", {"message": _clean(f"severity {verdict['severity']}: {findings}"),
                                                  "type": f"severity-{verdict['severity']}"})
        element.text = _clean(_details(result))
    elif result.status is Status.CHANGED:
        notes.append("changed")
    stdout, stderr = result.result.get("stdout"), result.result.get("stderr")
    if stdout:
        notes.append(str(stdout))
    if notes:
        ET.SubElement(case, "system-out").text = _clean("\n".join(notes))
    if stderr:
        ET.SubElement(case, "system-err").text = _clean(str(stderr))
    return case, outcome


def _properties(suite: ET.Element, run: RunResult, results: list[TaskResult]) -> None:
    """The verdict as the suite's properties, when the play triaged."""
    verdicts = [result.result for result in results if result.module == "triage" and "severity" in result.result]
    if not verdicts:
        return
    verdict = verdicts[-1]
    properties = ET.SubElement(suite, "properties")
    for name, value in (("severity", verdict.get("severity") or "none"),
                        ("response_time", verdict.get("response_time")),
                        ("response_team", verdict.get("response_team")), ("exit_code", run.exit_code)):
        ET.SubElement(properties, "property", {"name": name, "value": _clean(str(value))})


def _testsuite(play: PlayResult, index: int, run: RunResult) -> tuple[ET.Element, dict[str, int]]:
    """The testsuite of one play; its time is the play's wall-clock span (0 when it ran no task)."""
    run_start = run.start
    suite = ET.Element("testsuite", {"name": _clean(play.name or f"play {index + 1}"), "id": str(index)})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    results = [result for host in play.hosts + [host for host in play.tasks if host not in play.hosts]
               for result in play.tasks.get(host, [])]
    _properties(suite, run, results)
    for result in results:
        case, outcome = _testcase(play, result)
        suite.append(case)
        counts["tests"] += 1
        if outcome is not None:
            counts[outcome] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    start = min((result.start for result in results), default=run_start)
    end = max((result.end for result in results), default=run_start)
    suite.set("time", f"{(end - start).total_seconds():.3f}")
    suite.set("timestamp", start.replace(microsecond=0).isoformat())
    suite.set("hostname", socket.gethostname())
    return suite, counts


def junit_xml(result: RunResult) -> str:
    """The JUnit XML report of ``result``."""
    root = ET.Element("testsuites", {"name": _clean(result.playbook)})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for index, play in enumerate(result.plays):
        suite, counts = _testsuite(play, index, result)
        root.append(suite)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    if result.end is not None:
        root.set("time", f"{(result.end - result.start).total_seconds():.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


class JUnitWriter:
    """An event subscriber that writes the JUnit report to ``path`` when the run is done."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = path

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.RunDone):
            write_atomically(self.path, junit_xml(event.result))
