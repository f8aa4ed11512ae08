"""Inventory sources: files, directories of them, and ``host1,host2,`` lists.

A file with a YAML extension (``.yml``, ``.yaml``, ``.json``) or none is
read as YAML first, then as INI if it is no YAML inventory; any other file
as INI. A directory is read entry by entry in name order (subdirectories
too), skipping hidden entries, ``group_vars``, ``host_vars``,
``vars_plugins`` and Ansible's ignored extensions. A source that is no path
but holds a comma is a list of host names. ``group_vars``/``host_vars`` are
looked up beside each source: in a directory source, or in a file's directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from titan_ops.errors import InventoryError, Location
from titan_ops.inventory.addresses import split_port
from titan_ops.inventory.ini import parse_ini
from titan_ops.inventory.model import InventoryData
from titan_ops.inventory.yaml_loading import load_data
from titan_ops.source_text import read_source
from titan_ops.vault import Vault
from titan_ops.inventory.yaml_source import UnsupportedSource, parse_yaml_inventory

YAML_EXTENSIONS = (".yml", ".yaml", ".json")
IGNORED_EXTENSIONS = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg",
                      ".retry")
IGNORED_NAMES = ("group_vars", "host_vars", "vars_plugins")
_YAML_FIRST_LINE = re.compile(r"^(?:---|\{|-(?:\s|$)|[^\[=\s#;][^=]*:(?:\s|$))")

Source = str | os.PathLike
Sources = Source | Sequence[Source] | None


@dataclass
class SourceSet:
    """What a set of sources holds: the inventory, where variables files live, and warnings."""

    data: InventoryData = field(default_factory=InventoryData)
    vars_directories: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def read_sources(sources: Sources, vault: Vault | None = None) -> SourceSet:
    """Read every source in order, then finish the inventory (``all``, ``ungrouped``, depths); vault
    values are opened with ``vault``."""
    result = SourceSet()
    if sources is None:
        sources = []
    elif isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    for source in sources:
        name = os.fspath(source)
        path = Path(name)
        if path.is_dir():
            _read_directory(path, result, vault)
            result.vars_directories.append(path)
        elif path.is_file():
            _read_file(path, result, vault)
            result.vars_directories.append(path.parent)
        elif "," in name:
            _read_host_list(name, result.data)
        else:
            raise InventoryError("inventory source not found", Location(name))
        result.names.append(name)
    result.data.finish()
    return result


def _read_directory(directory: Path, result: SourceSet, vault: Vault | None) -> None:
    for entry in sorted(os.listdir(directory)):
        if entry.startswith(".") or entry in IGNORED_NAMES or entry.endswith(IGNORED_EXTENSIONS):
            continue
        path = directory / entry
        if path.is_dir():
            _read_directory(path, result, vault)
        elif path.is_file():
            _read_file(path, result, vault)


def _read_file(path: Path, result: SourceSet, vault: Vault | None) -> None:
    file = str(path)
    text = read_source(path, InventoryError, "inventory file")
    if text.startswith("#!") and os.access(path, os.X_OK):
        raise InventoryError("dynamic inventory scripts are not supported", Location(file, 1))
    yaml_error = None
    if path.suffix in YAML_EXTENSIONS or not path.suffix:
        warnings: list[str] = []
        try:
            changes = parse_yaml_inventory(load_data(text, file, vault), text, file, warnings)
        except UnsupportedSource:
            raise
        except InventoryError as error:
            yaml_error = error
        else:
            changes.apply_to(result.data)
            result.warnings.extend(warnings)
            return
    try:
        changes = parse_ini(text, file, result.data.groups)
    except InventoryError:
        if yaml_error and (path.suffix in YAML_EXTENSIONS or _looks_like_yaml(text)):
            raise yaml_error from None
        raise
    changes.apply_to(result.data)


def _looks_like_yaml(text: str) -> bool:
    """Whether the first significant line reads as YAML (a key, a list item, a document start)."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", ";")):
            return bool(_YAML_FIRST_LINE.match(stripped))
    return False


def _read_host_list(text: str, data: InventoryData) -> None:
    for item in text.split(","):
        item = item.strip()
        if item:
            name, port = split_port(item) or (item, None)
            data.add_host(name, "ungrouped", port)
