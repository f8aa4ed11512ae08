"""Key conversions between camelCase and snake_case in nested data, and dict merging and diffing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLURAL_ACRONYM = re.compile(r"([A-Z]{2,})s$")
"""``ARNs`` at the end of a name: an acronym with a plural ``s``, one word."""
_WORD = re.compile(r"(.)([A-Z][a-z]+)")
"""A capitalised word after anything (``IAM|User``, ``Top|Level``)."""
_CAPITAL_AFTER = re.compile(r"([a-z0-9])([A-Z])")


def _camel_to_snake(name: str, reversible: bool = False) -> str:
    """``TOPLevelKey`` -> ``top_level_key`` (``t_o_p_level_key`` when ``reversible``: an underscore before
    each capital but the first character, so that :func:`_snake_to_camel` gives the name back)."""
    if reversible:
        return name[:1].lower() + re.sub(r"[A-Z]", lambda found: "_" + found.group(0).lower(), name[1:])
    name = _PLURAL_ACRONYM.sub(lambda found: found.group(1).capitalize() + "s", name)
    return _CAPITAL_AFTER.sub(r"\1_\2", _WORD.sub(r"\1_\2", name)).lower()


def _snake_to_camel(snake: str, capitalize_first: bool = False) -> str:
    """``top_level_key`` -> ``topLevelKey`` (``TopLevelKey`` with ``capitalize_first``); each word after
    the first is capitalised (an empty word, from a doubled underscore, stays an underscore)."""
    words = snake.split("_")
    first = words.pop(0)
    head = (first.capitalize() or "_") if capitalize_first else first
    return head + "".join(word.capitalize() or "_" for word in words)


def _converted_keys(value: Any, convert: Any, ignore: Any = ()) -> Any:
    if isinstance(value, Mapping):
        return {convert(key) if isinstance(key, str) else key:
                item if key in ignore else _converted_keys(item, convert) for key, item in value.items()}
    if isinstance(value, list):
        return [_converted_keys(item, convert) for item in value]
    return value


def camel_dict_to_snake_dict(camel_dict: Mapping[str, Any], reversible: bool = False, ignore_list: Any = ()) -> dict:
    """``camel_dict`` with every key in snake_case, however deep; the values of the top-level keys in
    ``ignore_list`` are kept as they are."""
    return _converted_keys(camel_dict, lambda key: _camel_to_snake(key, reversible), tuple(ignore_list or ()))


def snake_dict_to_camel_dict(snake_dict: Mapping[str, Any], capitalize_first: bool = False) -> dict:
    """``snake_dict`` with every key in camelCase, however deep."""
    return _converted_keys(snake_dict, lambda key: _snake_to_camel(key, capitalize_first))


def dict_merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """``a`` updated with ``b``, nested dicts merged key by key (``b`` wins)."""
    merged = dict(a)
    for key, value in b.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = dict_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def recursive_diff(dict1: Mapping[str, Any], dict2: Mapping[str, Any]) -> tuple[dict, dict] | None:
    """What ``dict1`` holds that ``dict2`` does not, and the reverse, nested dicts compared key by key;
    None when they are equal."""
    if not isinstance(dict1, Mapping) or not isinstance(dict2, Mapping):
        raise TypeError(f"Unable to diff 'dict1' {type(dict1)} and 'dict2' {type(dict2)}. Both must be a "
                        "dictionary.")
    left: dict[str, Any] = {}
    right: dict[str, Any] = {}
    for key in set(dict1) | set(dict2):
        if key not in dict2:
            left[key] = dict1[key]
        elif key not in dict1:
            right[key] = dict2[key]
        elif isinstance(dict1[key], Mapping) and isinstance(dict2[key], Mapping):
            nested = recursive_diff(dict1[key], dict2[key])
            if nested:
                left[key], right[key] = nested
        elif dict1[key] != dict2[key]:
            left[key], right[key] = dict1[key], dict2[key]
    return (left, right) if left or right else None
