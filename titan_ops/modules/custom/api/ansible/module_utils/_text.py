"""The older home of the text conversions."""

from __future__ import annotations

from .common.text.converters import to_bytes, to_native, to_text

__all__ = ["to_bytes", "to_native", "to_text"]
