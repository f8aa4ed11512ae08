"""Variable values: INI typing, unsafe text, and the JSON form ansible-inventory prints."""

from __future__ import annotations

import ast
import datetime
import json
import warnings
from typing import Any

import yaml

from titan_ops.trust import Unsafe, trusted
from titan_ops.vault import Encrypted


class UnsupportedValue(ValueError):
    """An INI value that is a Python literal with no JSON form (a nested complex number, ...)."""


def parse_ini_value(text: str) -> Any:
    """Type an INI value as Ansible does: a Python literal when it is one, else the text itself.

    ``1`` is an int, ``True`` a bool, ``[1, 2]`` a list, ``"a b"`` the string
    ``a b``; ``true``, ``yes`` and ``{k: 1}`` stay strings. Strings are authored
    text (:mod:`titan_ops.trust`), bytes literals unsafe text.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return trusted(text)
    if isinstance(value, (complex, type(Ellipsis))):
        return trusted(text)
    return trusted(_plain(value))


def _plain(value: Any) -> Any:
    """A literal's value with tuples and sets as lists and bytes as unsafe text."""
    if isinstance(value, (tuple, list, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_plain_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return Unsafe(value.decode("utf-8", "surrogateescape"))
    if isinstance(value, (complex, type(Ellipsis))):
        raise UnsupportedValue(f"{type(value).__name__} values are not supported")
    return value


def _plain_key(key: Any) -> Any:
    if isinstance(key, (str, int, float, bool)) or key is None:
        return key
    raise UnsupportedValue(f"a dictionary key of type {type(key).__name__} is not supported")


def to_json(value: Any, mark_unsafe: bool = True) -> Any:
    """``value`` as ansible-inventory's JSON shows it.

    Keys become strings, tuples lists, dates ISO text; unsafe text becomes
    ``{"__ansible_unsafe": text}`` with ``mark_unsafe`` (as ``--list`` shows
    it), plain text without (as ``--host`` does); a ``!vault`` value is
    ``{"__ansible_vault": text}``.
    """
    if isinstance(value, Unsafe):
        return {"__ansible_unsafe": str(value)} if mark_unsafe else str(value)
    if isinstance(value, Encrypted):
        return {"__ansible_vault": value.text}
    if isinstance(value, dict):
        return {_json_key(key): to_json(item, mark_unsafe) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item, mark_unsafe) for item in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def to_yaml(value: Any) -> Any:
    """``value`` as ansible-inventory's YAML shows it: unsafe text as plain text, ``!vault`` values
    tagged, the rest as is."""
    if isinstance(value, Unsafe):
        return str(value)
    if isinstance(value, dict):
        return {to_yaml(key): to_yaml(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_yaml(item) for item in value]
    return value


def _json_key(key: Any) -> str:
    """A dictionary key as JSON writes it: ``1`` -> ``"1"``, ``True`` -> ``"true"``."""
    return str(key) if isinstance(key, str) else json.dumps(key)


def _represent_encrypted(dumper: yaml.SafeDumper, value: Encrypted) -> yaml.Node:
    return dumper.represent_scalar("!vault", value.text, style="|")


yaml.SafeDumper.add_representer(Encrypted, _represent_encrypted)
