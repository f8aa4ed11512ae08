"""``group_vars/`` and ``host_vars/`` beside each inventory source.

For a group or host ``NAME`` the first of ``NAME``, ``NAME.yml``,
``NAME.yaml`` and ``NAME.json`` that exists is read; when it is a directory,
every file in it (and in its subdirectories without an extension) with one
of those extensions or none is read, in name order, later files winning.
Hidden files and names ending in ``~`` are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from titan_ops.errors import InventoryError, Location
from titan_ops.inventory.yaml_loading import load_data
from titan_ops.source_text import read_source
from titan_ops.vault import Vault

EXTENSIONS = ("", ".yml", ".yaml", ".json")


class VarsFiles:
    """Reads (once) the variables files of groups and hosts in a list of directories."""

    def __init__(self, directories: list[Path], vault: Vault | None = None) -> None:
        self.directories = directories
        self.vault = vault
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._listings: dict[tuple[int, str], set[str]] = {}

    def read_all(self, groups: Iterable[str], hosts: Iterable[str]) -> None:
        """Read every file of these groups and hosts now, so a bad one fails at load time."""
        for name in groups:
            self.variables("group_vars", name)
        for name in hosts:
            self.variables("host_vars", name)

    def variables(self, kind: str, name: str) -> list[dict[str, Any]]:
        """What each directory's ``kind`` (``group_vars`` or ``host_vars``) holds for ``name``, in order."""
        key = (kind, name)
        if key not in self._cache:
            found = []
            for index in range(len(self.directories)):
                merged: dict[str, Any] = {}
                for path in self._files_for(index, kind, name):
                    merged.update(_load(path, self.vault))
                found.append(merged)
            self._cache[key] = found
        return self._cache[key]

    def _files_for(self, index: int, kind: str, name: str) -> list[Path]:
        """The files that hold the variables of ``name`` in one directory's ``kind`` folder."""
        listing = self._listings.get((index, kind))
        if listing is None:
            base = self.directories[index] / kind
            listing = self._listings[index, kind] = set(os.listdir(base)) if base.is_dir() else set()
        for extension in EXTENSIONS:
            entry = name + extension
            if entry in listing and "/" not in entry and entry not in (".", ".."):
                candidate = self.directories[index] / kind / entry
                return _walk(candidate) if candidate.is_dir() else [candidate]
        return []


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(os.listdir(directory)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path, extension = directory / entry, os.path.splitext(entry)[1]
        if path.is_dir():
            if not extension:
                found.extend(_walk(path))
        elif extension in EXTENSIONS:
            found.append(path)
    return found


def _load(path: Path, vault: Vault | None) -> dict[str, Any]:
    file = str(path)
    text = read_source(path, InventoryError, "variables file")
    data = load_data(text, file, vault)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InventoryError(f"a variables file must hold a mapping, not a {type(data).__name__}",
                             Location(file, 1))
    return data
