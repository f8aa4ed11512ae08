"""Hosts and groups, the links between them, and the orders Ansible gives them.

Sources fill an :class:`InventoryData` through its ``add_*``/``set_*``
methods; :meth:`InventoryData.finish` then does what Ansible does once every
source is read: groups without a parent become children of ``all``, hosts in
no group join ``ungrouped``, and every group gets its depth below ``all``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

LOCALHOST_NAMES = ("localhost", "127.0.0.1", "::1")
PRIORITY_VAR = "ansible_group_priority"
DEFAULT_PRIORITY = 1


class ModelError(ValueError):
    """A change that would break the inventory (a group that is its own ancestor, ...)."""


@dataclass(eq=False)
class Host:
    """One host: its inline variables and the groups it was put in directly."""

    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)


@dataclass(eq=False)
class Group:
    """One group: inline variables, direct hosts and child groups, each in the order added."""

    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    hosts: list[Host] = field(default_factory=list)
    children: list[Group] = field(default_factory=list)
    parents: list[Group] = field(default_factory=list)
    priority: int = DEFAULT_PRIORITY
    depth: int = 0

    def ancestors(self) -> list[Group]:
        """Every group above this one, nearest first."""
        found: list[Group] = []
        pending = list(self.parents)
        while pending:
            group = pending.pop(0)
            if group not in found:
                found.append(group)
                pending.extend(group.parents)
        return found


class InventoryData:
    """The groups and hosts of every source, built in the order the sources declare them."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.hosts: dict[str, Host] = {}
        self._host_order: dict[str, list[Host]] = {}
        self._implicit: dict[str, Host] = {}
        self.add_group("all")
        self.add_group("ungrouped")
        self.add_child("all", "ungrouped")

    def localhost(self, name: str) -> Host:
        """The host that ``name`` (one of LOCALHOST_NAMES) means when no host or group matches it.

        That is the inventory's first host named like the local machine, else
        an implicit ``localhost``: ``ansible_connection=local``, in no group,
        not even ``all``.
        """
        explicit = next((host for host in self.hosts.values() if host.name in LOCALHOST_NAMES), None)
        if explicit:
            return explicit
        if name not in self._implicit:
            self._implicit[name] = Host(name, {"ansible_connection": "local",
                                               "ansible_python_interpreter": sys.executable})
        return self._implicit[name]

    def add_group(self, name: str) -> Group:
        """The group called ``name``, created (last in order) when new."""
        if name not in self.groups:
            self.groups[name] = Group(name)
        return self.groups[name]

    def add_host(self, name: str, group: str | None = None, port: int | None = None) -> Host:
        """The host called ``name``, created when new (``port`` only counts then), put in ``group``."""
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = Host(name)
            if port is not None:
                host.vars["ansible_port"] = port
        if group is not None:
            target = self.add_group(group)
            if target not in host.groups:
                target.hosts.append(host)
                host.groups.append(target)
        return host

    def add_child(self, parent: str, child: str) -> None:
        """Make group ``child`` a child of group ``parent``; refuse a loop."""
        upper, lower = self.add_group(parent), self.add_group(child)
        if upper is lower:
            raise ModelError(f"group '{parent}' cannot be a child of itself")
        if lower.name == "all" or lower in upper.ancestors():
            raise ModelError(f"adding group '{child}' as a child of '{parent}' creates a recursive dependency loop")
        if lower not in upper.children:
            upper.children.append(lower)
            lower.parents.append(upper)

    def set_group_var(self, group: str, key: str, value: Any) -> None:
        """Set an inline group variable; ``ansible_group_priority`` sets the group's priority instead."""
        target = self.add_group(group)
        if key != PRIORITY_VAR:
            target.vars[key] = value
            return
        try:
            target.priority = int(value)
        except (TypeError, ValueError):
            raise ModelError(f"{PRIORITY_VAR} must be an integer, got {value!r}") from None

    def set_host_var(self, host: str, key: str, value: Any) -> None:
        """Set an inline host variable."""
        self.add_host(host).vars[key] = value

    def finish(self) -> None:
        """Link parentless groups to ``all``, fill ``ungrouped``, and compute group depths."""
        root, ungrouped = self.groups["all"], self.groups["ungrouped"]
        for group in list(self.groups.values()):
            if group is not root and not group.parents:
                self.add_child("all", group.name)
        grouped: set[str] = set()
        for host in self.hosts.values():
            others = [group for group in self.groups_of(host) if group not in (root, ungrouped)]
            if others and ungrouped in host.groups:
                grouped.add(host.name)
                host.groups.remove(ungrouped)
            elif not others and ungrouped not in host.groups:
                ungrouped.hosts.append(host)
                host.groups.append(ungrouped)
        ungrouped.hosts = [host for host in ungrouped.hosts if host.name not in grouped]
        depths: dict[str, int] = {}
        for group in self.groups.values():
            group.depth = self._depth(group, depths)
        self._host_order.clear()

    def _depth(self, group: Group, known: dict[str, int]) -> int:
        """The length of the longest path from ``all`` down to ``group``."""
        if group.name not in known:
            known[group.name] = 1 + max((self._depth(parent, known) for parent in group.parents), default=-1)
        return known[group.name]

    def groups_of(self, host: Host) -> list[Group]:
        """Every group ``host`` belongs to, directly or through a child group."""
        found: list[Group] = []
        for group in host.groups:
            for member in (group, *group.ancestors()):
                if member not in found:
                    found.append(member)
        return found

    def group_hosts(self, group: Group) -> list[Host]:
        """The hosts of ``group`` and its descendants, in Ansible's order.

        The group's own hosts come first, then those of its children, then
        of its grandchildren, and so on, level by level. (Where Ansible's
        order within a level of grandchildren is arbitrary, this keeps the
        order in which the groups were declared.)
        """
        if group.name not in self._host_order:
            ordered: list[Host] = []
            seen: set[str] = set()
            visited = {group.name}
            level = [group]
            while level:
                for member in level:
                    for host in member.hosts:
                        if host.name not in seen:
                            seen.add(host.name)
                            ordered.append(host)
                next_level: list[Group] = []
                for member in level:
                    for child in member.children:
                        if child.name not in visited:
                            visited.add(child.name)
                            next_level.append(child)
                level = next_level
            self._host_order[group.name] = ordered
        return self._host_order[group.name]
