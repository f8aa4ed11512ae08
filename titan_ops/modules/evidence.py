"""``evidence``: write diagnostic command results as an evidence bundle on the controller.

The diagnostics themselves run as ordinary (looped, registered) ``shell``
tasks with ``failed_when: false``, so a tool missing on a host is an exit
code in the manifest, never a failed collection. This module then writes,
for the task's host::

    <dest>/<host>/<name>.txt            stdout of each diagnostic (secrets masked)
    <dest>/<host>/<name>.stderr.txt     its stderr, when there was any
    <dest>/<host>/manifest.json         command, exit code, size, sha256, start, end per diagnostic
    <dest>/<host>-<UTC time>.tar.gz     the whole folder, as collected

A folder left by an earlier collection is kept, renamed
``<host>@<its collection time>``: evidence is never overwritten.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from titan_ops.connection.base import HostOutput
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.redaction import Redactor

MISSING_TOOL_RC = 127
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SKIPPED_VARIABLES = ("hostvars", "groups", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_batch",
                      "play_hosts", "group_names", "vars", "ansible_delegated_vars")


def _file_name(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._") or "diagnostic"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _redactor(host: HostContext) -> Redactor:
    """The run's secrets (every one known so far), with the secret-named values of the task's variables
    and of the controller's environment."""
    redactor = host.secrets or Redactor()
    redactor.collect_from({key: value for key, value in host.variables.items() if key not in _SKIPPED_VARIABLES})
    redactor.collect_from_environment()
    return redactor


def _describe(index: int, result: Mapping[str, Any]) -> tuple[str, str]:
    """A diagnostic's name and command, from its loop item (``{name, cmd}`` or a command string)."""
    item = result.get(str(result.get("ansible_loop_var", "item")), result.get("item"))
    command = result.get("cmd")
    name = None
    if isinstance(item, Mapping):
        name = item.get("name")
        command = command or item.get("cmd") or item.get("command")
    elif isinstance(item, str):
        command = command or item
    if isinstance(command, list):
        command = " ".join(str(word) for word in command)
    return _file_name(str(name or result.get("_ansible_item_label") or f"diagnostic-{index + 1}")), str(command or "")


class Evidence(Module):
    """Write registered diagnostic results, a manifest and a tarball under ``dest``."""

    name = "evidence"
    collection = None
    description = ("Write the results of diagnostic commands (a registered loop's `results`, or a list of "
                   "registered results) to `dest/<host>/` on the controller with a `manifest.json` (command, "
                   "exit code, size, sha256, start and end time of each) and a `dest/<host>-<time>.tar.gz` "
                   "bundle. Exit code 127 (tool not found) is recorded as `missing`, not as a failure. Secrets "
                   "(every value the run knows to be secret, secret-named variables, the controller's "
                   "secret-named environment variables) are masked in everything written.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "dest": {"type": "string", "minLength": 1,
                     "description": "The incident's folder on the controller (e.g. `incidents/INC-1`)."},
            "results": {"type": "array", "items": {"type": "object"},
                        "description": "Registered results of the diagnostic commands, one per diagnostic."},
        },
        "required": ["dest", "results"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        folder = Path(args["dest"]) / _file_name(host.host)
        return Decision(True, {"msg": f"would write {len(args['results'])} diagnostics to {folder}"},
                        plan=folder)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        folder: Path = decision.plan
        collected = datetime.now(UTC)
        stamp = collected.strftime("%Y%m%dT%H%M%S.%fZ")
        staging = folder.parent / f".{folder.name}.{stamp}.partial"
        staging.mkdir(parents=True, mode=0o750)
        redactor = _redactor(host)
        entries = [self._write_one(staging, index, result, redactor)
                   for index, result in enumerate(args["results"])]
        manifest = {"host": host.host, "collected": collected.isoformat(timespec="seconds"), "diagnostics": entries}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8")
        _keep_previous(folder)
        staging.rename(folder)
        bundle = folder.parent / f"{folder.name}-{stamp}.tar.gz"
        data = _tarball(folder)
        bundle.write_bytes(data)
        missing = [entry["name"] for entry in entries if entry.get("missing")]
        return {
            "changed": True,
            "manifest": str(folder / "manifest.json"),
            "bundle": {"path": str(bundle), "sha256": _sha256(data), "size": len(data),
                       "collected": manifest["collected"]},
            "diagnostics": len(entries),
            "missing": missing,
            "msg": f"{len(entries)} diagnostics written to {folder}"
                   + (f" ({len(missing)} tools missing: {', '.join(missing)})" if missing else ""),
        }

    def _write_one(self, folder: Path, index: int, result: Mapping[str, Any], redactor: Redactor) -> dict[str, Any]:
        name, command = _describe(index, result)
        entry: dict[str, Any] = {"name": name, "command": redactor.text(command)}
        if result.get("skipped"):
            return {**entry, "skipped": True, "reason": str(result.get("msg") or result.get("skip_reason") or "")}
        if result.get("no_log") or "censored" in result:
            return {**entry, "skipped": True, "reason": "the result was hidden (no_log)"}
        data = _as_printed(result.get("stdout"), redactor)
        target = _unique(folder, f"{name}.txt")
        target.write_bytes(data)
        entry.update({"file": target.name, "exit_code": result.get("rc"), "size": len(data), "sha256": _sha256(data),
                      "start": result.get("start"), "end": result.get("end")})
        if result.get("rc") == MISSING_TOOL_RC:
            entry["missing"] = True
        error_data = _as_printed(result.get("stderr"), redactor)
        if error_data:
            error_file = _unique(folder, f"{name}.stderr.txt")
            error_file.write_bytes(error_data)
            entry.update({"stderr_file": error_file.name, "stderr_size": len(error_data),
                          "stderr_sha256": _sha256(error_data)})
        if result.get("msg") and result.get("rc") is None:
            entry["msg"] = redactor.text(str(result["msg"]))
        return entry


def _as_printed(output: Any, redactor: Redactor) -> bytes:
    """The bytes a command printed, secrets masked; for a result that lost them (not a command's, or
    rebuilt by a filter), its text with a final newline."""
    if isinstance(output, HostOutput):
        return redactor.text(output.raw.decode("utf-8", errors="surrogateescape")).encode("utf-8",
                                                                                       errors="surrogateescape")
    text = redactor.text(str(output or ""))
    return (text + "\n").encode("utf-8") if text else b""


def _unique(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/<stem>-2<suffix>`` ... when two diagnostics share a name."""
    candidate, counter = folder / name, 2
    stem, dot, suffix = name.partition(".")
    while candidate.exists():
        candidate = folder / f"{stem}-{counter}{dot}{suffix}"
        counter += 1
    return candidate


def _keep_previous(folder: Path) -> None:
    """Rename an earlier collection's folder to ``<name>@<its collection time>``."""
    if not folder.exists():
        return
    try:
        previous = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["collected"]
    except (OSError, ValueError, KeyError, TypeError):
        previous = datetime.fromtimestamp(folder.stat().st_mtime, UTC).isoformat(timespec="seconds")
    target = folder.parent / f"{folder.name}@{_file_name(str(previous))}"
    if target.exists():
        target = folder.parent / f"{target.name}-{os.getpid()}-{datetime.now().timestamp():.0f}"
    folder.rename(target)


def _tarball(folder: Path) -> bytes:
    """A gzipped tar of ``folder`` (entries under ``folder.name/``), built in memory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=folder.name)
    return buffer.getvalue()
