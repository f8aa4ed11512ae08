"""Read YAML and JSON files the way Ansible's loader does, and find where a key sits.

JSON is tried first (so ``1e3`` in a ``.json`` file is a float), then YAML
1.1 as PyYAML reads it (dates are dates). Strings are authored text
(:mod:`titan_ops.trust`); ``!unsafe`` marks text never to template.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import yaml

from titan_ops.errors import InventoryError, Location
from titan_ops.json_document import load_json_text
from titan_ops.trust import construct_authored, construct_unsafe, trusted
from titan_ops.vault import Encrypted, Vault, VaultError, decrypt_file, is_encrypted, open_values, reveal_leaves
from titan_ops.yaml_bounds import BoundedConstruction, unreadable

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(BoundedConstruction, _BaseLoader):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader, bounded (:mod:`titan_ops.yaml_bounds`), plus Ansible's ``!unsafe`` tag."""


def _vault(loader: _Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        mark = node.start_mark
        return Encrypted(loader.construct_scalar(node), Location(mark.name, mark.line + 1, mark.column + 1))
    raise yaml.constructor.ConstructorError(None, None, "!vault applies to a string (the vault text)",
                                            node.start_mark)


_Loader.add_constructor("tag:yaml.org,2002:str", construct_authored)
_Loader.add_constructor("!unsafe", construct_unsafe)
_Loader.add_constructor("!vault", _vault)


def load_data(text: str, file: str, vault: Vault | None = None) -> Any:
    """The data in ``text`` (JSON or YAML); InventoryError naming ``file`` and line when malformed.

    A wholly vault-encrypted file is decrypted first (its values are then secrets); ``!vault`` values
    are opened with ``vault``, and without one stay encrypted (see :mod:`titan_ops.vault`).
    """
    encrypted = is_encrypted(text)
    try:
        if encrypted:
            text = decrypt_file(text, file, vault)
        data = _parse(text, file)
        if encrypted and vault is not None:
            reveal_leaves(data, vault)
        return open_values(data, vault)
    except VaultError as error:
        raise InventoryError(error.message, error.location or Location(file)) from None


def _parse(text: str, file: str) -> Any:
    try:
        return trusted(load_json_text(text, file, InventoryError))
    except json.JSONDecodeError:
        pass
    try:
        return yaml.load(_named_stream(text, file), Loader=_Loader)  # noqa: S506 - a safe loader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        reason = " ".join(part for part in (error.context, error.problem) if part)
        raise InventoryError(f"YAML syntax error: {reason}", location) from None
    except yaml.reader.ReaderError as error:
        problem, location = unreadable(error, text, file)
        raise InventoryError(f"YAML syntax error: {problem}", location) from None
    except yaml.YAMLError as error:
        raise InventoryError(f"YAML syntax error: {error}", Location(file)) from None


def _named_stream(text: str, file: str) -> io.StringIO:
    """``text`` as a stream named ``file``, so that YAML marks (and !vault locations) name the file."""
    stream = io.StringIO(text)
    stream.name = file  # type: ignore[misc]
    return stream


def locate(text: str, file: str, path: Sequence[Any]) -> Location:
    """Where the mapping key at ``path`` (keys from the document root) is written in ``text``.

    Composed with the loader that parsed ``text``: PyYAML's pure-Python one refuses texts libyaml reads (a
    byte order mark within a line's indentation), which left the error without a line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return Location(file)
    line, column = 1, 1
    for key in path:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                line, column, node = key_node.start_mark.line + 1, key_node.start_mark.column + 1, value_node
                break
        else:
            break
    return Location(file, line, column)
