"""titan-ops: Ansible-style incident response playbooks over SSH.

The public API::

    import titan_ops
    inventory = titan_ops.load_inventory("inventory/lab.yml")
    result = titan_ops.run("playbooks/health-check.yml", inventory)
    print(result.ok, result.failed_hosts)
"""

from titan_ops.api import run
from titan_ops.engine.events import Event, EventBus
from titan_ops.engine.options import RunOptions
from titan_ops.engine.results import HostStats, PlayResult, RunResult, Status, TaskResult
from titan_ops.errors import (
    HostUnreachable,
    InventoryError,
    ModuleError,
    PlaybookError,
    TemplateError,
    TitanOpsError,
)
from titan_ops.inventory import Inventory, load_inventory
from titan_ops.output.console import ConsoleRenderer
from titan_ops.playbook import Playbook, load_playbook

__version__ = "0.1.0"

__all__ = [
    "ConsoleRenderer", "Event", "EventBus", "HostStats", "HostUnreachable", "Inventory", "InventoryError",
    "ModuleError", "PlayResult", "Playbook", "PlaybookError", "RunOptions", "RunResult", "Status",
    "TaskResult", "TemplateError", "TitanOpsError", "load_inventory", "load_playbook", "run",
]
