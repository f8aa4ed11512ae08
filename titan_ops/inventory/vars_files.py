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

EXTENSIONS = ("", ".yml", ".yaml", ".json")


class VarsFiles:
    """Reads (once) the variables files of groups and hosts in a list of directories."""

    def __init__(self, directories: list[Path]) -> None:
        self.directories = directories
        self._cache: dict[tuple[Path, str, str], dict[str, Any]] = {}

    def read_all(self, groups: Iterable[str], hosts: Iterable[str]) -> None:
        """Read every file of these groups and hosts now, so a bad one fails at load time."""
        for directory in self.directories:
            for name in groups:
                self.read(directory, "group_vars", name)
            for name in hosts:
                self.read(directory, "host_vars", name)

    def read(self, directory: Path, kind: str, name: str) -> dict[str, Any]:
        """The variables that ``directory/kind`` (``group_vars`` or ``host_vars``) holds for ``name``."""
        key = (directory, kind, name)
        if key not in self._cache:
            merged: dict[str, Any] = {}
            for path in _files_for(directory / kind, name):
                merged.update(_load(path))
            self._cache[key] = merged
        return self._cache[key]


def _files_for(base: Path, name: str) -> list[Path]:
    if not name or "/" in name or name in (".", "..") or not base.is_dir():
        return []
    for extension in EXTENSIONS:
        candidate = base / (name + extension)
        if candidate.is_dir():
            return _walk(candidate)
        if candidate.exists():
            return [candidate]
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


def _load(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InventoryError(f"cannot read variables file: {error}", Location(file)) from None
    data = load_data(text, file)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InventoryError(f"a variables file must hold a mapping, not a {type(data).__name__}",
                             Location(file, 1))
    return data
