"""Which package manager a host has: Ansible's ``ansible_pkg_mgr`` fact, found with one shell probe."""

from __future__ import annotations

from collections.abc import Mapping

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


def host_manager(host: HostContext) -> str:
    """The host's package manager (``apt``, ``dnf``, ..., or ``unknown``): the one its facts name
    (``ansible_facts.pkg_mgr``), else asked of the host."""
    facts = host.variables.get("ansible_facts")
    named = facts.get("pkg_mgr") if isinstance(facts, Mapping) else None
    if isinstance(named, str) and named:
        return named
    return host.run(FINDS_MANAGER + 'echo "$pkg_mgr"').stdout.strip() or "unknown"
