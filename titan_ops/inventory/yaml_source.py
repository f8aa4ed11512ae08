"""YAML (and JSON) inventory files, read as Ansible's yaml plugin reads them.

The document maps group names to ``{hosts: {name: vars}, vars: {...},
children: {group: ...}}``; every top-level key is a group (``all`` among
them). Host names may hold ranges and a ``:port``.
"""

from __future__ import annotations

from typing import Any

from titan_ops.errors import InventoryError, Location
from titan_ops.inventory.addresses import split_port
from titan_ops.inventory.changes import Changes
from titan_ops.inventory.ranges import RangeError, expand_host_range
from titan_ops.inventory.yaml_loading import locate

_SECTIONS = ("vars", "children", "hosts")


class UnsupportedSource(InventoryError):
    """A YAML file for an inventory plugin (``plugin: NAME``), which titan-ops does not run."""


def parse_yaml_inventory(data: Any, text: str, file: str, warnings: list[str]) -> Changes:
    """The edits that the inventory ``data`` (parsed from ``text`` in ``file``) makes.

    Skipped entries are reported in ``warnings``, as Ansible warns of them.
    """
    if not isinstance(data, dict):
        raise InventoryError(f"YAML inventory has invalid structure, it should be a mapping, "
                             f"got: {type(data).__name__}", Location(file, 1))
    if "plugin" in data:
        raise UnsupportedSource(f"inventory plugins are not supported (plugin: {data['plugin']})",
                                locate(text, file, ("plugin",)))
    return _YamlParser(text, file, warnings).parse(data)


class _YamlParser:
    def __init__(self, text: str, file: str, warnings: list[str]) -> None:
        self.text, self.file, self.warnings = text, file, warnings
        self.changes = Changes(file, self.where)

    def where(self, path: tuple[Any, ...]) -> Location:
        return locate(self.text, self.file, path)

    def fail(self, message: str, path: tuple[Any, ...]) -> InventoryError:
        return InventoryError(message, self.where(path))

    def parse(self, data: dict[Any, Any]) -> Changes:
        for name, body in data.items():
            self.group(name, body, (name,))
        return self.changes

    def group(self, name: Any, body: Any, path: tuple[Any, ...]) -> None:
        """Read one group (a top-level one that is no group definition is skipped, with a warning)."""
        if not isinstance(name, str):
            raise self.fail(f"invalid group name {name!r}: group names must be strings", path)
        if body is not None and not isinstance(body, dict):
            if len(path) > 1:
                raise self.fail(f"child group '{name}' is not a valid group definition (a mapping or nothing)",
                                path)
            self.warnings.append(f"Skipping '{name}' as this is not a valid group definition")
            return
        self.changes.add_group(path, name)
        for key, value in (body or {}).items():
            if key not in _SECTIONS:
                self.warnings.append(f"Skipping unexpected key '{key}' in group '{name}', "
                                     "only 'vars', 'children' and 'hosts' are valid")
                continue
            if value is None:
                continue
            if not isinstance(value, dict):
                raise self.fail(f"invalid '{key}' entry for group '{name}': it must be a mapping, "
                                f"not a {type(value).__name__}", (*path, key))
            if key == "vars":
                for var, setting in value.items():
                    self.changes.set_group_var((*path, key, var), name, var, setting)
            elif key == "children":
                for child, child_body in value.items():
                    self.group(child, child_body, (*path, key, child))
                    self.changes.add_child((*path, key, child), name, child)
            else:
                for pattern, variables in value.items():
                    self.hosts(pattern, variables, name, (*path, key, pattern))

    def hosts(self, pattern: Any, variables: Any, group: str, path: tuple[Any, ...]) -> None:
        """Read one ``hosts`` entry: a name or range, with an optional port and a mapping of variables."""
        if not isinstance(pattern, str):
            raise self.fail(f"host name {pattern!r} must be a string (quote numbers)", path)
        if variables is not None and not isinstance(variables, dict):
            raise self.fail(f"variables of host '{pattern}' must be a mapping, not a {type(variables).__name__}",
                            path)
        name, port = split_port(pattern) or (pattern, None)
        try:
            names = expand_host_range(name)
        except RangeError as error:
            raise self.fail(f"{error} in '{pattern}'", path) from None
        for host in names:
            self.changes.add_host(path, host, group, port)
            for var, setting in (variables or {}).items():
                self.changes.set_host_var(path, host, var, setting)
