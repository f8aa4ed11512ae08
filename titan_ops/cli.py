"""The ``titan-ops`` command: thin subcommands over the library API."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from titan_ops import __version__
from titan_ops.commands import docs, drill, incident, inventory, lab, run, triage, validate, watch
from titan_ops.errors import TitanOpsWarning
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


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Within: each of titan-ops's warnings (a damaged timeline line skipped) is one line on stderr,
    ``[WARNING]: message``, once however often it comes; other warnings are shown as Python shows them."""
    told: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", TitanOpsWarning)
        show_others = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if not issubclass(category, TitanOpsWarning):
                show_others(message, category, *args, **kwargs)
            elif str(message) not in told:
                told.add(str(message))
                print(f"[WARNING]: {message}", file=sys.stderr)

        warnings.showwarning = show
        yield


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
        with terminate_as_interrupt(), _warnings_as_lines():
            return args.handler(args)
    except KeyboardInterrupt:
        print("ERROR! interrupted", file=sys.stderr)
        return 99


if __name__ == "__main__":
    sys.exit(main())
