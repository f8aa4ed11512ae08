"""titan-ops: Ansible-style incident response playbooks over SSH.

The public API::

    import titan_ops
    inventory = titan_ops.load_inventory("inventory/lab.yml")
    result = titan_ops.run("playbooks/health-check.yml", inventory)
    print(result.ok, result.failed_hosts)

The names below the errors are imported on first use, so that importing a
part of titan-ops (``titan_ops.cli``, ``titan_ops.lab``) does not load the
engine.
"""

from __future__ import annotations

import importlib
from typing import Any

from titan_ops.errors import (
    HostUnreachable,
    InventoryError,
    ModuleError,
    PlaybookError,
    TemplateError,
    TitanOpsError,
)

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "run": "titan_ops.api",
    "Event": "titan_ops.engine.events",
    "EventBus": "titan_ops.engine.events",
    "RunOptions": "titan_ops.engine.options",
    "HostStats": "titan_ops.engine.results",
    "PlayResult": "titan_ops.engine.results",
    "RunResult": "titan_ops.engine.results",
    "Status": "titan_ops.engine.results",
    "TaskResult": "titan_ops.engine.results",
    "Inventory": "titan_ops.inventory",
    "load_inventory": "titan_ops.inventory",
    "ConsoleRenderer": "titan_ops.output.console",
    "Playbook": "titan_ops.playbook",
    "load_playbook": "titan_ops.playbook",
}
"""Public name -> the module it is imported from on first use."""


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ConsoleRenderer", "Event", "EventBus", "HostStats", "HostUnreachable", "Inventory", "InventoryError",
    "ModuleError", "PlayResult", "Playbook", "PlaybookError", "RunOptions", "RunResult", "Status",
    "TaskResult", "TemplateError", "TitanOpsError", "load_inventory", "load_playbook", "run",
]
