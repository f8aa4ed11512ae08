"""``boolean``: Ansible's words for true and false."""

from __future__ import annotations

from typing import Any

BOOLEANS_TRUE = frozenset(("y", "yes", "on", "1", "true", "t", 1, 1.0, True))
BOOLEANS_FALSE = frozenset(("n", "no", "off", "0", "false", "f", 0, 0.0, False))
BOOLEANS = BOOLEANS_TRUE | BOOLEANS_FALSE
_SHOWN = ("y", "yes", "on", "1", "true", "t", 1, "n", "no", "off", "0", "false", "f", 0)


def boolean(value: Any, strict: bool = True) -> bool:
    """``value`` as a bool; TypeError for anything else when ``strict`` (else False)."""
    if isinstance(value, bool):
        return value
    normalized = value.strip().lower() if isinstance(value, str) else value
    try:
        if normalized in BOOLEANS_TRUE:
            return True
        if normalized in BOOLEANS_FALSE or not strict:
            return False
    except TypeError:  # an unhashable value
        if not strict:
            return False
    shown = ", ".join(repr(word) for word in _SHOWN)
    raise TypeError(f"The value '{value}' is not a valid boolean. Valid booleans include: {shown}")
