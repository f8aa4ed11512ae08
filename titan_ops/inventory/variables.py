"""A host's variables, merged with Ansible's precedence (lowest first):

1. inline variables of ``all``;
2. inline variables of the host's other groups, sorted by depth below
   ``all``, then ``ansible_group_priority``, then name (later wins);
3. ``group_vars/all`` of each source, in source order;
4. ``group_vars/<group>`` of each source, in source order, groups sorted as in 2;
5. the host's inline variables;
6. ``host_vars/<host>`` of each source, in source order.

Merging replaces whole top-level values. An inline ``ansible_group_priority``
orders its group (default 1) and is not passed on to the hosts; one in a
``group_vars`` file is an ordinary variable.
"""

from __future__ import annotations

from typing import Any

from titan_ops.inventory.model import DEFAULT_PRIORITY, PRIORITY_VAR, Group, Host, InventoryData
from titan_ops.inventory.vars_files import VarsFiles


def sort_groups(groups: list[Group]) -> list[Group]:
    """``groups`` from lowest to highest precedence."""
    return sorted(groups, key=lambda group: (group.depth, group.priority, group.name))


class Variables:
    """Computes the merged variables of hosts and groups."""

    def __init__(self, data: InventoryData, files: VarsFiles) -> None:
        self.data = data
        self.files = files

    def host_vars(self, host: Host) -> dict[str, Any]:
        """Everything ``host`` sees from the inventory (``ansible-inventory --host``)."""
        root = self.data.groups["all"]
        groups = sort_groups([group for group in self.data.groups_of(host) if group is not root])
        merged = dict(root.vars)
        for group in groups:
            merged.update(group.vars)
        for found in self.files.variables("group_vars", "all"):
            merged.update(found)
        per_group = [self.files.variables("group_vars", group.name) for group in groups]
        for index in range(len(self.files.directories)):
            for found in per_group:
                merged.update(found[index])
        merged.update(host.vars)
        for found in self.files.variables("host_vars", host.name):
            merged.update(found)
        return merged

    def group_vars(self, group: Group) -> dict[str, Any]:
        """The group's own variables: inline ones, then its ``group_vars`` files, then a set priority."""
        merged = dict(group.vars)
        for found in self.files.variables("group_vars", group.name):
            merged.update(found)
        if group.priority != DEFAULT_PRIORITY:
            merged[PRIORITY_VAR] = group.priority
        return merged
