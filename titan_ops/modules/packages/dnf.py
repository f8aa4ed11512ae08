"""``dnf``: what Ansible's dnf action does on a host: find its package manager, and fail as Ansible
does where it is not dnf. titan-ops installs no packages with dnf: on a dnf host the task fails
saying so, never pretending to have done anything."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.packages.manager import DNF_MANAGERS, host_manager

_NOT_DNF = ("Could not detect which major revision of dnf is in use, which is required to determine module "
            "backend.",
            "You should manually specify use_backend to tell the module whether to use the dnf4 or dnf5 backend})")
"""Ansible's message (two strings, its typo included) when the host's package manager is not dnf."""


class Dnf(Module):
    """Packages with dnf: refused on the host when it runs, as Ansible refuses a host without dnf."""

    name = "dnf"
    description = ("Fails as Ansible's dnf does on a host whose package manager is not dnf (reporting the "
                   "`pkg_mgr` fact); on a dnf host it fails saying that titan-ops does not manage packages with "
                   "dnf. Use `apt` or `package` on Debian hosts.")
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": ["string", "array"], "items": {"type": "string"}, "description": "The packages."},
            "pkg": {"type": ["string", "array"], "items": {"type": "string"}, "description": "Alias of name."},
            "state": {"enum": ["present", "installed", "latest", "absent", "removed"],
                      "description": "What should hold of the packages."},
            "update_cache": {"type": "boolean", "description": "Refresh the metadata first."},
            "use_backend": {"enum": ["auto", "yum", "yum4", "dnf", "dnf4", "dnf5"], "default": "auto",
                            "description": "Which dnf to use (default: the host's package manager)."},
        },
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> str:
        backend = args.get("use_backend", "auto")
        if backend != "auto":
            return backend
        return host_manager(host)

    def decide(self, args: dict[str, Any], state: str, host: HostContext) -> Decision:
        if state not in DNF_MANAGERS:
            return Decision(False, {"msg": list(_NOT_DNF), "ansible_facts": {"pkg_mgr": state}}, failed=True)
        return Decision(False, {"msg": f"titan-ops does not manage packages with {state}: only with apt"},
                        failed=True)
