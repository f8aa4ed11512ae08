"""The ``sequence`` lookup: numbers from ``start`` to ``end`` (or ``count`` of them) by ``stride``,
each formatted with ``format`` (``with_sequence: start=1 end=10 format=web%02d``).

A term is ``key=value`` pairs or the short form ``[start-]end[/stride][:format]``; the options can
also be given as keyword arguments (``query('sequence', start=1, end=3)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from titan_ops.lookups.context import LookupContext, LookupFailed, key_values

_SHORT_FORM = re.compile(r"^(?:(?P<start>-?\d+)-)?(?P<end>-?\d+)(?:/(?P<stride>-?\d+))?(?::(?P<format>.+))?$")
_KEYS = ("start", "end", "count", "stride", "format")


def sequence(terms: list[Any], context: LookupContext, **options: Any) -> list[Any]:
    unknown = sorted(set(options) - set(_KEYS))
    if unknown:
        raise LookupFailed(f"unrecognized arguments to with_sequence: {unknown}")
    if not terms:
        return _numbers({key: str(value) for key, value in options.items()})
    values: list[Any] = []
    for term in terms:
        values.extend(_numbers({**{key: str(value) for key, value in options.items()}, **_parse(str(term))}))
    return values


def _parse(term: str) -> dict[str, str]:
    term = term.strip()
    if "=" not in term:
        match = _SHORT_FORM.match(term)
        if match is None:
            raise LookupFailed(f"can't parse arg={term!r} as a sequence")
        return {key: value for key, value in match.groupdict().items() if value is not None}
    parsed = key_values(term)
    unknown = sorted(set(parsed) - set(_KEYS))
    if unknown:
        raise LookupFailed(f"unrecognized arguments to with_sequence: {unknown}")
    return parsed


def _numbers(settings: dict[str, str]) -> list[str]:
    start = _integer(settings, "start", 1)
    stride = _integer(settings, "stride", 1)
    form = settings.get("format", "%d")
    if "count" in settings and "end" in settings:
        raise LookupFailed("can't specify both count and end in with_sequence")
    if "count" in settings:
        count = _integer(settings, "count", 0)
        if count == 0:
            return []
        end = start + (count - 1) * stride
    elif "end" in settings:
        end = _integer(settings, "end", 0)
    else:
        raise LookupFailed("must specify count or end in with_sequence")
    if stride == 0:
        return []
    if stride > 0 and end < start:
        raise LookupFailed("to count backwards make stride negative")
    if stride < 0 and end > start:
        raise LookupFailed("to count forward don't make stride negative")
    last = end + (1 if stride > 0 else -1)
    try:
        return [form % number for number in range(start, last, stride)]
    except (TypeError, ValueError) as error:
        raise LookupFailed(f"bad formatting string: {form} ({error})") from None


def _integer(settings: dict[str, str], key: str, default: int) -> int:
    if key not in settings:
        return default
    try:
        return int(settings[key])
    except ValueError:
        raise LookupFailed(f"{key} must be an integer, got {settings[key]!r}") from None


FUNCTIONS: dict[str, Callable[..., list[Any]]] = {"sequence": sequence}
