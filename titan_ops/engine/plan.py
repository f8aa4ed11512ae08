"""The plan stage: what can be known of a play before any host is touched."""

from __future__ import annotations

import math
from collections import ChainMap
from typing import Any

from titan_ops.errors import Location, PlaybookError
from titan_ops.filters import to_bool
from titan_ops.playbook.model import Play
from titan_ops.playbook.yaml_loader import load_yaml_file
from titan_ops.redaction import every_value, is_secret_store
from titan_ops.templating import Templar
from titan_ops.vault import Vault


def gathers_facts(play: Play, templar: Templar, extra_vars: dict[str, Any], default: bool = True) -> bool:
    """Whether the play gathers facts (``default`` when it does not say)."""
    value = play.gather_facts
    if value is None:
        return default
    if isinstance(value, str):
        value = templar.render(value, ChainMap(extra_vars, play.vars))
    return to_bool(value)


def load_vars_files(play: Play, templar: Templar, extra_vars: dict[str, Any],
                    vault: Vault | None = None) -> dict[str, Any]:
    """The variables of the play's ``vars_files``, later files winning (vault-encrypted ones opened)."""
    loaded: dict[str, Any] = {}
    for name in play.vars_files:
        path = templar.render(name, ChainMap(extra_vars, play.vars))
        full = path if path.startswith("/") else f"{play.base_dir}/{path}"
        document = load_yaml_file(full, vault)
        if document is None:
            continue
        if not isinstance(document, dict):
            raise PlaybookError("a vars file must hold a mapping", Location(full, 1, 1), "vars_files")
        if is_secret_store(full):
            templar.note_secrets(every_value(document))  # secrets.yml: every value is one
        loaded.update(document)
    return loaded


def batches(serial: Any, hosts: list[str]) -> list[list[str]]:
    """Split ``hosts`` by ``serial``: a number, a percentage, or a list of them."""
    if serial in (None, 0, "0", []):
        return [hosts]
    sizes = serial if isinstance(serial, list) else [serial]
    result, start, index = [], 0, 0
    while start < len(hosts):
        size = _batch_size(sizes[min(index, len(sizes) - 1)], len(hosts))
        result.append(hosts[start:start + size])
        start += size
        index += 1
    return result


def _batch_size(value: Any, total: int) -> int:
    text = str(value).strip()
    if text.endswith("%"):
        return max(1, math.floor(total * float(text[:-1]) / 100.0))
    return max(1, int(text))
