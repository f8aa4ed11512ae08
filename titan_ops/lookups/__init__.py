"""Lookups, as Ansible's lookup plugins: ``lookup()``, ``query()``/``q()`` in templates and the
``with_<name>`` loops.

Every lookup runs on the controller and returns a list; ``lookup()`` folds that list as Ansible
does (one element: the element; strings: joined with commas). A lookup's code is imported the
first time it is called. Names not in :data:`LOOKUPS` are rejected when a playbook is validated.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from typing import Any

from titan_ops.errors import TemplateError
from titan_ops.lookups.context import LookupContext, LookupFailed

LOOKUPS: dict[str, str] = {
    "env": "titan_ops.lookups.data",
    "vars": "titan_ops.lookups.data",
    "items": "titan_ops.lookups.data",
    "list": "titan_ops.lookups.data",
    "dict": "titan_ops.lookups.data",
    "indexed_items": "titan_ops.lookups.data",
    "together": "titan_ops.lookups.data",
    "nested": "titan_ops.lookups.data",
    "subelements": "titan_ops.lookups.data",
    "random_choice": "titan_ops.lookups.data",
    "sequence": "titan_ops.lookups.sequence",
    "file": "titan_ops.lookups.files",
    "fileglob": "titan_ops.lookups.files",
    "first_found": "titan_ops.lookups.files",
    "template": "titan_ops.lookups.files",
    "pipe": "titan_ops.lookups.commands",
    "lines": "titan_ops.lookups.commands",
    "password": "titan_ops.lookups.password",
    "config": "titan_ops.lookups.settings",
}
"""Every lookup by name, and the module that implements it (in that module's ``FUNCTIONS``)."""

_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
_PLUGIN_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def canonical_name(name: str) -> str:
    """``ansible.builtin.env`` -> ``env``; other names are returned as given."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def is_lookup(name: str) -> bool:
    """True when titan-ops has the lookup called ``name`` (short or prefixed)."""
    return canonical_name(name) in LOOKUPS


def is_plugin_name(name: str) -> bool:
    """True when ``name`` has the shape of a plugin name (``env``, ``ns.coll.name``): a name of another shape
    (``{{ "pipe" }}``) names no lookup, in ansible-core either, and fails only when the template runs."""
    return _PLUGIN_NAME.fullmatch(name) is not None


def _implementation(name: str) -> Callable[..., list[Any]]:
    return importlib.import_module(LOOKUPS[name]).FUNCTIONS[name]


def run(name: str, terms: list[Any], options: dict[str, Any], context: LookupContext) -> list[Any]:
    """Run lookup ``name`` on ``terms``: its list of values. Raises TemplateError naming the lookup."""
    short = canonical_name(name)
    if not is_plugin_name(short):
        raise TemplateError(f"The lookup plugin '{name}' was not found.")
    if short not in LOOKUPS:
        raise TemplateError(f"the lookup '{name}' is not supported by titan-ops")
    function = _implementation(short)
    try:
        inspect.signature(function).bind(terms, context, **options)
    except TypeError as error:
        raise TemplateError(f"lookup '{short}': {error}") from None
    try:
        return function(terms, context, **options)
    except TemplateError as error:
        raise TemplateError(f"lookup '{short}': {error.message}") from None
    except LookupFailed as error:
        raise TemplateError(f"lookup '{short}': {error}") from None


def fold(values: list[Any]) -> Any:
    """What ``lookup()`` returns for ``values`` (without ``wantlist``), by Ansible's rule: an empty
    list stays, a single value is returned alone, strings are joined with commas, else the list."""
    if not values:
        return values
    if len(values) == 1:
        return values[0]
    if all(isinstance(value, str) for value in values):
        return ",".join(values)
    return values


__all__ = ["LOOKUPS", "LookupContext", "LookupFailed", "canonical_name", "fold", "is_lookup", "is_plugin_name", "run"]
