"""A play's roles (``roles:``, ``import_role``, and ``include_role`` at run time) expanded into blocks.

Each role becomes a block holding its dependencies' blocks and then a block with the role's tasks
and its :class:`~titan_ops.playbook.model.RoleScope` (defaults, vars, parameters). As in Ansible, a
``roles:`` entry or a dependency is marked to run once per host and play with the same parameters,
``when`` and ``tags`` (unless the role's meta says ``allow_duplicates: true``); ``import_role`` and
``include_role`` always run. The roles' handlers join the play's, and the variables and defaults of
public roles are the play's too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from titan_ops.errors import Location, PlaybookError
from titan_ops.modules.custom.library import library_folder
from titan_ops.playbook.arguments import parse_key_values
from titan_ops.playbook.keywords import as_list, tags_of
from titan_ops.playbook.model import Block, RoleScope, Task
from titan_ops.playbook.play_values import boolean
from titan_ops.playbook.roles import INCLUDE_ROLE_OPTIONS, IMPORT_ROLE_OPTIONS, RoleFolder, find_role, split_entry
from titan_ops.playbook.yaml_loader import LocatedDict, location_of

if TYPE_CHECKING:
    from titan_ops.playbook.parser import _Parser


class PlayRoles:
    """The roles one play expands, in order: what was expanded, its handlers and its variables."""

    def __init__(self, parser: _Parser, search: list[str], play_location: Location | None = None):
        self.parser = parser
        self.search = search
        self.play_location = play_location
        """Where the play is: ansible-core gives the validation of a role's arguments that location."""
        self.handlers: list[Task] = []
        self.vars: dict[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        self._handler_files: set[str] = set()
        self._chain: tuple[str, ...] = ()
        self.names: list[str] = []
        """The roles the play names (``roles:``, ``import_role``, ``include_role``), each once."""
        self.dependent_names: list[str] = []
        """The roles that are dependencies of others, each once."""

    def entry(self, entry: Any, origin: Location, stack: tuple[str, ...]) -> Block | None:
        """The block of one ``roles:`` entry (None: already expanded with these parameters)."""
        name, keywords, params = split_entry(entry, origin)
        where = location_of(entry, origin)
        folder = find_role(self.parser.static_role_name(name), self.search, where, "roles")
        _add(self.names, folder.name)
        return self._expand(folder, keywords, params, {}, where, stack, deduplicate=True, public=True)

    def named(self, options: dict[str, Any], where: Location, stack: tuple[str, ...], key: str,
              public: bool) -> Block:
        """The block of the role an ``import_role`` or ``include_role`` names (the task's own keywords
        wrap it); never deduplicated. A ``public`` role's variables and defaults are the play's."""
        folder = find_role(self.parser.static_role_name(options["name"]), self.search, where, key)
        _add(self.names, folder.name)
        return self._expand(folder, {}, {}, _expansion_options(options), where, stack, deduplicate=False, public=public)

    def _expand(self, folder: RoleFolder, keywords: dict[str, Any], params: dict[str, Any], options: dict[str, Any],
                where: Location, stack: tuple[str, ...], deduplicate: bool, public: bool) -> Block:
        """The role's block. Its scope holds its dependencies' defaults and variables below its own, as
        Ansible lets a role see them."""
        # a role may import itself for another tasks file (as in ansible-core), not for the same one
        link = folder.path + (f" (tasks_from {options['tasks_from']})" if options.get("tasks_from") else "")
        if link in self._chain:
            raise PlaybookError(f"role '{folder.name}' depends on itself: {' -> '.join(self._chain)}", where, "role")
        self._chain += (link,)
        try:
            dependencies = [self._dependency(dependency, folder, params, where, stack, public)
                            for dependency in folder.dependencies]
            scope = RoleScope(folder.name, folder.path, {}, {}, params)
            for dependency in dependencies:
                for inherited in role_scopes(dependency):
                    scope.defaults.update(inherited.defaults)
                    scope.vars.update(inherited.vars)
            vault = self.parser.vault
            scope.defaults.update(folder.variables("defaults", options.get("defaults_from", "main"), where,
                                                   "defaults_from" in options, vault))
            scope.vars.update(folder.variables("vars", options.get("vars_from", "main"), where, "vars_from" in options,
                                               vault))
            tasks = self._tasks(folder, options.get("tasks_from"), where, stack)
            if _validates(options, where):
                tasks = [*_validation(folder, options.get("tasks_from") or "main", params, self.play_location),
                         *tasks]
            self._handlers(folder, options.get("handlers_from"), where, stack, scope)
        finally:
            self._chain = self._chain[:-1]
        if public:
            self.defaults.update(scope.defaults)
            self.vars.update(scope.vars)
        # as in ansible-core, of the keywords only when and tags tell two entries of a role apart (become, ... do not)
        identity = json.dumps([folder.path, {key: keywords.get(key) for key in ("when", "tags")}, params, options],
                              sort_keys=True, default=str)
        return Block(block=[*dependencies, Block(block=tasks, location=where, role=scope)], location=where,
                     when=as_list(keywords.get("when")), tags=tags_of(keywords.get("tags")),
                     keywords={key: value for key, value in keywords.items() if key not in ("when", "tags")},
                     runs_once_as=identity if deduplicate and not folder.allow_duplicates else None)

    def _dependency(self, entry: Any, parent: RoleFolder, parent_params: dict[str, Any], where: Location,
                    stack: tuple[str, ...], public: bool) -> Block:
        """A dependency's block: it sees the parameters of the role that depends on it below its own, as in
        ansible."""
        name, keywords, own = split_entry(entry, where)
        params = {**parent_params, **own}
        # as Ansible: after roles/ beside the playbook and the roles path, before the playbook's folder
        search = [*self.search[:-1], os.path.dirname(parent.path), *self.search[-1:]]
        folder = find_role(name, search, location_of(entry, where), "dependencies")
        _add(self.dependent_names, folder.name)
        return self._expand(folder, keywords, params, {}, location_of(entry, where), stack, deduplicate=True,
                            public=public)

    def _tasks(self, folder: RoleFolder, tasks_from: str | None, where: Location, stack: tuple[str, ...]) -> list:
        path = folder.file("tasks", tasks_from or "main")
        if path is None:
            if tasks_from:
                raise PlaybookError(f"role '{folder.name}' has no tasks file '{tasks_from}'", where, "tasks_from")
            return []
        with self.in_role(folder):
            return self.parser.task_file(path, stack, where)

    def _handlers(self, folder: RoleFolder, handlers_from: str | None, where: Location, stack: tuple[str, ...],
                  scope: RoleScope) -> None:
        path = folder.file("handlers", handlers_from or "main")
        if path is None:
            if handlers_from:
                raise PlaybookError(f"role '{folder.name}' has no handlers file '{handlers_from}'", where,
                                    "handlers_from")
            return
        if path in self._handler_files:
            return
        self._handler_files.add(path)
        with self.in_role(folder):
            # (the last place roles are searched is the playbook's folder: see role_search_path)
            handlers = self.parser.handler_file(path, stack, where, self.search[-1])
        for handler in handlers:
            if isinstance(handler, Task):
                handler.handler_role = scope
        self.handlers.extend(handlers)

    @contextmanager
    def checked_only(self) -> Iterator[None]:
        """Roles expanded inside are checked, and their handlers are not the play's (an ``include_role``'s
        join the play when it runs, as in ansible-core)."""
        handlers, files = list(self.handlers), set(self._handler_files)
        try:
            yield
        finally:
            self.handlers, self._handler_files = handlers, files

    @contextmanager
    def in_role(self, folder: RoleFolder) -> Iterator[None]:
        """Tasks parsed inside are the role's (and find its custom modules first)."""
        outer = self.parser.role, self.parser.role_library
        self.parser.role, self.parser.role_library = folder.name, library_folder(folder.path)
        self.parser.add_plugin_root(folder.path)
        try:
            yield
        finally:
            self.parser.role, self.parser.role_library = outer


def _expansion_options(options: dict[str, Any]) -> dict[str, Any]:
    """What of an import_role/include_role's options changes what the role expands to."""
    return {key: value for key, value in options.items() if key.endswith("_from") or key == "rolespec_validate"}


def _validates(options: dict[str, Any], where: Location) -> bool:
    """Whether the role's entry point validates its arguments (``rolespec_validate``, true unless said)."""
    try:
        return boolean(options.get("rolespec_validate", True))
    except ValueError as error:
        raise PlaybookError(f"rolespec_validate {error}", where, "rolespec_validate") from None


def _validation(folder: RoleFolder, entry_point: str, params: dict[str, Any],
                play_location: Location | None) -> list[Task]:
    """The task an entry point with an argument spec runs first, as in ansible-core: it checks the role's
    parameters and the variables the spec names (tagged ``always``), and is located at the play (the
    spec's file outside one)."""
    spec = folder.argument_specs.get(entry_point)
    if spec is None:
        return []
    name = f"Validating arguments against arg spec '{entry_point}'"
    if "short_description" in spec:
        name += f" - {spec['short_description']}"
    # (a collection's role by its own name, as in ansible-core)
    context = {"type": "role", "name": os.path.basename(folder.path), "argument_spec_name": entry_point,
               "path": folder.path}
    location = play_location or location_of(spec, Location(folder.path))
    return [Task(module="validate_argument_spec", location=location, name=name,
                 args={"argument_spec": spec.get("options") or {}, "provided_arguments": params,
                       "validate_args_context": context},
                 tags=["always"], role=folder.name)]


def role_scopes(block: Block) -> Iterator[RoleScope]:
    """Every role's scope in an expanded role block (dependencies first)."""
    for item in block.block:
        if isinstance(item, Block):
            yield from role_scopes(item)
    if block.role is not None:
        yield block.role


def check_options(options: Any, where: Location, key: str) -> dict[str, Any]:
    """The options of ``import_role:``/``include_role:``, checked: a mapping with a ``name`` (or the same as
    ``name=web tasks_from=x.yml``)."""
    if isinstance(options, str):
        options = parse_key_values(options) or {}
    if not isinstance(options, dict) or not isinstance(options.get("name"), str):
        raise PlaybookError(f"{key} needs a mapping with the role's 'name'", where, key)
    known = INCLUDE_ROLE_OPTIONS if key == "include_role" else IMPORT_ROLE_OPTIONS
    for option in options:
        if option not in known:
            location = options.where(option) if isinstance(options, LocatedDict) else where
            raise PlaybookError(f"unknown {key} option '{option}'", location, str(option))
    for option in ("tasks_from", "vars_from", "defaults_from", "handlers_from"):
        if option in options and not isinstance(options[option], str):
            raise PlaybookError(f"'{option}' must be a file name", where, option)
    return dict(options)



def _add(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)
