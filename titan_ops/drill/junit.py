"""Drills as JUnit XML: a testsuite per drill, a testcase per phase, and one for the time budget."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import datetime
from collections.abc import Sequence

from titan_ops.drill.runner import FAILED, SKIPPED, DrillResult

_COUNTERS = ("tests", "failures", "errors", "skipped")


def _suite(result: DrillResult) -> ET.Element:
    suite = ET.Element("testsuite", {"name": result.drill.name, "hostname": socket.gethostname(),
                                     "timestamp": datetime.now().replace(microsecond=0).isoformat()})
    counts = dict.fromkeys(_COUNTERS, 0)
    for phase in result.phases:
        case = ET.SubElement(suite, "testcase", {"classname": f"drill.{phase.phase.kind}", "name": phase.phase.name,
                                                 "time": f"{phase.duration:.3f}"})
        counts["tests"] += 1
        if phase.status == FAILED:
            counts["failures"] += 1
            ET.SubElement(case, "failure", {"type": "failed", "message": phase.message or "failed"}).text = \
                phase.message
        elif phase.status == SKIPPED:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", {"message": phase.message})
    if result.time_to_recover is not None:
        budget = ET.SubElement(suite, "testcase", {"classname": "drill.budget",
                                                   "name": f"recovered within {result.drill.budget_seconds:g}s",
                                                   "time": f"{result.time_to_recover:.3f}"})
        counts["tests"] += 1
        if result.over_budget:
            counts["failures"] += 1
            ET.SubElement(budget, "failure", {"type": "over budget", "message":
                          f"time to recover {result.time_to_recover:.1f}s > budget {result.drill.budget_seconds:g}s"})
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{sum(phase.duration for phase in result.phases):.3f}")
    return suite


def drill_junit_xml(results: Sequence[DrillResult]) -> str:
    """The JUnit report of ``results``: one testsuite per drill."""
    root = ET.Element("testsuites", {"name": "titan-ops drills"})
    totals = dict.fromkeys(_COUNTERS, 0)
    for result in results:
        suite = _suite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
