"""A memory of the JSON Schema checks that passed, in the run and on disk between runs.

A playbook, and the module arguments in it, are checked against their
schemas on every run. Most runs check what an earlier run already checked,
so a pair (schema, document) that passed is remembered by a digest of both:
a run whose checks all passed before never imports jsonschema (about 50 ms
of start-up). Only passes are remembered, never errors, so a bad document is
always checked and reported; anything else (a different titan-ops, schema or
document, down to a value's type) has another digest.

The file is ``$TITAN_OPS_CACHE_DIR`` (default ``$XDG_CACHE_HOME/titan-ops``,
else ``~/.cache/titan-ops``) ``/passed-checks``: one hex digest a line,
appended to; when it is unwritable the memory lasts for the run only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from titan_ops import __version__

FILE_NAME = "passed-checks"
KEEP = 20_000
"""Digests kept in the file; past twice as many, the oldest are dropped."""
_DIGEST_LINE = re.compile(r"^[0-9a-f]{64}$", re.MULTILINE)

_lock = threading.Lock()
_passed: set[str] | None = None
_schema_digests: dict[int, tuple[Any, str]] = {}  # id -> (the schema, kept alive so its id stays its own; digest)


def cache_directory() -> Path:
    """Where titan-ops keeps what it may forget (see the module's docstring)."""
    explicit = os.environ.get("TITAN_OPS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "titan-ops"


def digest(schema: dict[str, Any], document: Any, variant: str = "") -> str | None:
    """The digest of checking ``document`` against ``schema`` (the way ``variant`` names); None when
    ``document`` is not plain JSON data (a date, a non-string key...), which is then always checked."""
    try:
        text = json.dumps(document, sort_keys=True, allow_nan=False, default=_refuse)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(f"{_schema_digest(schema)}\n{variant}\n{text}".encode()).hexdigest()


def passed(key: str) -> bool:
    """True when the check with this digest passed before."""
    with _lock:
        return key in _load()


def remember(key: str) -> None:
    """Record that the check with this digest passed."""
    with _lock:
        known = _load()
        if key in known:
            return
        known.add(key)
        try:
            with open(cache_directory() / FILE_NAME, "a", encoding="ascii") as file:
                file.write(key + "\n")
        except OSError:
            pass  # no cache directory: remembered for this run only


def _load() -> set[str]:
    global _passed
    if _passed is None:
        _passed = set()
        path = cache_directory() / FILE_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return _passed
        valid = _DIGEST_LINE.findall(text)
        if len(valid) > 2 * KEEP:
            valid = valid[-KEEP:]
            _rewrite(path, valid)
        _passed.update(valid)
    return _passed


def _rewrite(path: Path, lines: list[str]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_text("".join(line + "\n" for line in lines), encoding="ascii")
        os.replace(temporary, path)
    except OSError:
        pass


def _schema_digest(schema: dict[str, Any]) -> str:
    known = _schema_digests.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    text = json.dumps(schema, sort_keys=True)
    value = hashlib.sha256(f"titan-ops {__version__}\n{text}".encode()).hexdigest()
    _schema_digests[id(schema)] = (schema, value)
    return value


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)
