"""``set_stats``: custom statistics of the run, per host or for the whole run, shown after the recap.

The module only checks and reports what it was given (``ansible_stats``); the recorder adds it to the
run's custom stats (:meth:`titan_ops.engine.results.RunResult.add_custom_stats`).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SetStats(Module):
    """Set or add to custom stats of the run (Ansible's ``set_stats``)."""

    name = "set_stats"
    description = ("Set or add to custom statistics of the run, per host or for the whole run. They are in the "
                   "run's JSON result (``custom_stats`` per host, ``global_custom_stats``) and, with the setting "
                   "``show_custom_stats`` (``ANSIBLE_SHOW_CUSTOM_STATS``), printed after the PLAY RECAP as "
                   "ansible-playbook prints them.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "data": {"type": "object",
                     "description": "The stats: each key a stat's name (a variable name), each value its value."},
            "per_host": {"type": "boolean", "default": False,
                         "description": "The stats are the host's (false: the whole run's)."},
            "aggregate": {"type": "boolean", "default": True,
                          "description": "A value is added to the stat's (numbers and strings add, lists "
                                         "extend, mappings merge; a value of another type is ignored); false: "
                                         "it replaces it."},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        data = args.get("data") or {}
        for name in data:
            if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name):
                return Decision(False, {"msg": f"The variable name '{name}' is not valid. Variables must start "
                                               "with a letter or underscore character, and contain only letters, "
                                               "numbers and underscores."}, failed=True)
        return Decision(False, {"ansible_stats": {"data": dict(data), "per_host": args.get("per_host", False),
                                                  "aggregate": args.get("aggregate", True)}})
