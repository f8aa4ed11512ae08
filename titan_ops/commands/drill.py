"""``titan-ops drill drills/NAME.yml``: inject a fault, recover, verify, and time it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from titan_ops.errors import TitanOpsError

if TYPE_CHECKING:
    from titan_ops.drill import Phase, PhaseResult


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "drill", help="run a recovery drill (fault, recovery, verification, time budget)",
        description="Run a drill file against an inventory (default: the lab's). Exits 0 when every phase "
                    "passed within the budget, 2 otherwise, 5 for a bad drill file or inventory, or for an "
                    "inventory that is not a lab's (every host with titan_lab: true) without --allow-non-lab.")
    parser.add_argument("drills", nargs="+", metavar="DRILL", help="drill files (run in order)")
    parser.add_argument("-i", "--inventory", action="append", default=[], metavar="INVENTORY",
                        help="inventory (default: the lab's inventory.yml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show each phase's playbook output")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report (a testcase per phase)")
    parser.add_argument("--output-json", metavar="FILE", help="write the drill results as JSON")
    parser.add_argument("--incident", metavar="ID", help="record every phase and the verdict in this incident")
    parser.add_argument("--incident-dir", metavar="DIR", help="the incidents folder")
    parser.add_argument("--allow-non-lab", action="store_true",
                        help="run against an inventory that is not a lab's (drills inject faults: "
                             "refused by default)")
    parser.set_defaults(handler=_drill)


def _drill(args: argparse.Namespace) -> int:
    from titan_ops.drill import drill_junit_xml, load_drill, require_lab, run_drill
    from titan_ops.inventory import load_inventory
    from titan_ops.lab.paths import LabPaths, default_directory
    from titan_ops.output.console import ConsoleRenderer, banner
    from titan_ops.output.files import write_atomically

    try:
        drills = [load_drill(path) for path in args.drills]
        inventory = load_inventory(args.inventory or [str(LabPaths(default_directory()).inventory)])
        if not args.allow_non_lab:
            require_lab(inventory)
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    subscribers = [ConsoleRenderer(sys.stdout, verbosity=args.verbose - 1)] if args.verbose else []
    results = []
    for drill in drills:
        print(banner(f"DRILL [{drill.name}]"))
        result = run_drill(drill, inventory, subscribers=subscribers, observer=_print_phase,
                           incident=args.incident, incident_dir=args.incident_dir, allow_non_lab=True)
        results.append(result)
        recovered = "-" if result.time_to_recover is None else f"{result.time_to_recover:.1f}s"
        verdict = "PASSED" if result.passed else "FAILED"
        budget = " (over budget)" if result.over_budget else ""
        print(f"{verdict}: {drill.name}: time to recover {recovered}{budget}, budget {drill.budget_seconds:g}s\n")
    if args.junit:
        write_atomically(args.junit, drill_junit_xml(results))
    if args.output_json:
        write_atomically(args.output_json, json.dumps([result.to_dict() for result in results], indent=2) + "\n")
    return max(result.exit_code for result in results)


def _print_phase(phase: Phase, outcome: PhaseResult | None) -> None:
    label = f"{phase.kind:<12} {phase.name}"
    if outcome is None:
        print(f"  ... {label}", flush=True)
        return
    print(f"  {outcome.status.upper():<7} {label}  {outcome.duration:6.1f}s", flush=True)
    if outcome.message:
        print(f"          {outcome.message}", flush=True)
