"""``add_host`` and ``group_by``: change the run's inventory (never the inventory files).

The modules only say what to change (``add_host`` and ``add_group`` in their result); the runner
makes the change when it records the result, so later plays of the run see the host or group.
"""

from __future__ import annotations

from typing import Any

from titan_ops.inventory.addresses import split_port
from titan_ops.modules.base import Decision, HostContext, Module

_NAME_KEYS = ("name", "host", "hostname")
_GROUP_KEYS = ("groups", "group", "groupname")
_NAMES_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _names(value: Any) -> list[str]:
    """A list of names from a list, or from a comma-separated string."""
    if isinstance(value, list):
        return [str(name).strip() for name in value if str(name).strip()]
    return [name.strip() for name in str(value).split(",") if name.strip()]


class AddHost(Module):
    """Add a host (and its groups and variables) to the run's inventory."""

    name = "add_host"
    description = ("Add a host to the run's in-memory inventory, in `groups`, with every other argument as a "
                   "host variable; later plays can target it. Runs once, not once per host.")
    on_controller = True
    once_per_batch = True
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "The host's name (`host:port` sets its port)."},
            "host": {"type": "string", "minLength": 1, "description": "Alias of name."},
            "hostname": {"type": "string", "minLength": 1, "description": "Alias of name."},
            "groups": {**_NAMES_SCHEMA,
                       "description": "Groups to put the host in (a list or a comma-separated string)."},
            "group": {**_NAMES_SCHEMA, "description": "Alias of groups."},
            "groupname": {**_NAMES_SCHEMA, "description": "Alias of groups."},
        },
        "oneOf": [{"required": [key]} for key in _NAME_KEYS],
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        name = str(next(args[key] for key in _NAME_KEYS if key in args))
        groups = next((_names(args[key]) for key in _GROUP_KEYS if key in args), [])
        variables = {key: value for key, value in args.items() if key not in _NAME_KEYS + _GROUP_KEYS}
        split = split_port(name)
        if split is not None and split[1] is not None:
            name = split[0]
            variables.setdefault("ansible_port", split[1])
        return Decision(False, {"add_host": {"host_name": name, "groups": groups, "host_vars": variables},
                                "changed": True})


class GroupBy(Module):
    """Put the host in a group named by ``key`` (created if new) for the rest of the run."""

    name = "group_by"
    description = ("Put each host in the group `key` names (created, under `parents`, if new) for the rest of "
                   "the run.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "key": {"type": "string", "minLength": 1, "description": "The group's name (usually templated)."},
            "parents": {**_NAMES_SCHEMA, "default": ["all"], "description": "The groups the new group goes under."},
        },
        "required": ["key"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        parents = _names(args.get("parents", ["all"])) or ["all"]
        return Decision(False, {"add_group": str(args["key"]), "parent_groups": parents, "changed": True})
