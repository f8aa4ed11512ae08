"""What a custom module printed, read as ansible-core reads it: the JSON object in its output (text around
it dropped, text after it a warning), ansible-core's own keys cleaned, a module whose output holds no JSON
object a failure that shows what it printed. The result is data: nothing in it is ever a template."""

from __future__ import annotations

import json
from typing import Any

_ALWAYS_REMOVED = ("invocation",)
"""Keys a module may return that the task's result does not keep."""


def parse_output(stdout: str, stderr: str, rc: int, name: str) -> dict[str, Any]:
    """The task result of the module ``name`` that printed ``stdout`` and ``stderr`` and exited ``rc``."""
    lines = stdout.splitlines()
    start = next((index for index, line in enumerate(lines) if line.startswith("{")), None)
    if start is None:
        return _unreadable("No start of json char found", stdout, stderr, rc)
    end = max((index for index, line in enumerate(lines) if index >= start and line.rstrip().endswith("}")),
              default=len(lines) - 1)
    try:
        result = json.loads("\n".join(lines[start:end + 1]))
    except ValueError as error:
        return _unreadable(str(error), stdout, stderr, rc)
    if not isinstance(result, dict):
        return _unreadable("the module's output is not a JSON object", stdout, stderr, rc)
    warnings = [str(warning) for warning in _as_list(result.pop("warnings", None))]
    junk = "\n".join(line for line in lines[end + 1:])
    if junk.strip():
        warnings.append(f"Module invocation had junk after the JSON data: {junk}")
    for key in [key for key in result if key.startswith("_ansible_")]:
        warnings.append(f"Removed unexpected internal key in module return: {key} = {result.pop(key)}")
    for key in _ALWAYS_REMOVED:
        result.pop(key, None)
    result = {key: _without_internal_keys(value) for key, value in result.items()}
    if warnings:
        result["warnings"] = warnings
    if "deprecations" in result:
        result["deprecations"] = [_deprecation(entry, name) for entry in _as_list(result["deprecations"])]
    if isinstance(result.get("diff"), dict):
        result["diff"] = [result["diff"]]
    return result


def _without_internal_keys(value: Any) -> Any:
    """``value`` without the ``_ansible_*`` keys of the mappings inside it (a WANT_JSON module's echo of its
    parameters), as ansible-core keeps a result."""
    if isinstance(value, dict):
        return {key: _without_internal_keys(item) for key, item in value.items()
                if not (isinstance(key, str) and key.startswith("_ansible_"))}
    if isinstance(value, list):
        return [_without_internal_keys(item) for item in value]
    return value


def _unreadable(reason: str, stdout: str, stderr: str, rc: int) -> dict[str, Any]:
    return {"failed": True, "changed": False, "msg": f"Module result deserialization failed: {reason}",
            "module_stdout": stdout, "module_stderr": stderr, "rc": rc}


def _deprecation(entry: Any, name: str) -> Any:
    """A deprecation as ansible-core reports it: which module deprecated what."""
    if not isinstance(entry, dict):
        return entry
    collection = entry.get("collection_name") or "ansible.legacy"
    return {**entry, "collection_name": collection,
            "deprecator": {"resolved_name": f"{collection}.{name}", "type": "module"}}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
