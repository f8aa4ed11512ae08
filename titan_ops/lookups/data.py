"""Lookups over values: environment variables, variables, and the list shapes of the ``with_`` loops."""

from __future__ import annotations

import copy
import itertools
import os
import random
from collections.abc import Callable, Mapping
from typing import Any

from titan_ops.lookups.context import LookupContext, LookupFailed

_NO_DEFAULT = object()


def env(terms: list[Any], context: LookupContext, default: Any = "") -> list[Any]:
    """The controller's environment variable named by each term (``default`` when unset)."""
    return [os.environ.get(str(name), default) for name in terms]


def vars_(terms: list[Any], context: LookupContext, default: Any = _NO_DEFAULT) -> list[Any]:
    """The value of the variable named by each term, rendered."""
    values = []
    for name in terms:
        if not isinstance(name, str):
            raise LookupFailed(f"a variable name must be a string, got {type(name).__name__}")
        if name in context.variables:
            values.append(context.templar.resolve_nested(context.variables[name], context.variables))
        elif default is not _NO_DEFAULT:
            values.append(default)
        else:
            raise LookupFailed(f"No variable found with this name: {name}")
    return values


def items(terms: list[Any], context: LookupContext) -> list[Any]:
    """The terms, lists among them flattened one level (``with_items``)."""
    flat: list[Any] = []
    for term in terms:
        flat.extend(term if isinstance(term, list) else [term])
    return flat


def list_(terms: list[Any], context: LookupContext) -> list[Any]:
    """The terms as given (``with_list``)."""
    return list(terms)


def dict_(terms: list[Any], context: LookupContext) -> list[Any]:
    """Each mapping's ``{key, value}`` pairs (``with_dict``)."""
    pairs = []
    for term in terms:
        if not isinstance(term, Mapping):
            raise LookupFailed(f"the 'dict' lookup plugin expects a dictionary, got {term!r} ({type(term).__name__})")
        pairs.extend({"key": key, "value": value} for key, value in term.items())
    return pairs


def indexed_items(terms: list[Any], context: LookupContext) -> list[Any]:
    """``[index, item]`` for each item of the flattened terms (``with_indexed_items``)."""
    return [[index, item] for index, item in enumerate(items(terms, context))]


def together(terms: list[Any], context: LookupContext) -> list[Any]:
    """The lists zipped, shorter ones padded with null (``with_together``)."""
    lists = _lists(terms, "together")
    if not lists:
        raise LookupFailed("with_together requires at least one element in each list")
    return [list(group) for group in itertools.zip_longest(*lists)]


def nested(terms: list[Any], context: LookupContext) -> list[Any]:
    """Every combination of one item from each list, in order (``with_nested``)."""
    lists = _lists(terms, "nested")
    if not lists:
        raise LookupFailed("with_nested requires at least one element in the nested list")
    return [list(combination) for combination in itertools.product(*lists)]


def subelements(terms: list[Any], context: LookupContext) -> list[Any]:
    """``[element, subelement]`` for each item of a list held under a key of each element
    (``with_subelements: [elements, key.path, {skip_missing: true}]``); ``element`` lacks that key."""
    if len(terms) not in (2, 3) or not isinstance(terms[1], str):
        raise LookupFailed("subelements lookup expects a list, a key (a string) and optional flags")
    elements, path = terms[0], terms[1].split(".")
    flags = terms[2] if len(terms) == 3 else {}
    if not isinstance(flags, Mapping) or set(flags) - {"skip_missing"}:
        raise LookupFailed(f"the optional third term of subelements must be {{skip_missing: bool}}, got {flags!r}")
    if isinstance(elements, Mapping):
        elements = list(elements.values())
    if not isinstance(elements, list):
        raise LookupFailed(f"subelements lookup expects a list of mappings, got {elements!r}")
    pairs = []
    for element in elements:
        if not isinstance(element, Mapping):
            raise LookupFailed(f"subelements lookup expects a list of mappings, got an item {element!r}")
        found = _subelement(element, path, bool(flags.get("skip_missing")))
        if found is None:
            continue
        container, values = found
        for value in values:
            pairs.append([container, value])
    return pairs


def _subelement(element: Mapping[str, Any], path: list[str], skip_missing: bool) -> tuple[Any, list[Any]] | None:
    """A copy of ``element`` without the last key of ``path``, and the list under that path."""
    stripped = copy.deepcopy(dict(element))
    holder: Any = stripped
    for index, key in enumerate(path):
        if not isinstance(holder, Mapping) or key not in holder:
            if skip_missing:
                return None
            raise LookupFailed(f"could not find '{key}' key in iterated item {element!r}")
        if index < len(path) - 1:
            holder = holder[key]
    values = holder.pop(path[-1])
    if not isinstance(values, list):
        raise LookupFailed(f"the key name should point to a list, got {values!r}")
    return stripped, values


def random_choice(terms: list[Any], context: LookupContext) -> list[Any]:
    """One of the terms, chosen at random (``with_random_choice``)."""
    return [random.choice(terms)] if terms else []


def _lists(terms: list[Any], name: str) -> list[list[Any]]:
    lists = []
    for term in terms:
        if not isinstance(term, list):
            raise LookupFailed(f"the '{name}' lookup expects lists, got {term!r}")
        lists.append(term)
    return lists


FUNCTIONS: dict[str, Callable[..., list[Any]]] = {
    "env": env, "vars": vars_, "items": items, "list": list_, "dict": dict_, "indexed_items": indexed_items,
    "together": together, "nested": nested, "subelements": subelements, "random_choice": random_choice,
}
