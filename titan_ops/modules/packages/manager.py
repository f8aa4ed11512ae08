"""Which package manager a host has: Ansible's ``ansible_pkg_mgr`` fact, found with one shell probe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from titan_ops.modules.base import HostContext

FINDS_MANAGER = """
pkg_mgr=unknown
for pair in apt-get:apt dnf5:dnf5 dnf:dnf yum:yum zypper:zypper apk:apk pacman:pacman; do
  command -v "${pair%%:*}" >/dev/null 2>&1 && { pkg_mgr=${pair#*:}; break; }
done
"""
"""Shell lines that set ``$pkg_mgr`` to the first manager found (in the order Ansible's fact prefers them
on the systems titan-ops meets), or ``unknown``."""

DNF_MANAGERS = frozenset({"yum", "yum4", "dnf", "dnf4", "dnf5"})
"""The managers Ansible's ``dnf`` action hands to a dnf backend."""


def known_manager(variables: Mapping[str, Any]) -> str | None:
    """The package manager the host's facts already name (``ansible_facts.pkg_mgr``), if any."""
    facts = variables.get("ansible_facts")
    named = facts.get("pkg_mgr") if isinstance(facts, Mapping) else None
    return named if isinstance(named, str) and named else None


def probe_manager(host: HostContext) -> str:
    """The host's package manager (``apt``, ``dnf``, ..., or ``unknown``), asked of the host."""
    return host.run(FINDS_MANAGER + 'echo "$pkg_mgr"').stdout.strip() or "unknown"
