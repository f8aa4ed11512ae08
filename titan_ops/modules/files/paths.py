"""The ``path`` argument and its Ansible aliases (``dest``, ``name``)."""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

ALIASES = ("path", "dest", "name")


def path_properties(description: str) -> dict[str, Any]:
    """Schema properties for ``path`` and its aliases."""
    return {
        "path": {"type": "string", "minLength": 1, "description": description},
        "dest": {"type": "string", "minLength": 1, "description": "Alias of path."},
        "name": {"type": "string", "minLength": 1, "description": "Alias of path."},
    }


PATH_REQUIRED: dict[str, Any] = {"oneOf": [{"required": [alias]} for alias in ALIASES]}
"""Exactly one of path, dest and name."""


def path_of(args: Mapping[str, Any]) -> str:
    """The path a task names, whichever alias it uses."""
    return next(args[alias] for alias in ALIASES if alias in args)
