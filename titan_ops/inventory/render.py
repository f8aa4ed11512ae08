"""The views ansible-inventory prints: ``--list`` (JSON and YAML) and ``--graph``."""

from __future__ import annotations

from typing import Any

from titan_ops.inventory.model import Group, Host, InventoryData
from titan_ops.inventory.values import to_json, to_yaml
from titan_ops.inventory.variables import Variables


def list_json(data: InventoryData, variables: Variables, hosts: list[Host]) -> dict[str, Any]:
    """``ansible-inventory --list``: each group's direct hosts and children, and ``_meta.hostvars``.

    Only ``hosts`` (the inventory's, or those a limit kept) are shown; a
    group left with neither hosts nor children is left out, but still named
    among its parents' children.
    """
    available = {host.name for host in hosts}
    result: dict[str, Any] = {}
    seen: set[str] = set()

    def visit(group: Group) -> None:
        entry: dict[str, Any] = {}
        members = [host.name for host in group.hosts if host.name in available]
        if members and group.name != "all":
            entry["hosts"] = members
        if group.children:
            entry["children"] = [child.name for child in group.children]
        for child in group.children:
            if child.name not in seen:
                seen.add(child.name)
                visit(child)
        if entry:
            result[group.name] = entry

    visit(data.groups["all"])
    hostvars = {}
    for host in hosts:
        merged = variables.host_vars(host)
        if merged:
            hostvars[host.name] = to_json(merged)
    result["_meta"] = {"hostvars": hostvars, "profile": "inventory_legacy"}
    return result


def list_yaml(data: InventoryData, variables: Variables, hosts: list[Host]) -> dict[str, Any]:
    """``ansible-inventory --list --yaml``: the tree under ``all``, each host's variables shown once."""
    available = {host.name for host in hosts}
    seen_groups: set[str] = set()
    seen_hosts: set[str] = set()

    def visit(group: Group) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        children: dict[str, Any] = {}
        for child in group.children:
            if child.name in seen_groups:
                children[child.name] = {}
            else:
                seen_groups.add(child.name)
                entry_of_child = visit(child)
                if entry_of_child:
                    children[child.name] = entry_of_child
        if children:
            entry["children"] = children
        members: dict[str, Any] = {}
        for host in group.hosts if group.name != "all" else []:
            if host.name in available:
                members[host.name] = {} if host.name in seen_hosts else to_yaml(variables.host_vars(host))
                seen_hosts.add(host.name)
        if members:
            entry["hosts"] = members
        return entry

    return {"all": visit(data.groups["all"])}


def graph(group: Group, variables: Variables, with_vars: bool) -> str:
    """``ansible-inventory --graph [GROUP] [--vars]``: the tree below ``group``."""
    lines: list[str] = []

    def line(text: str, depth: int) -> None:
        lines.append("  |" * depth + "--" + text if depth else text)

    def show_vars(values: dict[str, Any], depth: int) -> None:
        for key, value in sorted(values.items(), key=lambda item: str(item[0])):
            line(f"{{{key} = {value}}}", depth)

    def visit(node: Group, depth: int) -> None:
        line(f"@{node.name}:", depth)
        for child in node.children:
            visit(child, depth + 1)
        if node.name != "all":
            for host in node.hosts:
                line(host.name, depth + 1)
                if with_vars:
                    show_vars(variables.host_vars(host), depth + 2)
        if with_vars:
            show_vars(variables.group_vars(node), depth + 1)

    visit(group, 0)
    return "\n".join(lines)
