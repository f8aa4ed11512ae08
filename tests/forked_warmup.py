"""Imported by the fork server of tests/forked_cli.py: the shipped runbooks loaded once, in the server.

titan_ops.templating keeps the code it compiled from a template's text for the whole process, so the commands
forked from the server find the shipped runbooks' templates compiled already (half of the CPU time of a
command that loads a runbook, as each of the fuzzer's mutants of them does), as a long-lived titan-ops process
would. Nothing else is kept: each command still loads, checks and plans its files itself.
"""

from __future__ import annotations

from pathlib import Path

from titan_ops import load_playbook

RUNBOOKS = Path(__file__).resolve().parent.parent / "playbooks"


def _load_shipped_runbooks() -> None:
    for path in sorted(RUNBOOKS.glob("*.yml")):
        try:
            load_playbook(str(path))
        except Exception:  # noqa: BLE001 - not warmed up; the tests of the runbooks say why it does not load
            continue


_load_shipped_runbooks()
