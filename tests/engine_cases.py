"""Playbook cases with what ansible-core 2.19 does with them, for the engine's tests on local hosts.

A case gives a playbook (and the files next to it), the options it runs with, and what ansible-playbook
gives: the exit code, the recap, and each host's ``debug`` messages in order. The fast tests check
titan-ops against them; the oracle test checks that ansible-core still gives exactly them.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

import titan_ops
from tests.oracle import QUIET_ENV, require_oracle

ORACLE_PYTHON = "/opt/titan-ops-oracle/bin/python"
TRACE = {"ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "oracle_callback"),
         "ANSIBLE_STDOUT_CALLBACK": "titan_trace"}
RECAP_KEYS = ("ok", "changed", "unreachable", "failures", "skipped", "rescued", "ignored")


@dataclass(frozen=True)
class Case:
    playbook: str
    rc: int
    recap: dict[str, str]
    """Per host: ``"ok changed unreachable failed skipped rescued ignored"`` counts."""
    messages: dict[str, list[str]]
    """Per host: the ``msg`` of each ``debug`` result, in order."""
    files: dict[str, str] = field(default_factory=dict)
    extra_vars: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    limit: str | None = None
    force_handlers: bool = False
    hosts: dict[str, dict[str, Any]] | None = None
    """Inventory hosts and their variables (default: h1, h2, h3; the group ``web`` is h1 and h2)."""


def inventory_document(hosts: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    local = {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}
    hosts = hosts if hosts is not None else {"h1": {}, "h2": {}, "h3": {}}
    web = {name: None for name in ("h1", "h2") if name in hosts}
    return {"all": {"hosts": {name: {**local, **variables} for name, variables in hosts.items()},
                    "children": {"web": {"hosts": web}} if web else {}}}


def write_case(case: Case, directory: Path) -> tuple[Path, Path]:
    """The case's playbook, files and inventory under ``directory``: (playbook, inventory)."""
    for name, text in case.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    playbook = directory / "playbook.yml"
    playbook.write_text(textwrap.dedent(case.playbook))
    inventory = directory / "inventory.yml"
    inventory.write_text(yaml.safe_dump(inventory_document(case.hosts)))
    return playbook, inventory


def titan_outcome(case: Case, directory: Path) -> tuple[int, dict[str, str], dict[str, list[str]]]:
    playbook, inventory = write_case(case, directory)
    result = titan_ops.run(playbook, inventory, extra_vars=dict(case.extra_vars), tags=case.tags, limit=case.limit,
                          force_handlers=case.force_handlers)
    recap = {host: " ".join(str(value) for value in (s.ok, s.changed, s.unreachable, s.failed, s.skipped,
                                                     s.rescued, s.ignored))
             for host, s in result.stats.items()}
    messages: dict[str, list[str]] = {}
    for host in result.stats:
        messages[host] = [str(r.result.get("msg")) for r in result.host_results(host)
                          if r.module == "debug" and r.status.value in ("ok", "changed")]
    return result.exit_code, recap, {host: found for host, found in messages.items() if found}


def ansible_outcome(case: Case, directory: Path) -> tuple[int, dict[str, str], dict[str, list[str]]]:
    playbook, inventory = write_case(case, directory)
    arguments = [str(require_oracle()), "-i", str(inventory), str(playbook)]
    for key, value in case.extra_vars.items():
        arguments += ["-e", json.dumps({key: value})]
    for tag in case.tags:
        arguments += ["--tags", tag]
    if case.limit:
        arguments += ["--limit", case.limit]
    if case.force_handlers:
        arguments.append("--force-handlers")
    done = subprocess.run(arguments, capture_output=True, text=True, timeout=300, cwd=directory,
                          env={**os.environ, **QUIET_ENV, **TRACE})
    document = json.loads(done.stdout[done.stdout.index("{"):])
    recap = {host: " ".join(str(stats[key]) for key in RECAP_KEYS) for host, stats in document["stats"].items()}
    messages: dict[str, list[str]] = {}
    for event in document["events"]:
        if event["action"] in ("debug", "ansible.builtin.debug") and event["status"] in ("ok", "changed"):
            messages.setdefault(event["host"], []).append(str(event["msg"]))
    return done.returncode, recap, messages


def case_tests(cases: dict[str, Case]) -> tuple[Any, Any]:
    """The two tests of a module's ``cases``: titan-ops gives each case's outcome (fast, on local hosts), and
    ansible-core still gives exactly it (oracle). A test module binds them to its own ``test_`` names."""

    @pytest.mark.parametrize("name", cases)
    def titan_ops_runs_it_as_ansible(name: str, tmp_path: Path) -> None:
        case = cases[name]
        assert titan_outcome(case, tmp_path) == (case.rc, case.recap, case.messages)

    @pytest.mark.oracle
    @pytest.mark.parametrize("name", cases)
    def ansible_gives_the_same(name: str, tmp_path: Path) -> None:
        case = cases[name]
        assert ansible_outcome(case, tmp_path) == (case.rc, case.recap, case.messages)

    return titan_ops_runs_it_as_ansible, ansible_gives_the_same
