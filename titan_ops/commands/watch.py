"""``titan-ops watch``: a long-running receiver of Alertmanager webhooks that opens, triages and notifies."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from titan_ops.errors import TitanOpsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch", help="receive Alertmanager webhooks: open incidents, triage, notify and escalate per the policy",
        description="Listen for Alertmanager webhooks (or plain JSON alerts) on HOST:PORT; every alert is kept "
                    "in <dir>/.watch/inbox before it is answered. SIGTERM or Ctrl-C stops it cleanly.")
    parser.add_argument("--policy", metavar="FILE", help="the incident policy (default $TITAN_OPS_INCIDENT_POLICY)")
    parser.add_argument("--dir", metavar="DIR", help="the incidents folder")
    parser.add_argument("--listen", default="127.0.0.1:9095", metavar="HOST:PORT",
                        help="where to listen (default 127.0.0.1:9095; port 0: any free port)")
    parser.add_argument("-i", "--inventory", metavar="INVENTORY", help="run the health check here for each new alert")
    parser.add_argument("--health-check", default="playbooks/health-check.yml", metavar="PLAYBOOK",
                        help="the health-check playbook (default playbooks/health-check.yml)")
    parser.add_argument("--health-check-every", metavar="DURATION",
                        help="also run the health check on this schedule (15m, 1h...) and open an incident when "
                             "it finds one")
    parser.add_argument("--tick", default="30s", metavar="DURATION",
                        help="how often the clock is checked for escalations and updates (default 30s)")
    parser.add_argument("--no-host-key-checking", action="store_true", help="for the health-check runs")
    parser.set_defaults(handler=_watch)


def _watch(args: argparse.Namespace) -> int:
    from titan_ops.incident.clock import parse_duration
    from titan_ops.incident.policy import default_policy_path, load_policy
    from titan_ops.incident.watch import Watcher, serve

    try:
        path = args.policy or default_policy_path()
        if path is None:
            raise TitanOpsError("no incident policy: give --policy FILE or set $TITAN_OPS_INCIDENT_POLICY")
        policy = load_policy(path)
        host, _, port = args.listen.rpartition(":")
        if not host or not port.isdigit():
            raise TitanOpsError(f"--listen takes HOST:PORT, not {args.listen!r}")
        every = parse_duration(args.health_check_every).seconds if args.health_check_every else None
        tick = max(parse_duration(args.tick).seconds, 1)
        watcher = Watcher(policy, args.dir, inventory=args.inventory, health_check=args.health_check,
                          health_check_every=every,
                          run_options={"host_key_checking": not args.no_host_key_checking},
                          log=lambda line: print(line, flush=True))
    except (TitanOpsError, OSError) as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    try:
        serve(watcher, host.strip("[]"), int(port), stop, tick_seconds=tick,
              ready=lambda bound_host, bound_port: print(f"listening on http://{bound_host}:{bound_port}", flush=True))
    except OSError as error:
        print(f"ERROR! cannot listen on {args.listen}: {error.strerror}", file=sys.stderr)
        return 5
    print("stopped", flush=True)
    return 0
