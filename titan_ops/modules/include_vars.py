"""``include_vars``: variables from YAML or JSON files on the controller, for the rest of the run.

A relative file is searched as Ansible searches it: under ``vars/`` and then as given, in the
role's folder and then the playbook's. The runner keeps the variables it returns (under
``ansible_facts``) below ``set_fact`` and registered values, as Ansible does.
"""

from __future__ import annotations

import os
import re
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.lookups.context import LookupContext
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.playbook.yaml_loader import load_yaml_file
from titan_ops.vault import Vault

_EXTENSIONS = ("yaml", "yml", "json")


class IncludeVars(Module):
    """Load variables from a file, or from every file of a folder."""

    name = "include_vars"
    description = "Load variables from a YAML/JSON file, or every such file of a folder, on the controller."
    free_form = "file"
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "minLength": 1, "description": "The file to load."},
            "dir": {"type": "string", "minLength": 1,
                    "description": "A folder: every .yaml/.yml/.json file in it (and its sub-folders), sorted."},
            "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                     "description": "Put the variables under this one variable instead of at the top."},
            "depth": {"type": "integer", "minimum": 0, "default": 0,
                      "description": "How deep `dir` is read (0: all the way)."},
            "files_matching": {"type": "string", "description": "Only files whose name matches this regex."},
            "ignore_files": {"type": "array", "items": {"type": "string"},
                             "description": "File names (regexes) to leave out."},
            "extensions": {"type": "array", "items": {"type": "string"}, "default": list(_EXTENSIONS),
                           "description": "The file extensions `dir` reads."},
            "ignore_unknown_extensions": {"type": "boolean", "default": False,
                                          "description": "Skip files with other extensions instead of failing."},
            "hash_behaviour": {"enum": ["replace"], "description": "Only `replace` (Ansible's default)."},
        },
        "oneOf": [{"required": ["file"]}, {"required": ["dir"]}],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        finder = LookupContext(host.variables, host.templar)
        try:
            files = self._dir_files(args, finder) if "dir" in args else [self._file(args["file"], finder)]
        except TitanOpsError as error:
            return Decision(False, {"msg": error.message, "ansible_included_var_files": [],
                                    "ansible_facts": {}}, failed=True)
        variables: dict[str, Any] = {}
        for path in files:
            variables.update(_read(path, host.vault))
        facts = {args["name"]: variables} if "name" in args else variables
        return Decision(False, {"ansible_included_var_files": files, "ansible_facts": facts})

    def _file(self, name: str, finder: LookupContext) -> str:
        path = finder.find(name, "vars")
        if path is None or not os.path.isfile(path):
            raise TitanOpsError(f"Could not find or access '{name}' (searched vars/ and beside the role and "
                                "the playbook) on the controller")
        return path

    def _dir_files(self, args: dict[str, Any], finder: LookupContext) -> list[str]:
        folder = finder.find(args["dir"], "vars")
        if folder is None or not os.path.isdir(folder):
            raise TitanOpsError(f"{args['dir']} directory does not exist")
        extensions = args.get("extensions", list(_EXTENSIONS))
        matching = re.compile(args["files_matching"]) if "files_matching" in args else None
        ignored = [re.compile(pattern) for pattern in args.get("ignore_files", [])]
        depth = args.get("depth", 0)
        found = []
        for current, folders, names in os.walk(folder):
            level = current[len(folder):].count(os.sep) + 1
            folders.sort()
            if depth and level >= depth:
                folders.clear()
            for name in sorted(names):
                if matching and not matching.search(name) or any(pattern.search(name) for pattern in ignored):
                    continue
                if name.rsplit(".", 1)[-1] not in extensions:
                    if args.get("ignore_unknown_extensions"):
                        continue
                    raise TitanOpsError(f"{os.path.join(current, name)} does not have a valid extension: "
                                        f"{', '.join(extensions)}")
                found.append(os.path.join(current, name))
        return found


def _read(path: str, vault: Vault | None) -> dict[str, Any]:
    document = load_yaml_file(path, vault)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise TitanOpsError(f"{path} must hold a mapping of variables, got {type(document).__name__}")
    return dict(document)
