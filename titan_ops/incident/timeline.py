"""Where an incident's files live, and its append-only timeline of JSON lines."""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import warnings
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable

from titan_ops.errors import TitanOpsError, TitanOpsWarning

_INCIDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_directory() -> Path:
    """``$TITAN_OPS_INCIDENT_DIR``, else ``./incidents``."""
    return Path(os.environ.get("TITAN_OPS_INCIDENT_DIR") or "incidents")


def operator_name() -> str:
    """Who is running: ``$TITAN_OPERATOR``, else the OS user."""
    configured = os.environ.get("TITAN_OPERATOR", "").strip()
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


def check_incident_id(incident_id: str) -> str:
    """``incident_id`` if it is a safe folder name (letters, digits, ``.``, ``_``, ``-``); else an error."""
    if not _INCIDENT_ID.match(incident_id or "") or incident_id in (".", ".."):
        raise TitanOpsError(f"bad incident id {incident_id!r}: use letters, digits, '.', '_' and '-' only")
    return incident_id


class DamagedLine(TitanOpsWarning):
    """A line of a timeline that is not a JSON object, skipped; the message names ``file:line:column``."""



class Timeline:
    """The timeline of one incident: ``<directory>/<incident_id>/timeline.jsonl``.

    Entries are appended whole under an exclusive lock and read under a
    shared one, so concurrent writers never interleave their lines and a
    reader never sees half of one.
    """

    def __init__(self, incident_id: str, directory: str | os.PathLike[str] | None = None):
        self.incident_id = check_incident_id(incident_id)
        base = Path(directory) if directory is not None else default_directory()
        self.folder = base.absolute() / incident_id

    @property
    def path(self) -> Path:
        return self.folder / "timeline.jsonl"

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, entry: dict[str, Any],
               check: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        """Add ``entry`` as one line at the end of the timeline.

        ``check``, when given, sees every entry so far under the same lock and
        raises to refuse the append (``incident open`` of an open incident).
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, sort_keys=True, default=str) + "\n").encode("utf-8")
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                if check is not None:
                    handle.seek(0)
                    check(self._parse(handle.read()))
                size = os.fstat(handle.fileno()).st_size
                if size and os.pread(handle.fileno(), 1, size - 1) != b"\n":
                    line = b"\n" + line  # after a line a killed writer cut: the entry starts a line of its own
                handle.write(line)
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first; an error when the incident has no timeline."""
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            raise TitanOpsError(f"unknown incident {self.incident_id} (no timeline at {self.path})") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_SH)  # a line being appended is read whole or not at all
            try:
                return self._parse(handle.read())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _parse(self, data: bytes) -> list[dict[str, Any]]:
        """The entries of the timeline's ``data``; a line that is not a JSON object (cut by a writer that was
        killed, damaged on disk) is skipped with a :class:`DamagedLine` warning naming it."""
        entries = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as error:
                self._damaged(number, error.start + 1, "not UTF-8 text")
            except json.JSONDecodeError as error:
                self._damaged(number, error.colno, error.msg)
            else:
                if isinstance(entry, dict):
                    entries.append(entry)
                else:
                    self._damaged(number, 1, "not a JSON object")
        return entries

    def _damaged(self, number: int, column: int, why: str) -> None:
        warnings.warn(DamagedLine(f"{self.path}:{number}:{column}: a damaged line ({why}), skipped"), stacklevel=3)


def incident_ids(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """The incidents that have a timeline in ``directory`` (default: :func:`default_directory`), sorted."""
    base = Path(directory) if directory is not None else default_directory()
    if not base.is_dir():
        return []
    return sorted(path.parent.name for path in base.glob("*/timeline.jsonl") if _INCIDENT_ID.match(path.parent.name))


def now_utc() -> str:
    """The current time as an ISO 8601 UTC timestamp (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_entry(kind: str, operator: str | None = None, *, now: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """A timeline entry of ``kind`` (``run``, ``triage``, ``drill``, ``open``, ``ack``...) stamped ``now``
    (default: the current time), by ``operator``."""
    stamp = now.astimezone(UTC).isoformat(timespec="seconds") if now is not None else now_utc()
    return {"kind": kind, "timestamp": stamp, "operator": operator or operator_name(), **fields}
