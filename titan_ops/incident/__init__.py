"""The incident record: a timeline of every run made for an incident, and its report.

Runs made with ``--incident ID`` (CLI) or ``incident=ID`` (API) append one
JSON line each to ``<directory>/<ID>/timeline.jsonl``; ``titan-ops incident
report ID`` renders that timeline as a post-incident report in Markdown.
"""

from titan_ops.incident.recorder import IncidentRecorder
from titan_ops.incident.report import render_report
from titan_ops.incident.timeline import Timeline, default_directory, operator_name

__all__ = ["IncidentRecorder", "Timeline", "default_directory", "operator_name", "render_report"]
