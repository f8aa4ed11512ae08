"""ansible-core as the inventory tests' oracle.

The oracle lives in its own venv (``$TITAN_OPS_ORACLE_BIN``, default
/opt/titan-ops-oracle/bin); the tests fail, not skip, when it is missing.
Commands run in batches through ``oracle_driver.py`` under the oracle's
Python: one interpreter start, each command in a forked child.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ORACLE_BIN = Path(os.environ.get("TITAN_OPS_ORACLE_BIN", "/opt/titan-ops-oracle/bin"))
DRIVER = Path(__file__).with_name("oracle_driver.py")
QUIET_ENV = {
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_FORCE_COLOR": "0",
    "ANSIBLE_DEPRECATION_WARNINGS": "False",
    "ANSIBLE_LOCALHOST_WARNING": "False",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
    "ANSIBLE_SYSTEM_WARNINGS": "False",
    "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
    "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
    "ANSIBLE_RETRY_FILES_ENABLED": "False",
    "ANSIBLE_GATHERING": "explicit",
}


class Outcome(NamedTuple):
    """One oracle command's exit code and output."""

    rc: int
    out: str
    err: str


def oracle_python() -> str:
    """The Python of the ansible-core venv; fails the test when the oracle is missing."""
    command = ORACLE_BIN / "ansible-inventory"
    if not command.exists():
        pytest.fail(f"the ansible-core oracle is missing: no {command} (set TITAN_OPS_ORACLE_BIN)")
    python = ORACLE_BIN / "python"
    if python.exists():
        return str(python)
    shebang = command.read_text(errors="replace").splitlines()[0]
    return shebang[2:].strip().split()[0]


def run(commands: list[list[str]], cwd: Path | None = None) -> list[Outcome]:
    """Run ``ansible``/``ansible-inventory`` commands (argv lists) and return their outcomes, in order."""
    python = oracle_python()
    with tempfile.TemporaryDirectory(prefix="titan-ops-oracle-") as home:
        config = Path(home, "ansible.cfg")
        config.write_text("[defaults]\n")
        env = {**os.environ, **QUIET_ENV, "ANSIBLE_CONFIG": str(config), "ANSIBLE_HOME": home,
               "ANSIBLE_LOCAL_TEMP": str(Path(home, "tmp")), "HOME": home}
        done = subprocess.run([python, str(DRIVER)], input=json.dumps(commands), capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=600)
    assert done.returncode == 0, f"oracle driver failed: {done.stderr[-2000:]}"
    return [Outcome(**result) for result in json.loads(done.stdout)]


def listed_hosts(outcome: Outcome) -> list[str]:
    """The host names ``ansible PATTERN --list-hosts`` printed ([] when it found none to target)."""
    if outcome.rc != 0:
        assert "no hosts to target" in outcome.err, outcome.err
        return []
    lines = outcome.out.splitlines()
    start = next(index for index, line in enumerate(lines) if re.match(r"\s*hosts \(\d+\):", line))
    return [line.strip() for line in lines[start + 1:] if line.strip()]


def json_out(outcome: Outcome) -> Any:
    """The JSON an ansible-inventory command printed (asserting it succeeded)."""
    assert outcome.rc == 0, outcome.err
    return json.loads(outcome.out)


def debug_values(outcome: Outcome, variable: str) -> dict[str, Any]:
    """``{host: value}`` from ``ansible ... -m debug -a var=VARIABLE -o``."""
    assert outcome.rc == 0, outcome.err
    values = {}
    for line in outcome.out.splitlines():
        host, _, rest = line.partition(" | SUCCESS => ")
        if rest:
            values[host] = json.loads(rest)[variable]
    return values


def order_is_defined(listing: dict[str, Any]) -> bool:
    """Whether Ansible's host order is fixed for every group of this ``--list`` output.

    Ansible walks a group's descendants level by level, but takes the groups
    of one level in an arbitrary (per process) order: the order of hosts is
    only defined when, at every level below the children, at most one group
    brings in new groups.
    """
    children = {name: entry.get("children", []) for name, entry in listing.items() if name != "_meta"}
    for start in children:
        seen = {start, *children[start]}
        level = list(dict.fromkeys(children[start]))
        while level:
            contributors = 0
            next_level: list[str] = []
            for group in level:
                new = [child for child in children.get(group, []) if child not in seen]
                contributors += bool(new)
                next_level.extend(new)
            if contributors > 1:
                return False
            seen.update(next_level)
            level = list(dict.fromkeys(next_level))
    return True
