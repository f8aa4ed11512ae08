"""``-e/--extra-vars`` values: ``key=value`` pairs, a JSON/YAML object, or ``@file``."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from titan_ops.errors import Location, TitanOpsError
from titan_ops.redaction import every_value, is_secret_store
from titan_ops.source_text import read_source
from titan_ops.trust import trusted
from titan_ops.yaml_bounds import BoundedSafeLoader, unreadable


def parse_extra_vars(values: list[str], secrets: list[str] | None = None) -> dict[str, Any]:
    """Merge every ``-e`` value, later ones winning, as ansible-playbook does; authored text
    (:mod:`titan_ops.trust`), as a playbook is. Every value of an ``@file`` named like a secret store
    (``@secrets.yml``) is appended to ``secrets``."""
    merged: dict[str, Any] = {}
    for value in values:
        parsed = _parse_one(value)
        if secrets is not None and value.strip().startswith("@") and is_secret_store(value.strip()[1:]):
            secrets.extend(every_value(parsed))
        merged.update(parsed)
    return trusted(merged)


def _parse_one(value: str) -> dict[str, Any]:
    text = value.strip()
    if text.startswith("@"):
        path = Path(text[1:])
        source = read_source(path, TitanOpsError, "extra vars file")
        try:
            loaded = yaml.load(source, Loader=BoundedSafeLoader)  # noqa: S506 - a safe loader
        except yaml.reader.ReaderError as error:
            problem, location = unreadable(error, source, str(path))
            raise TitanOpsError(f"malformed extra vars file: {problem}", location) from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            location = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
            raise TitanOpsError(f"malformed extra vars file: {getattr(error, 'problem', error)}", location) from None
        if loaded is None:
            return {}
        if not isinstance(loaded, dict):
            raise TitanOpsError("extra vars file must hold a mapping", Location(str(path)))
        return loaded
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            try:
                loaded = yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 - a safe loader, bounded
            except yaml.YAMLError as error:
                raise TitanOpsError(f"invalid extra vars object: {error}", key="--extra-vars") from None
        if not isinstance(loaded, dict):
            raise TitanOpsError("extra vars must be a mapping", key="--extra-vars")
        return loaded
    result: dict[str, Any] = {}
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise TitanOpsError(f"invalid extra vars '{value}': {error}", key="--extra-vars") from None
    for word in words:
        key, sep, item = word.partition("=")
        if not sep or not key:
            raise TitanOpsError(f"extra vars must be key=value, a JSON object or @file, got '{word}'",
                                key="--extra-vars")
        result[key] = item
    return result
