"""``titan-ops triage --from-json RESULT.json``: the decision matrix over a finished health check.

It exits as the health check's run does with its verdict: 0 no incident, 10 + severity (11-14) an incident.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from typing import Any

from titan_ops.errors import TitanOpsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "triage", help="severity, response and next playbooks from a health-check result",
        description="Apply the incident decision matrix to a run saved with "
                    "`titan-ops run playbooks/health-check.yml --output-json RESULT.json`. "
                    "Exits 0 without an incident, 10 + severity (11-14) with one, as the run does.")
    parser.add_argument("--from-json", required=True, metavar="FILE", help="the run's JSON result")
    parser.add_argument("--scavenger-equity-threshold", type=float, metavar="EQUITY",
                        help="Scavenger down: severity 2 below this equity, 3 at or above (default: the run's)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON instead of a table")
    parser.add_argument("--incident", metavar="ID", help="append the verdict to this incident's timeline")
    parser.add_argument("--incident-dir", metavar="DIR", help="the incidents folder")
    parser.set_defaults(handler=_triage)


def _triage(args: argparse.Namespace) -> int:
    from titan_ops.engine.results import SEVERITY_EXIT_BASE
    from titan_ops.incident.recorder import triage_entry
    from titan_ops.incident.timeline import Timeline
    from titan_ops.json_document import load_json_document
    from titan_ops.output.triage_table import triage_table
    from titan_ops.triage import from_run

    try:
        run = load_json_document(args.from_json, json.loads(
            resources.files("titan_ops").joinpath("schemas/run-result.json").read_text(encoding="utf-8")))
        overrides = {} if args.scavenger_equity_threshold is None else \
            {"scavenger_equity_threshold": args.scavenger_equity_threshold}
        assessment = from_run(run, **overrides).to_dict()
        if args.incident:
            Timeline(args.incident, args.incident_dir).append(triage_entry(assessment, source=args.from_json))
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    except (OSError, ValueError) as error:
        print(f"ERROR! {args.from_json}: {error}", file=sys.stderr)
        return 5
    sys.stdout.write(json.dumps(assessment, indent=2) + "\n" if args.json else triage_table(assessment))
    severity = assessment["severity"]
    return SEVERITY_EXIT_BASE + int(severity) if severity else 0
