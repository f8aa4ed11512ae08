"""What a lookup may use: the task's variables, the templar, and where to find files."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from titan_ops.templating import Templar


class LookupFailed(Exception):
    """A lookup cannot produce its values (a missing file, a failed command, ...)."""


def key_values(text: str) -> dict[str, str]:
    """``start=1 end=3`` as a mapping; LookupFailed for a word that is not ``key=value``."""
    found = {}
    for part in text.split():
        key, separator, value = part.partition("=")
        if not separator:
            raise LookupFailed(f"can't parse {part!r} as a key=value pair")
        found[key] = value
    return found


@dataclass(frozen=True)
class LookupContext:
    """The task a lookup runs for: its ``variables`` and the ``templar`` rendering them.

    ``as_loop`` is true for a ``with_<name>`` loop, whose task runs ``action`` (``with_first_found``
    searches the folder that action reads from).
    """

    variables: Mapping[str, Any]
    templar: Templar
    as_loop: bool = False
    action: str = ""
    on_secret: Callable[[Iterable[str]], None] | None = None
    """Where values the lookup makes secret (passwords) are reported, to be masked in every output."""

    def add_secrets(self, values: Iterable[str]) -> None:
        """Report ``values`` as secrets."""
        if self.on_secret is not None:
            self.on_secret(values)

    def search_path(self) -> list[str]:
        """The folders files are searched in, first first: the role's, then the playbook's
        (Ansible's ``ansible_search_path``)."""
        paths = self.variables.get("ansible_search_path")
        if paths:
            return [str(path) for path in paths]
        return [str(self.variables.get("playbook_dir") or os.getcwd())]

    def base_dir(self) -> str:
        """The folder relative paths of commands and written files start from (the playbook's)."""
        return str(self.variables.get("playbook_dir") or os.getcwd())

    def find(self, name: str, folder: str | None) -> str | None:
        """The controller path of file ``name``: absolute as given, else ``<dir>/<folder>/<name>`` or
        ``<dir>/<name>`` for each folder of the search path; None when none exists."""
        name = os.path.expanduser(name)
        if os.path.isabs(name):
            return name if os.path.exists(name) else None
        for directory in self.search_path():
            candidates = [os.path.join(directory, folder, name)] if folder else []
            candidates.append(os.path.join(directory, name))
            for candidate in candidates:
                if os.path.exists(candidate):
                    return os.path.normpath(candidate)
        return None
