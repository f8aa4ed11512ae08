"""``setup``: a small fact set gathered with one remote command."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

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
    }
    return {f"ansible_{key}": value for key, value in facts.items()}


class Setup(Module):
    """Gather facts: hostname, OS, kernel, CPU count, memory and uptime."""

    name = "setup"
    description = "Gather a small fact set (hostname, OS, kernel, CPUs, memory, uptime) with one command."
    schema = {
        "type": "object",
        "properties": {
            "gather_subset": {"description": "Accepted for compatibility; the fact set is always the same.",
                              "type": ["string", "array"]},
        },
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> str:
        result = host.run(_PROBE)
        return result.stdout

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
