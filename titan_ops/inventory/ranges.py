"""Host ranges: ``web[01:12].example.com``, ``db-[a:c]``, ``node[1:10:2]``.

A name with a ``[`` holds one or more ranges ``[begin:end]`` or
``[begin:end:step]``; each expands, left range outermost, into every name it
stands for. Both ends are inclusive. Numeric ranges keep the zero padding of
``begin`` (which ``end`` must then match in length); an empty ``begin`` is 0.
Letter ranges run through ``a..z`` then ``A..Z``.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

LETTERS = string.ascii_letters
MAX_HOSTS = 100_000
"""Host names one name with ranges may stand for (``web[1:100000000]`` is refused, not expanded)."""


class RangeError(ValueError):
    """A host range that cannot be expanded; the message says why."""


def has_range(name: str) -> bool:
    """True when ``name`` must be expanded (Ansible expands any name with a ``[``)."""
    return "[" in name


def expand_host_range(name: str) -> list[str]:
    """Every host name that ``name`` stands for, in order (at most MAX_HOSTS)."""
    if not has_range(name):
        return [name]
    count = 1
    for body in _range_bodies(name):
        count *= len(_range_items(body))
    if count > MAX_HOSTS:
        raise RangeError(f"host range stands for {count} hosts (more than {MAX_HOSTS}): refused")
    return _expand(name)


def _expand(name: str) -> list[str]:
    if not has_range(name):
        return [name]
    head, _, rest = name.partition("[")
    body, _, tail = rest.partition("]")
    return [expanded for item in _range_items(body) for expanded in _expand(head + item + tail)]


def _range_bodies(name: str) -> list[str]:
    """The ``begin:end[:step]`` of each range in ``name``, left to right."""
    bodies = []
    while has_range(name):
        _, _, rest = name.partition("[")
        body, closed, name = rest.partition("]")
        if not closed:
            raise RangeError("host range has no closing ']'")
        bodies.append(body)
    return bodies


class _Numbers(Sequence[str]):
    """The zero-padded numbers of a range, made as they are read (``len`` costs nothing)."""

    def __init__(self, numbers: range, width: int):
        self.numbers, self.width = numbers, width

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return str(self.numbers[index]).zfill(self.width)


def _range_items(body: str) -> Sequence[str]:
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
    return _Numbers(range(_integer(begin), _integer(end) + 1, step), width)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise RangeError(f"host range bound '{text}' is not a number or a single letter") from None
