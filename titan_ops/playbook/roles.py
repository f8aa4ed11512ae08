"""Roles on disk: where a role is found, and what its folders hold.

A role is a folder with ``tasks/``, ``handlers/``, ``defaults/``, ``vars/``, ``files/``,
``templates/`` and ``meta/`` (each optional). It is searched, as Ansible searches it, in
``roles/`` beside the playbook, then in each folder of the roles path (``roles_path`` in
ansible.cfg, ``ANSIBLE_ROLES_PATH``), then beside the playbook itself; a role named by a path
is taken as it is; a role named ``namespace.collection.role`` is found in the collections of
``collections/ansible_collections/`` beside the playbook. What the role's tasks become is the
parser's business (``playbook.parser``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from titan_ops.errors import Location, MissingFileError, PlaybookError
from titan_ops.modules.argument_spec import spec_problems
from titan_ops.playbook.model import INHERITED_KEYWORDS
from titan_ops.playbook.yaml_loader import LocatedDict, load_yaml_file, location_of
from titan_ops.vault import Vault

ROLE_KEYWORDS = frozenset({"when", "tags", *INHERITED_KEYWORDS})
"""Keywords of a ``roles:`` entry; every other key (and ``vars:``) is a role parameter."""

IMPORT_ROLE_OPTIONS = frozenset({"name", "tasks_from", "vars_from", "defaults_from", "handlers_from",
                                 "allow_duplicates", "public", "rolespec_validate"})
"""What ``import_role:`` takes."""

INCLUDE_ROLE_OPTIONS = IMPORT_ROLE_OPTIONS | {"apply"}
"""What ``include_role:`` takes."""

_EXTENSIONS = (".yml", ".yaml", ".json", "")


@dataclass(frozen=True)
class RoleFolder:
    """A role found on disk: its name, folder and ``meta/main.yml``."""

    name: str
    path: str
    dependencies: list[Any] = field(default_factory=list)
    allow_duplicates: bool = False
    argument_specs: dict[str, Any] = field(default_factory=dict)
    """Each entry point's argument spec (``short_description``, ``options``), from ``meta/argument_specs.yml``
    or else the ``argument_specs`` of ``meta/main.yml``; checked."""

    def file(self, folder: str, name: str) -> str | None:
        """``<role>/<folder>/<name>`` with the first extension that exists (.yml, .yaml, .json, none)."""
        base = os.path.join(self.path, folder, name)
        for extension in _EXTENSIONS:
            if os.path.isfile(base + extension):
                return base + extension
        return None

    def variables(self, folder: str, name: str, origin: Location, required: bool,
                  vault: Vault | None) -> dict[str, Any]:
        """The mapping in ``defaults/`` or ``vars/`` file ``name`` (empty when there is none)."""
        path = self.file(folder, name)
        if path is None:
            if required:
                raise PlaybookError(f"role '{self.name}' has no {folder} file '{name}'", origin, f"{folder}_from")
            return {}
        document = load_yaml_file(path, vault)
        if document is None:
            return {}
        if not isinstance(document, dict):
            raise PlaybookError("a role's variables file must hold a mapping",
                                location_of(document, Location(path, 1, 1)))
        return dict(document)


def find_role(name: str, search: list[str], origin: Location, key: str) -> RoleFolder:
    """The role called ``name`` (or at path ``name``), searched in ``search``; PlaybookError if absent."""
    if "{{" in name or "{%" in name:
        raise PlaybookError(f"a role name here cannot be a template ('{name}'): use include_role", origin, key)
    if name.count(".") >= 2 and "/" not in name:
        return _collection_role(name, search[-1], origin, key)
    candidates = [name] if os.path.isabs(name) else [os.path.join(folder, name) for folder in search]
    for candidate in candidates:
        if os.path.isdir(candidate):
            return _read_meta(os.path.basename(os.path.normpath(candidate)), os.path.normpath(candidate))
    raise MissingFileError(f"the role '{name}' was not found in: {', '.join(search)}", origin, key)


def _collection_role(name: str, base_dir: str, origin: Location, key: str) -> RoleFolder:
    """The role ``namespace.collection.role`` of a collection in ``collections/`` beside the playbook (the one
    place of Ansible's collections path titan-ops searches); it keeps its full name."""
    parts = name.split(".")
    folder = os.path.join(base_dir, "collections", "ansible_collections", *parts[:2], "roles", parts[2])
    if len(parts) != 3 or not os.path.isdir(folder):
        raise MissingFileError(f"the role '{name}' is not in collections/ beside the playbook (roles from "
                               "collections elsewhere are not supported by titan-ops)", origin, key)
    return _read_meta(name, folder)


def role_search_path(base_dir: str, roles_path: list[str]) -> list[str]:
    """Where roles are searched for a playbook in ``base_dir``, first first."""
    return [os.path.join(base_dir, "roles"), *[os.path.expanduser(folder) for folder in roles_path], base_dir]


def _read_meta(name: str, path: str) -> RoleFolder:
    bare = RoleFolder(name, path)
    specs_path = bare.file("meta", "argument_specs")
    specs = _argument_specs(load_yaml_file(specs_path), specs_path) if specs_path is not None else {}
    meta_path = bare.file("meta", "main")
    if meta_path is None:
        return RoleFolder(name, path, argument_specs=specs)
    meta = load_yaml_file(meta_path) or {}
    where = location_of(meta, Location(meta_path, 1, 1))
    if not isinstance(meta, dict):
        raise PlaybookError("a role's meta file must hold a mapping", where)
    dependencies = meta.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise PlaybookError("dependencies must be a list of roles", meta.where("dependencies"), "dependencies")
    allow = meta.get("allow_duplicates", False)
    if not isinstance(allow, bool):
        raise PlaybookError("allow_duplicates must be true or false", meta.where("allow_duplicates"),
                            "allow_duplicates")
    if specs_path is None:  # as ansible-core: meta/argument_specs.yml, when there is one, is the only one read
        specs = _argument_specs(meta, meta_path)
    return RoleFolder(name, path, list(dependencies), allow, specs)


def _argument_specs(document: Any, path: str) -> dict[str, Any]:
    """The ``argument_specs`` of a role's meta document, checked: entry point names to their specs (an
    entry point without one, or an empty file, has none)."""
    if document is None:
        return {}
    origin = location_of(document, Location(path, 1, 1))
    if not isinstance(document, dict):
        raise PlaybookError("a role's argument specs file must hold a mapping", origin)
    specs = document.get("argument_specs") or {}
    if not isinstance(specs, dict):
        raise PlaybookError("argument_specs must map entry point names to their specs",
                            _key_location(document, ("argument_specs",), origin), "argument_specs")
    for entry_point, spec in specs.items():
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise PlaybookError(f"the argument spec of entry point '{entry_point}' must be a mapping",
                                specs.where(entry_point), str(entry_point))
        if not isinstance(spec.get("short_description", ""), str):
            raise PlaybookError("short_description must be text", spec.where("short_description"),
                                "short_description")
        for keys, problem in spec_problems(spec.get("options") or {}, ("options",)):
            raise PlaybookError(f"argument spec '{entry_point}': {'.'.join(keys)} {problem}",
                                _key_location(spec, keys, origin), keys[-1])
    return {entry_point: spec for entry_point, spec in specs.items() if spec}


def _key_location(document: Any, keys: tuple[str, ...], default: Location) -> Location:
    """Where the last of ``keys`` (a path of mapping keys from ``document``) is written."""
    where = default
    for key in keys:
        if not isinstance(document, LocatedDict) or key not in document:
            break
        where = document.where(key)
        document = document[key]
    return where


def split_entry(entry: Any, origin: Location) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A ``roles:`` entry or dependency: its role name, its keywords and its parameters."""
    if isinstance(entry, str):
        return entry, {}, {}
    if not isinstance(entry, dict):
        raise PlaybookError(f"a role must be a name or a mapping, got {type(entry).__name__}",
                            location_of(entry, origin))
    where = entry.where if isinstance(entry, LocatedDict) else (lambda _key: location_of(entry, origin))
    names = [key for key in ("role", "name") if key in entry]
    if len(names) != 1 or not isinstance(entry[names[0]], str):
        raise PlaybookError("a role entry needs 'role:' (or 'name:') with the role's name", location_of(entry, origin),
                            "role")
    keywords = {key: value for key, value in entry.items() if key in ROLE_KEYWORDS}
    params = {key: value for key, value in entry.items() if key not in ROLE_KEYWORDS and key not in names}
    params.update(params.pop("vars", None) or {})
    for key in params:
        if not isinstance(key, str) or not key.isidentifier():
            raise PlaybookError(f"'{key}' is not a valid role parameter name", where(key), str(key))
    return entry[names[0]], keywords, params
