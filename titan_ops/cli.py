"""The ``titan-ops`` command: thin subcommands over the library API."""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from titan_ops import __version__
from titan_ops.commands import docs, drill, incident, inventory, lab, run, triage, validate, watch
from titan_ops.signals import terminate_as_interrupt


COMMANDS: tuple[ModuleType, ...] = (run, validate, inventory, lab, docs, triage, incident, watch, drill)
"""The subcommands, in the order of ``--help``; each module registers the one named like it."""


def build_parser(commands: tuple[ModuleType, ...] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="titan-ops", description="Incident response playbooks over SSH.")
    parser.add_argument("--version", action="version", version=f"titan-ops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        command.register(subparsers)
    return parser


def _named_command(argv: list[str]) -> tuple[ModuleType, ...]:
    """The one subcommand ``argv`` starts with, else all of them: a run builds only its own options
    (argparse's parsers for every command cost a run tens of milliseconds of CPU)."""
    named = [command for command in COMMANDS if argv[:1] == [command.__name__.rpartition(".")[2]]]
    return tuple(named) or COMMANDS


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_named_command(argv))
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
