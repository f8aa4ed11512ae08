"""The types of play keywords that decide how a play runs: checked on literals when a playbook
is loaded, and on rendered templates by the plan stage. Each raises ValueError with the reason."""

from __future__ import annotations

import re
from typing import Any

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_INTEGER = re.compile(r"^\s*-?\d+\s*$")
_TRUE = frozenset({"yes", "on", "1", "true", "y", "t"})
_FALSE = frozenset({"no", "off", "0", "false", "n", "f", ""})
STRATEGIES = ("linear", "free", "host_pinned")
ORDERS = ("inventory", "reverse_inventory", "sorted", "reverse_sorted", "shuffle")


def serial_sizes(value: Any) -> list[int | str]:
    """``serial``: a batch size or a list of them, each a count or a percentage (``'30%'``).

    Counts stay ints, percentages strings; an empty list (or None) means one batch of every host.
    """
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    sizes: list[int | str] = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"a batch size must be a number or a percentage, got {item!r}")
        if isinstance(item, (int, float)):
            sizes.append(int(item))
        elif isinstance(item, str) and _INTEGER.match(item):
            sizes.append(int(item))
        elif isinstance(item, str) and _PERCENT.match(item):
            sizes.append(item.strip())
        else:
            raise ValueError(f"a batch size must be a number or a percentage, got {item!r}")
    return sizes


def percentage(value: Any) -> float:
    """``max_fail_percentage``: a number from 0 to 100."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number from 0 to 100, got {value!r}")
    try:
        number = float(str(value).strip().rstrip("%")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number from 0 to 100, got {value!r}") from None
    if not 0 <= number <= 100:
        raise ValueError(f"must be a number from 0 to 100, got {value!r}")
    return number


def strategy(value: Any) -> str:
    """``strategy``: one titan-ops runs (others are refused by name)."""
    if value not in STRATEGIES:
        raise ValueError(f"the strategy {value!r} is not supported by titan-ops (supported: {', '.join(STRATEGIES)})")
    return str(value)


def order(value: Any) -> str:
    """``order``: how the play's hosts are ordered before they are batched (as ansible-core's words)."""
    if value not in ORDERS:
        raise ValueError(f"Invalid 'order' specified for inventory hosts: {value} (one of: {', '.join(ORDERS)})")
    return str(value)


def throttle(value: Any) -> int:
    """``throttle``: how many hosts may run the task at once; 0 or less is no limit. An integer, or text that
    is one (``true`` counts 1, as ``int()`` in ansible-core)."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    raise ValueError(f"Failed to convert the throttle value to an integer: {value!r}")


def boolean(value: Any) -> bool:
    """A yes/no keyword (``gather_facts``), with Ansible's spellings of true and false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"must be a boolean, got {value!r}")


def tag_list(value: Any) -> list[str]:
    """``tags``: a list, or a comma-separated string, of tag names."""
    items = value if isinstance(value, list) else [value]
    tags: list[str] = []
    for item in items:
        if isinstance(item, (list, dict)) or item is None:
            raise ValueError(f"a tag must be a name, got {item!r}")
        tags.extend(tag.strip() for tag in str(item).split(",") if tag.strip())
    return tags
