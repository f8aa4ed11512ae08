"""The ``titan-ops`` command: thin subcommands over the library API."""

from __future__ import annotations

import argparse
import sys

from titan_ops import __version__
from titan_ops.commands import docs, drill, incident, inventory, lab, run, triage, validate, watch
from titan_ops.signals import terminate_as_interrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="titan-ops", description="Incident response playbooks over SSH.")
    parser.add_argument("--version", action="version", version=f"titan-ops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (run, validate, inventory, lab, docs, triage, incident, watch, drill):
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 5 if exit_.code not in (0, None) else 0
    if not getattr(args, "handler", None):
        parser.print_help()
        return 5
    try:
        with terminate_as_interrupt():
            return args.handler(args)
    except KeyboardInterrupt:
        print("ERROR! interrupted", file=sys.stderr)
        return 99


if __name__ == "__main__":
    sys.exit(main())
