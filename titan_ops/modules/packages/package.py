"""``package``: the package module of the host's package manager (Ansible's generic package action)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from titan_ops.modules import lookup
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.packages.apt import Apt
from titan_ops.modules.packages.manager import DNF_MANAGERS, host_manager


class Package(Module):
    """Install or remove packages with the module of the host's package manager (``apt`` here)."""

    name = "package"
    description = ("Install or remove packages with the host's package manager's module: `use`, else the "
                   "variable `ansible_package_use`, else the `pkg_mgr` fact, else asked of the host. titan-ops "
                   "has `apt`; `dnf` hosts fail as the `dnf` module does.")
    schema = {
        "type": "object",
        "properties": {
            **Apt.schema["properties"],
            "use": {"type": "string", "default": "auto",
                    "description": "The package manager's module (`auto`: the host's)."},
        },
        "anyOf": Apt.schema["anyOf"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Any:
        manager = self._manager(host, args)
        backend = lookup("dnf" if manager in DNF_MANAGERS else manager)
        if backend is None or backend.name not in ("apt", "dnf"):
            return manager
        backend_args = {key: value for key, value in args.items() if key != "use"}
        return backend, backend_args, backend.inspect(host, backend_args)

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        if isinstance(state, str):
            return Decision(False, {"msg": f'Could not find a matching action for the "{state}" package manager.'},
                            failed=True)
        backend, backend_args, backend_state = state
        decision = backend.decide(backend_args, backend_state, host)
        decision.plan = (backend, backend_args, decision.plan)
        return decision

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        backend, backend_args, plan = decision.plan
        return backend.act(host, backend_args, replace(decision, plan=plan))

    @staticmethod
    def _manager(host: HostContext, args: dict[str, Any]) -> str:
        use = args.get("use", "auto")
        if use != "auto":
            return use
        configured = host.variables.get("ansible_package_use")
        if isinstance(configured, str) and configured:
            return configured
        return host_manager(host)
