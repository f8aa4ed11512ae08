"""ansible-core as a test oracle: run ansible-playbook on the same lab hosts.

ansible-core lives in its own venv (scripts/setup.sh --test installs it);
tests fail, not skip, when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

ORACLE_BIN = Path(os.environ.get("TITAN_OPS_ORACLE_BIN", "/opt/titan-ops-oracle/bin"))

QUIET_ENV = {
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_DEPRECATION_WARNINGS": "0",
    "ANSIBLE_LOCALHOST_WARNING": "0",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    "ANSIBLE_RETRY_FILES_ENABLED": "0",
    "ANSIBLE_PIPELINING": "1",
    "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
    "ANSIBLE_STDOUT_CALLBACK": "default",
}

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                         r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failures>\d+)\s+skipped=(?P<skipped>\d+)\s+"
                         r"rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)", re.MULTILINE)


def require_oracle() -> Path:
    playbook = ORACLE_BIN / "ansible-playbook"
    assert playbook.exists(), f"the ansible-core oracle is missing at {playbook}: run scripts/setup.sh --test"
    return playbook


def oracle_inventory(lab_inventory: Path, destination: Path) -> Path:
    """The lab inventory with what ansible's ssh needs to verify the lab's host keys."""
    data = yaml.safe_load(Path(lab_inventory).read_text())

    def visit(group: dict[str, Any]) -> None:
        for host_vars in (group.get("hosts") or {}).values():
            known = host_vars.get("ansible_ssh_known_hosts_file")
            if known:
                host_vars["ansible_ssh_common_args"] = (f"-o UserKnownHostsFile={known} "
                                                        "-o StrictHostKeyChecking=yes -o ControlMaster=no")
        for child in (group.get("children") or {}).values():
            visit(child or {})

    visit(data["all"])
    destination.write_text(yaml.safe_dump(data))
    return destination


def run_ansible(playbook: Path, inventory: Path, *args: str, timeout: float = 300,
                stopped: bool = False) -> tuple[int, dict[str, Any] | None]:
    """Run ansible-playbook; return (exit code, per-host PLAY RECAP counters). With ``stopped``, a run that
    an error stopped before its recap (exit code 1, an ``[ERROR]`` line) gives (1, None)."""
    binary = require_oracle()
    env = {**os.environ, **QUIET_ENV}
    done = subprocess.run([str(binary), "-i", str(inventory), str(playbook), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if stopped and "PLAY RECAP" not in done.stdout and done.returncode == 1 and "[ERROR]" in done.stdout + done.stderr:
        return done.returncode, None
    if "PLAY RECAP" not in done.stdout:
        raise AssertionError(f"ansible-playbook printed no recap (rc={done.returncode}):\n{done.stdout}\n{done.stderr}")
    recap = done.stdout.split("PLAY RECAP", 1)[1]
    stats = {match["host"]: {key: int(value) for key, value in match.groupdict().items() if key != "host"}
             for match in _RECAP_LINE.finditer(recap)}
    return done.returncode, stats


RECORDER_ENV = {"ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "oracle_callback"),
                "ANSIBLE_STDOUT_CALLBACK": "titan_record"}
"""The environment that makes ansible-playbook print its record (tests/oracle_callback) at the end."""


def ansible_record(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                   timeout: float = 300) -> dict[str, Any]:
    """``ansible-playbook args``' record: ``plays`` -> ``tasks`` -> ``hosts`` -> result, and ``stats``."""
    done = subprocess.run([str(require_oracle()), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **QUIET_ENV, **RECORDER_ENV, **(env or {})})
    assert '{"plays"' in done.stdout, done.stdout + done.stderr
    return json.loads(done.stdout[done.stdout.index('{"plays"'):])


def titan_stats(result: Any) -> dict[str, dict[str, int]]:
    """titan-ops' stats in the JSON callback's key names."""
    return {host: {"ok": s.ok, "changed": s.changed, "unreachable": s.unreachable, "failures": s.failed,
                   "skipped": s.skipped, "rescued": s.rescued, "ignored": s.ignored}
            for host, s in result.stats.items()}
