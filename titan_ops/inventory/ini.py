"""INI inventory files, read as Ansible's ini plugin reads them.

Hosts before any section are ``ungrouped``. ``[g]`` lists hosts (with
``key=value`` variables typed as Python literals), ``[g:children]`` child
groups, ``[g:vars]`` one ``key=value`` a line (also typed as Python
literals, the rest of the line being the value). A group named under
``:children`` or ``:vars`` must get its own ``[g]`` or ``[g:children]``
section somewhere in the same file unless an earlier source defined it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection

from titan_ops.errors import InventoryError, Location
from titan_ops.inventory.addresses import split_port
from titan_ops.inventory.changes import Changes
from titan_ops.inventory.ranges import RangeError, expand_host_range
from titan_ops.inventory.values import UnsupportedValue, parse_ini_value

_SECTION = re.compile(r"^\[(?P<name>[^:\]\s]+)(?::(?P<kind>\w+))?\]\s*(?:#.*)?$")
_CHILD = re.compile(r"^(?P<name>\S+)(?:\s+#.*)?$")
_KINDS = ("hosts", "children", "vars")


def parse_ini(text: str, file: str, existing_groups: Collection[str]) -> Changes:
    """The edits that the INI inventory ``text`` (read from ``file``) makes; InventoryError when malformed."""
    return _IniParser(file, existing_groups).parse(text)


class _IniParser:
    def __init__(self, file: str, existing_groups: Collection[str]) -> None:
        self.file = file
        self.changes = Changes(file)
        self.known = set(existing_groups)
        self.group, self.kind = "ungrouped", "hosts"
        self.pending_children: dict[str, list[tuple[str, int]]] = {}
        self.pending_vars: dict[str, int] = {}

    def fail(self, message: str, line: int) -> InventoryError:
        return InventoryError(message, Location(self.file, line))

    def parse(self, text: str) -> Changes:
        handlers = {"hosts": self.host_line, "children": self.child_line, "vars": self.var_line}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if not self.section(line, number):
                handlers[self.kind](line, number)
        self.check_pending()
        return self.changes

    def section(self, line: str, number: int) -> bool:
        """Start a section when ``line`` is a header; False when it is not one."""
        match = _SECTION.match(line)
        if not match:
            if line.startswith("[") and line.endswith("]"):
                raise self.fail(f"invalid section entry '{line}': no spaces or other invalid characters "
                                "are allowed in a section name", number)
            return False
        name, kind = match.group("name"), match.group("kind") or "hosts"
        if kind not in _KINDS:
            raise self.fail(f"section [{name}:{kind}] has unknown type: {kind}", number)
        if kind == "vars" and name not in self.known:
            self.pending_vars.setdefault(name, number)
        self.changes.add_group(number, name)
        self.known.add(name)
        if kind != "vars":
            self.pending_vars.pop(name, None)
            for parent, line_number in self.pending_children.pop(name, []):
                self.changes.add_child(line_number, parent, name)
        self.group, self.kind = name, kind
        return True

    def host_line(self, line: str, number: int) -> None:
        """``pattern [key=value ...]``: one or more hosts (a range) in the current group."""
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as error:
            raise self.fail(f"cannot parse host definition '{line}': {error}", number) from None
        if not tokens:
            return
        pattern = tokens[0]
        if pattern.endswith(":") and "::" not in pattern:
            raise self.fail(f"invalid host pattern '{pattern}': a trailing ':' must be followed by a port", number)
        name, port = split_port(pattern) or (pattern, None)
        try:
            names = expand_host_range(name)
        except RangeError as error:
            raise self.fail(f"{error} in '{pattern}'", number) from None
        variables = {}
        for token in tokens[1:]:
            key, equals, value = token.partition("=")
            if not equals:
                raise self.fail(f"expected key=value host variable assignment, got: {token}", number)
            variables[key] = self.typed(value, number)
        for host in names:
            self.changes.add_host(number, host, self.group, port)
            for key, value in variables.items():
                self.changes.set_host_var(number, host, key, value)

    def child_line(self, line: str, number: int) -> None:
        """One child group name; linked now if the group exists, else once its section appears."""
        match = _CHILD.match(line)
        if not match:
            raise self.fail(f"expected a group name, got: {line}", number)
        child = match.group("name")
        if child in self.known:
            self.changes.add_child(number, self.group, child)
        else:
            self.pending_children.setdefault(child, []).append((self.group, number))

    def var_line(self, line: str, number: int) -> None:
        """``key=value`` for the current group."""
        key, equals, value = line.partition("=")
        if not equals:
            raise self.fail(f"expected key=value, got: {line}", number)
        self.changes.set_group_var(number, self.group, key.strip(), self.typed(value.strip(), number))

    def typed(self, value: str, number: int) -> object:
        try:
            return parse_ini_value(value)
        except UnsupportedValue as error:
            raise self.fail(f"{error}: {value}", number) from None

    def check_pending(self) -> None:
        """Fail on the first group named under :children or :vars that was never defined."""
        problems = [(line, f"section [{parent}:children] includes undefined group '{child}'")
                    for child, references in self.pending_children.items() for parent, line in references]
        problems += [(line, f"section [{group}:vars] is not valid for undefined group '{group}'")
                     for group, line in self.pending_vars.items()]
        if problems:
            line, message = min(problems)
            raise self.fail(message, line)
