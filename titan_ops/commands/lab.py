"""``titan-ops lab up|status|down``: the local test bed of SSH hosts.

The lab is imported by the actions, so that other commands do not load it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from titan_ops.lab import Lab, LabError, titan


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lab", help="local SSH hosts for trying and testing",
        description="Local OpenSSH hosts on 127.0.0.1, each in its own mount namespace. "
                    "Directory: --dir, else $TITAN_OPS_LAB_DIR, else ~/.local/state/titan-ops/lab.",
    )
    actions = parser.add_subparsers(dest="lab_action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start hosts lab1..labN (reusing running ones) and write the inventory")
    up.add_argument("--hosts", type=int, default=3, metavar="N", help="number of hosts (default 3)")
    up.add_argument("--titan", action="store_true",
                    help="also the Titan fleet: PostgreSQL, Redis, nginx, Prometheus, Alertmanager, pm2 and "
                         "the stand-in services (docs/lab.md)")
    up.add_argument("--alert-webhook", metavar="URL",
                    help="with --titan: Alertmanager sends its notifications to this webhook ('' for nowhere)")
    status = actions.add_parser("status", help="show each host's port, pid and whether it runs")
    down = actions.add_parser("down", help="stop the hosts' sshd processes (removes no file)")
    for action in (up, status, down):
        action.add_argument("--dir", metavar="DIR", help="lab directory")
    up.set_defaults(handler=_up)
    status.set_defaults(handler=_status)
    down.set_defaults(handler=_down)


def _up(args: argparse.Namespace) -> int:
    from titan_ops import lab
    from titan_ops.lab import LabError, titan

    start = time.monotonic()
    try:
        if args.alert_webhook is not None and not args.titan:
            return _fail(LabError("--alert-webhook needs --titan"))
        fleet = titan.up(hosts=args.hosts, directory=args.dir, alert_webhook=args.alert_webhook) \
            if args.titan else None
        result = fleet.lab if fleet else lab.up(hosts=args.hosts, directory=args.dir)
    except LabError as error:
        return _fail(error)
    _print_table(result)
    if fleet:
        _print_services(fleet)
    print(f"{len(result.hosts)} hosts up in {time.monotonic() - start:.2f}s; inventory: {result.inventory_path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from titan_ops import lab
    from titan_ops.lab import LabError, titan

    try:
        result = lab.status(directory=args.dir)
    except LabError as error:
        return _fail(error)
    if not result.hosts:
        print(f"no lab in {result.directory}")
        return 1
    _print_table(result)
    fleet = titan.status(directory=args.dir)
    if fleet:
        _print_services(fleet)
    return 0 if all(host.alive for host in result.hosts) and (fleet is None or fleet.running) else 1


def _down(args: argparse.Namespace) -> int:
    from titan_ops import lab
    from titan_ops.lab import LabError, titan

    try:
        stopped = titan.down(directory=args.dir) + lab.down(directory=args.dir)
    except LabError as error:
        return _fail(error)
    print(f"stopped {' '.join(stopped)}" if stopped else "nothing to stop")
    return 0


def _print_table(result: Lab) -> None:
    rows = [("HOST", "PORT", "PID", "ALIVE")]
    rows += [(h.name, str(h.port), str(h.pid or "-"), "yes" if h.alive else "no") for h in result.hosts]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _print_services(fleet: titan.Fleet) -> None:
    rows = [("SERVICE", "HOST", "MANAGER", "PORT", "STATUS")]
    rows += [(s.name, s.host, s.manager, str(s.port), s.status) for s in fleet.services]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    print()
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _fail(error: LabError) -> int:
    print(f"ERROR! {error}", file=sys.stderr)
    return 1
