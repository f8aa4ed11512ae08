"""Lookups that run a shell command on the controller: ``pipe`` (its output) and ``lines`` (its lines).

The command runs in the playbook's folder, with the controller's environment.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

from titan_ops.lookups.context import LookupContext, LookupFailed


def pipe(terms: list[Any], context: LookupContext) -> list[Any]:
    """Each command's standard output, trailing whitespace stripped."""
    return [_run(str(command), context).rstrip() for command in terms]


def lines(terms: list[Any], context: LookupContext) -> list[Any]:
    """Every line each command prints."""
    return [line for command in terms for line in _run(str(command), context).splitlines()]


def _run(command: str, context: LookupContext) -> str:
    try:
        done = subprocess.run(command, shell=True, cwd=context.base_dir(), capture_output=True,
                              stdin=subprocess.DEVNULL)
    except OSError as error:
        raise LookupFailed(f"could not run {command!r}: {error.strerror}") from None
    if done.returncode != 0:
        raise LookupFailed(f"the command {command!r} returned {done.returncode}: "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode(errors="replace")


FUNCTIONS: dict[str, Callable[..., list[Any]]] = {"pipe": pipe, "lines": lines}
