"""Edits a parser makes to the inventory, kept until the whole file has parsed.

A file that turns out not to be YAML leaves no trace before it is read as
INI; an edit that breaks the inventory fails with the line that asked for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from titan_ops.errors import InventoryError, Location
from titan_ops.inventory.model import InventoryData, ModelError

Edit = Callable[..., Any]
Where = Any
"""A line number, or anything ``locate`` turns into a Location (a YAML key path)."""


class Changes:
    """An ordered list of edits to an :class:`InventoryData`, each with where it was asked for."""

    def __init__(self, file: str, locate: Callable[[Where], Location] | None = None) -> None:
        self.file = file
        self._locate = locate or (lambda line: Location(file, line))
        self._edits: list[tuple[Where, Edit, tuple[Any, ...]]] = []

    def add_group(self, line: Where, name: str) -> None:
        self._edits.append((line, InventoryData.add_group, (name,)))

    def add_host(self, line: Where, name: str, group: str | None, port: int | None) -> None:
        self._edits.append((line, InventoryData.add_host, (name, group, port)))

    def add_child(self, line: Where, parent: str, child: str) -> None:
        self._edits.append((line, InventoryData.add_child, (parent, child)))

    def set_group_var(self, line: Where, group: str, key: str, value: Any) -> None:
        self._edits.append((line, InventoryData.set_group_var, (group, key, value)))

    def set_host_var(self, line: Where, host: str, key: str, value: Any) -> None:
        self._edits.append((line, InventoryData.set_host_var, (host, key, value)))

    def apply_to(self, data: InventoryData) -> None:
        """Make every edit, in order; InventoryError at the line of the first that fails."""
        for where, edit, arguments in self._edits:
            try:
                edit(data, *arguments)
            except ModelError as error:
                raise InventoryError(str(error), self._locate(where)) from None
