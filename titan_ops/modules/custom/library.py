"""Where custom modules are: a module is a file in a ``library/`` folder (beside the playbook, in a role,
or on the configured module path) named after it, with any extension but a few of documents and backups."""

from __future__ import annotations

import os
import re

from titan_ops import modules
from titan_ops.modules.custom.program import module_at

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_IGNORED_EXTENSIONS = frozenset({".pyc", ".pyo", ".swp", ".bak", ".rpm", ".md", ".txt", ".rst", ".yml", ".yaml",
                                 ".ini", ".ps1", ".json"})
"""Files that are never modules (as in ansible-core, which also reads no ``.ps1`` module on a POSIX host)."""
_LEGACY_PREFIX = "ansible.legacy."


def module_name(name: str) -> str | None:
    """The file name a task's module name stands for (``ansible.legacy.x`` is ``x``); None when it cannot
    name a custom module (a collection's name, a path)."""
    name = name.removeprefix(_LEGACY_PREFIX)
    return name if _NAME.fullmatch(name) else None


def library_folder(folder: str) -> str | None:
    """``folder``'s ``library/`` when it has one."""
    library = os.path.join(folder, "library")
    return library if os.path.isdir(library) else None


def find_module_file(name: str, folders: list[str] | tuple[str, ...]) -> str | None:
    """The file of the module ``name`` in the first of ``folders`` that has one (``name.py`` first, then
    ``name`` itself, then ``name`` with another extension), or None."""
    plain = module_name(name)
    if plain is None:
        return None
    for folder in folders:
        try:
            entries = set(os.listdir(folder))
        except OSError:
            continue
        others = sorted(entry for entry in entries if os.path.splitext(entry)[0] == plain
                        and os.path.splitext(entry)[1] not in _IGNORED_EXTENSIONS)
        for entry in (f"{plain}.py", plain, *others):
            path = os.path.join(folder, entry)
            if entry in entries and os.path.isfile(path) and not entry.endswith("~"):
                return os.path.abspath(path)
    return None


def find_module(name: str, folders: list[str] | tuple[str, ...]) -> tuple[modules.Module, str | None] | None:
    """The module ``name`` and, for a custom one, its file: built-in modules first, then ``folders`` in
    order; None when there is none."""
    module = modules.lookup(name)
    if module is not None:
        return module, None
    path = find_module_file(name, folders)
    if path is None:
        return None
    return module_at(path, module_name(name) or name), path
