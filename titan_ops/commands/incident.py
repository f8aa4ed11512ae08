"""``titan-ops incident report ID``: an incident's timeline as a post-incident report in Markdown."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from titan_ops.errors import TitanOpsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "incident", help="the incident record: the report of an incident's timeline",
        description="Runs made with --incident ID append to <dir>/ID/timeline.jsonl "
                    "(dir: --dir, else $TITAN_OPS_INCIDENT_DIR, else ./incidents).")
    actions = parser.add_subparsers(dest="incident_action", metavar="ACTION", required=True)
    report = actions.add_parser("report", help="render the timeline as a Markdown post-incident report")
    report.add_argument("incident_id", metavar="ID", help="the incident id")
    report.add_argument("--dir", metavar="DIR", help="the incidents folder")
    report.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from titan_ops.incident import Timeline, render_report
    from titan_ops.output.files import write_atomically

    try:
        timeline = Timeline(args.incident_id, args.dir)
        text = render_report(args.incident_id, timeline.entries())
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
