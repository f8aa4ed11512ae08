"""``titan-ops run``: ansible-playbook's options, over the library API.

The engine is imported when the command runs, not when the parser is built,
and the report writers only when asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from titan_ops.errors import ClusterError, TitanOpsError

CLUSTER_ENV = "TITAN_OPS_CLUSTER"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run a playbook (ansible-playbook's options)",
                                   description="Run a playbook against an inventory.")
    parser.add_argument("playbook", help="the playbook file")
    parser.add_argument("-i", "--inventory", action="append", default=[], metavar="INVENTORY",
                        help="inventory file or directory (repeatable)")
    parser.add_argument("-l", "--limit", metavar="PATTERN", help="further limit the hosts to a pattern")
    parser.add_argument("-f", "--forks", type=int, default=5, help="hosts worked on at once (default 5)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="VARS",
                        help="key=value pairs, a JSON object, or @file.yml (repeatable)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show results (-vv: more)")
    parser.add_argument("-C", "--check", action="store_true", help="dry run: change nothing")
    parser.add_argument("-D", "--diff", action="store_true", help="show the differences a change makes")
    parser.add_argument("-t", "--tags", action="append", default=[], help="run only tasks with these tags")
    parser.add_argument("--skip-tags", action="append", default=[], help="skip tasks with these tags")
    parser.add_argument("--no-host-key-checking", action="store_true",
                        help="accept unknown or changed host keys (off by default)")
    parser.add_argument("-T", "--timeout", type=float, default=10.0, help="SSH connect timeout in seconds")
    parser.add_argument("--command-timeout", type=float, default=None,
                        help="deadline for every remote command, in seconds")
    parser.add_argument("--cluster", metavar="ADDRESS", default=os.environ.get(CLUSTER_ENV) or None,
                        help="keep the hosts' connections on a Dask cluster: a scheduler address "
                             "(tcp://HOST:8786), or local[:N] for a LocalCluster of N workers "
                             f"(default ${CLUSTER_ENV}; needs titan-ops[cluster])")
    parser.add_argument("--output-json", metavar="FILE", help="write the whole run result as JSON to FILE")
    parser.add_argument("--junit", metavar="FILE",
                        help="write a JUnit XML report (a testcase per host and task) to FILE")
    parser.add_argument("--incident", metavar="ID",
                        help="append this run to incident ID's timeline (evidence goes under its folder)")
    parser.add_argument("--incident-dir", metavar="DIR",
                        help="the incidents folder (default $TITAN_OPS_INCIDENT_DIR, else ./incidents)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    _open_files_up_to_the_hard_limit()
    from titan_ops.api import run
    from titan_ops.extra_vars import parse_extra_vars
    from titan_ops.inventory import load_inventory
    from titan_ops.output.console import ConsoleRenderer
    from titan_ops.output.triage_table import TriageRenderer
    from titan_ops.playbook import load_playbook

    try:
        playbook = load_playbook(args.playbook)
        inventory = load_inventory(args.inventory or None)
        extra_vars = parse_extra_vars(args.extra_vars)
        subscribers: list[Any] = [ConsoleRenderer(sys.stdout, verbosity=args.verbose), TriageRenderer(sys.stdout)]
        if args.output_json:
            from titan_ops.output.json_output import JsonWriter

            subscribers.append(JsonWriter(args.output_json))
        if args.junit:
            from titan_ops.output.junit import JUnitWriter

            subscribers.append(JUnitWriter(args.junit))
        result = run(playbook, inventory, limit=args.limit, forks=args.forks, extra_vars=extra_vars,
                     check=args.check, diff=args.diff, tags=args.tags, skip_tags=args.skip_tags,
                     host_key_checking=not args.no_host_key_checking,
                     connect_timeout=args.timeout, command_timeout=args.command_timeout,
                     subscribers=subscribers, incident=args.incident, incident_dir=args.incident_dir,
                     cluster=args.cluster)
    except ClusterError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 1
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    return result.exit_code


def _open_files_up_to_the_hard_limit() -> None:
    """A run holds a socket per host for its whole length: raise the soft limit on open files (1024 by
    default on Debian, a 1,000-host run's sockets alone) to the hard one, as far as the system lets."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass  # keep the soft limit; a fleet larger than it shows its hosts unreachable, with the reason
