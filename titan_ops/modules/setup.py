"""``setup``: a small fact set gathered with one remote command."""

from __future__ import annotations

import base64
import shlex
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.packages.manager import FINDS_MANAGER

_PROBE = r"""
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
echo "fqdn=$(hostname -f 2>/dev/null || hostname)"
echo "system=$(uname -s)"
echo "kernel=$(uname -r)"
echo "architecture=$(uname -m)"
if [ -r /etc/os-release ]; then
  . /etc/os-release
  echo "distribution=${ID:-unknown}"; echo "distribution_version=${VERSION_ID:-}"
  echo "distribution_release=${VERSION_CODENAME:-}"; echo "os_family=${ID_LIKE:-$ID}"
fi
echo "processor_vcpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"
echo "memtotal_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
echo "memfree_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)"
echo "uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "user_id=$(id -un)"
""" + FINDS_MANAGER + r"""echo "pkg_mgr=$pkg_mgr"
echo "env=$(env -0 2>/dev/null | base64 2>/dev/null | tr -d '\n')"
[ -n "$py" ] || py=$(command -v python3 || command -v python)
if [ -n "$py" ]; then
  echo "python=$("$py" -c 'import sys; v = sys.version_info
print(v.major, v.minor, v.micro, v.releaselevel, v.serial, sys.implementation.name, sys.executable)' 2>/dev/null)"
fi
"""

_DISTRIBUTION_NAMES = {"debian": "Debian", "ubuntu": "Ubuntu", "centos": "CentOS", "rhel": "RedHat",
                       "fedora": "Fedora", "alpine": "Alpine", "rocky": "Rocky", "almalinux": "AlmaLinux"}


def parse_facts(output: str) -> dict[str, Any]:
    """Turn the probe's ``key=value`` lines into ``ansible_*`` facts."""
    raw = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    distribution = raw.get("distribution", "unknown")
    family = raw.get("os_family", distribution).split()[0] if raw.get("os_family") else distribution
    facts: dict[str, Any] = {
        "hostname": raw.get("hostname", "").split(".")[0],
        "nodename": raw.get("hostname", ""),
        "fqdn": raw.get("fqdn", ""),
        "system": raw.get("system", ""),
        "kernel": raw.get("kernel", ""),
        "architecture": raw.get("architecture", ""),
        "distribution": _DISTRIBUTION_NAMES.get(distribution, distribution.capitalize()),
        "distribution_version": raw.get("distribution_version", ""),
        "distribution_release": raw.get("distribution_release", ""),
        "os_family": _DISTRIBUTION_NAMES.get(family, family.capitalize()),
        "processor_vcpus": int(raw.get("processor_vcpus") or 0),
        "memtotal_mb": int(raw.get("memtotal_kb") or 0) // 1024,
        "memfree_mb": int(raw.get("memfree_kb") or 0) // 1024,
        "uptime_seconds": int(float(raw.get("uptime") or 0)),
        "user_id": raw.get("user_id", ""),
        "pkg_mgr": raw.get("pkg_mgr", "unknown"),
    }
    environment = _environment(raw.get("env", ""))
    if environment is not None:
        facts["env"] = environment
    python = _python(raw.get("python", ""))
    if python is not None:
        facts["python"] = python
    return {f"ansible_{key}": value for key, value in facts.items()}


def _environment(encoded: str) -> dict[str, str] | None:
    """The ``ansible_env`` fact (the environment the probe ran with, the task's ``environment`` included) from
    the probe's ``env=`` line: ``env -0`` in base64 (None when the host could not say)."""
    try:
        listing = base64.b64decode(encoded, validate=True).decode(errors="replace")
    except ValueError:
        return None
    if not listing:
        return None
    return dict(entry.split("=", 1) for entry in listing.split("\0") if "=" in entry)


def _python(line: str) -> dict[str, Any] | None:
    """The ``ansible_python`` fact from the probe's ``python=`` line (None when no Python answered)."""
    fields = line.split(" ", 6)
    if len(fields) < 7 or not all(field.isdigit() for field in (*fields[:3], fields[4])):
        return None
    major, minor, micro, level, serial = int(fields[0]), int(fields[1]), int(fields[2]), fields[3], int(fields[4])
    return {"executable": fields[6], "type": fields[5], "has_sslcontext": True,
            "version": {"major": major, "minor": minor, "micro": micro, "releaselevel": level, "serial": serial},
            "version_info": [major, minor, micro, level, serial]}


class Setup(Module):
    """Gather facts: hostname, OS, kernel, CPU count, memory and uptime."""

    name = "setup"
    description = ("Gather a small fact set (hostname, OS, kernel, CPUs, memory, uptime, the environment, and the "
                   "host's Python when it has one) with one command.")
    schema = {
        "type": "object",
        "properties": {
            "gather_subset": {"description": "Accepted for compatibility; the fact set is always the same.",
                              "type": ["string", "array"]},
        },
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> str:
        interpreter = host.connection_variable("ansible_python_interpreter")
        chosen = f"py={shlex.quote(interpreter)}\n" if isinstance(interpreter, str) else ""
        return host.run(chosen + _PROBE).stdout

    def decide(self, args: dict[str, Any], state: str, host: HostContext) -> Decision:
        facts = parse_facts(state)
        plain = {key.removeprefix("ansible_"): value for key, value in facts.items()}  # ansible_facts.kernel
        return Decision(False, {"ansible_facts": {**facts, "ansible_facts": plain}})


class GatherFacts(Setup):
    """Gather facts as a task (what a play's ``gather_facts`` does): the same fact set as setup."""

    name = "gather_facts"
    description = "Gather the facts `setup` gathers, as a task (what a play's `gather_facts: true` runs)."
    schema = {
        "type": "object",
        "properties": {
            **Setup.schema["properties"],
            "parallel": {"type": "boolean", "description": "Accepted for compatibility: there is one fact "
                                                           "module, so nothing to run in parallel."},
        },
        "additionalProperties": False,
    }
