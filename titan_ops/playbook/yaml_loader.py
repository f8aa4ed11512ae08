"""YAML loading that remembers where every mapping, list and key came from.

Mappings load as :class:`LocatedDict` and sequences as :class:`LocatedList`;
both carry the :class:`~titan_ops.errors.Location` of their start, and a
mapping also knows the location of each of its keys, so errors found long
after parsing can still name ``file:line:column``. Strings are authored text
(:mod:`titan_ops.trust`), except those tagged ``!unsafe``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from titan_ops.errors import Location, PlaybookError
from titan_ops.source_text import read_source
from titan_ops.trust import construct_authored, construct_unsafe
from titan_ops.vault import Encrypted, Vault, VaultError, decrypt_file, is_encrypted, open_values, reveal_leaves
from titan_ops.yaml_bounds import BoundedConstruction, unreadable


class LocatedDict(dict):
    """A dict that knows where it and each of its keys stand in the source."""

    location: Location
    key_locations: dict[Any, Location]

    def where(self, key: Any) -> Location:
        """The location of ``key``, or of the mapping when the key is not from YAML."""
        return self.key_locations.get(key, self.location)


class LocatedList(list):
    """A list that knows where it starts in the source."""

    location: Location


yaml.SafeDumper.add_representer(LocatedDict, yaml.representer.SafeRepresenter.represent_dict)
yaml.SafeDumper.add_representer(LocatedList, yaml.representer.SafeRepresenter.represent_list)


def _location(filename: str, mark: yaml.Mark) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML has it (several times faster; the same nodes and marks)."""


def _make_loader(filename: str) -> type[yaml.SafeLoader]:
    class Loader(BoundedConstruction, _SafeLoader):  # type: ignore[misc,valid-type]
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedDict:
        loader.flatten_mapping(node)
        result = LocatedDict()
        result.location = _location(filename, node.start_mark)
        result.key_locations = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise PlaybookError("a mapping key must be a plain value",
                                    _location(filename, key_node.start_mark)) from None
            if key in result:
                raise PlaybookError(f"duplicate key '{key}'", _location(filename, key_node.start_mark), str(key))
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_locations[key] = _location(filename, key_node.start_mark)
        return result

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
        result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        result.location = _location(filename, node.start_mark)
        return result

    def construct_vault(loader: yaml.SafeLoader, node: yaml.Node) -> Encrypted:
        if not isinstance(node, yaml.ScalarNode):
            raise PlaybookError("!vault applies to a string (the vault text)", _location(filename, node.start_mark))
        return Encrypted(loader.construct_scalar(node), _location(filename, node.start_mark))

    Loader.add_constructor("!vault", construct_vault)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    Loader.add_constructor("tag:yaml.org,2002:str", construct_authored)
    Loader.add_constructor("!unsafe", construct_unsafe)
    return Loader


def load_yaml_text(text: str, filename: str, vault: Vault | None = None) -> Any:
    """Parse YAML text, raising PlaybookError with file:line:column on bad syntax.

    A wholly vault-encrypted text is decrypted first (its values are then secrets), and ``!vault``
    values are opened with ``vault`` (without one they stay encrypted; see :mod:`titan_ops.vault`).
    """
    encrypted = is_encrypted(text)
    try:
        if encrypted:
            text = decrypt_file(text, filename, vault)
        document = yaml.load(text, Loader=_make_loader(filename))  # noqa: S506 - SafeLoader subclass
        if encrypted and vault is not None:
            reveal_leaves(document, vault)
        return open_values(document, vault)
    except VaultError as error:
        raise PlaybookError(error.message, error.location or Location(filename)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = _location(filename, mark) if mark else Location(filename)
        problem = error.problem or error.context or "malformed YAML"
        raise PlaybookError(f"malformed YAML: {problem}", location) from None
    except yaml.reader.ReaderError as error:
        problem, location = unreadable(error, text, filename)
        raise PlaybookError(f"malformed YAML: {problem}", location) from None
    except yaml.YAMLError as error:
        raise PlaybookError(f"malformed YAML: {error}", Location(filename)) from None


def load_yaml_file(path: str | Path, vault: Vault | None = None) -> Any:
    """Read and parse a YAML file with locations (vault-encrypted ones opened with ``vault``); a missing
    file is a PlaybookError."""
    return load_yaml_text(read_source(path, PlaybookError), str(path), vault)


def location_of(value: Any, default: Location) -> Location:
    """The location a loaded value carries, or ``default``."""
    return getattr(value, "location", default)
