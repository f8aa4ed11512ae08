"""Text and bytes conversions: ``to_bytes``, ``to_text`` and ``to_native``."""

from __future__ import annotations

from typing import Any

_ERROR_HANDLERS = {None: "surrogateescape", "surrogate_or_strict": "surrogateescape",
                   "surrogate_or_replace": "surrogateescape", "surrogate_then_replace": "surrogateescape"}


def _handler(errors: str | None) -> str:
    return _ERROR_HANDLERS.get(errors, errors or "strict")


def _as_string(obj: Any, nonstring: str) -> str | None:
    """What a value that is neither text nor bytes becomes (None: ``nonstring='empty'``)."""
    if nonstring == "simplerepr":
        try:
            return str(obj)
        except UnicodeError:
            return repr(obj)
    if nonstring == "passthru":
        return obj
    if nonstring == "empty":
        return ""
    if nonstring == "strict":
        raise TypeError("obj must be a string type")
    raise TypeError(f"Invalid value {nonstring} for to_text's nonstring parameter")


def to_bytes(obj: Any, encoding: str = "utf-8", errors: str | None = None, nonstring: str = "simplerepr") -> Any:
    """``obj`` as bytes (text encoded with ``encoding``)."""
    if isinstance(obj, bytes):
        return obj
    if not isinstance(obj, str):
        obj = _as_string(obj, nonstring)
        if not isinstance(obj, str):
            return obj
    return obj.encode(encoding, _handler(errors))


def to_text(obj: Any, encoding: str = "utf-8", errors: str | None = None, nonstring: str = "simplerepr") -> Any:
    """``obj`` as text (bytes decoded with ``encoding``)."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, bytes):
        return obj.decode(encoding, _handler(errors))
    return _as_string(obj, nonstring)


to_native = to_text
"""Text is the native string on Python 3."""
