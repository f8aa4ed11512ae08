"""Host ranges: ``web[01:12].example.com``, ``db-[a:c]``, ``node[1:10:2]``.

A name with a ``[`` holds one or more ranges ``[begin:end]`` or
``[begin:end:step]``; each expands, left range outermost, into every name it
stands for. Both ends are inclusive. Numeric ranges keep the zero padding of
``begin`` (which ``end`` must then match in length); an empty ``begin`` is 0.
Letter ranges run through ``a..z`` then ``A..Z``.
"""

from __future__ import annotations

import string

LETTERS = string.ascii_letters


class RangeError(ValueError):
    """A host range that cannot be expanded; the message says why."""


def has_range(name: str) -> bool:
    """True when ``name`` must be expanded (Ansible expands any name with a ``[``)."""
    return "[" in name


def expand_host_range(name: str) -> list[str]:
    """Every host name that ``name`` stands for, in order."""
    if not has_range(name):
        return [name]
    head, _, rest = name.partition("[")
    body, closed, tail = rest.partition("]")
    if not closed:
        raise RangeError("host range has no closing ']'")
    names: list[str] = []
    for item in _range_items(body):
        names.extend(expand_host_range(head + item + tail))
    return names


def _range_items(body: str) -> list[str]:
    """The strings that one ``begin:end[:step]`` stands for."""
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise RangeError("host range must be begin:end or begin:end:step")
    begin, end = bounds[0] or "0", bounds[1]
    step = _integer(bounds[2]) if len(bounds) == 3 else 1
    if not end:
        raise RangeError("host range must specify end value")
    if step == 0:
        raise RangeError("host range step must not be zero")
    if len(begin) == 1 and len(end) == 1 and begin in LETTERS and end in LETTERS:
        first, last = LETTERS.index(begin), LETTERS.index(end)
        if first > last:
            raise RangeError("host range must have begin <= end")
        return list(LETTERS[first:last + 1:step])
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise RangeError("host range must specify equal-length begin and end formats")
    return [str(number).zfill(width) for number in range(_integer(begin), _integer(end) + 1, step)]


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise RangeError(f"host range bound '{text}' is not a number or a single letter") from None
