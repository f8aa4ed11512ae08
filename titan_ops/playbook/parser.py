"""Playbook YAML -> validated model. Nothing here connects to a host.

Checks, in order: YAML syntax, the shipped JSON Schema (keyword types),
unknown or unsupported keywords, unknown modules, module arguments against
each module's schema, and template syntax. Every error names
``file:line:column`` and the key.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from titan_ops import lookups, modules
from titan_ops.errors import (Location, MissingFileError, ModuleError, PlaybookError, ReservedParameter,
                              TemplateError, TitanOpsError, UnsupportedParameters)
from titan_ops.modules import custom
from titan_ops.lookups import jinja as lookup_functions
from titan_ops.playbook import keywords, passed_checks, play_values
from titan_ops.playbook.arguments import check_arguments, parse_free_form
from titan_ops.playbook.keywords import as_list, tags_of
from titan_ops.playbook.model import (
    INHERITED_KEYWORDS, Block, IncludeRole, IncludeTasks, Play, Playbook, Task, TaskItem, VarPrompt, nested_block,
)
from titan_ops.playbook.role_blocks import PlayRoles, check_options
from titan_ops.playbook.roles import ROLE_KEYWORDS, role_search_path
from titan_ops.modules.custom.library import library_folder
from titan_ops.playbook.yaml_loader import LocatedDict, load_yaml_file, location_of
from titan_ops.templating import Templar, bare_expression, is_single_expression, is_template
from titan_ops.trust import Authored, derived, is_authored
from titan_ops.vault import Vault

_SCHEMA = json.loads(resources.files("titan_ops").joinpath("schemas/playbook.json").read_text())


def playbook_schema() -> dict[str, Any]:
    """The playbook JSON Schema shipped with the package."""
    return _SCHEMA


def load_playbook(path: str | Path, templar: Templar | None = None, roles_path: Sequence[str] = (),
                  vault: Vault | None = None, library_path: Sequence[str] = ()) -> Playbook:
    """Load and fully validate a playbook file; raise PlaybookError on any problem.

    ``import_playbook``, ``import_tasks``, ``roles:`` and ``import_role`` are inlined here, so the
    whole tree is validated before the run starts. Roles are searched in ``roles/`` beside the
    playbook, then in ``roles_path``, then beside the playbook. Vault-encrypted files and ``!vault``
    values are opened with ``vault`` (the playbook keeps it for what the run loads later). Custom modules
    are searched in the ``library/`` of the role whose task names them, in ``library_path``, then in the
    ``library/`` folders beside the playbooks and in the roles loaded before.
    """
    return load_playbooks([path], templar, roles_path, vault, library_path)


def load_playbooks(paths: Sequence[str | Path], templar: Templar | None = None, roles_path: Sequence[str] = (),
                   vault: Vault | None = None, library_path: Sequence[str] = ()) -> Playbook:
    """Several playbook files as one run (``ansible-playbook a.yml b.yml``): their plays one after the other,
    each file loaded and validated as :func:`load_playbook` does, all of them before the run."""
    parser = _Parser(templar or Templar(), list(roles_path), vault, library_path)
    plays = [play for path in paths for play in parser.playbook_file(str(path), stack=())]
    return Playbook(path=str(paths[0]), plays=plays, roles_path=list(roles_path), vault=vault,
                    library=parser.libraries, warnings=parser.warnings, plugin_roots=parser.plugin_roots)


def load_task_file(path: str, templar: Templar | None = None, roles_path: Sequence[str] = (),
                   vault: Vault | None = None, role_search: Sequence[str] = (),
                   library: Sequence[str] = (), play_location: Location | None = None) -> list[TaskItem]:
    """Load and validate a task file (for ``include_tasks`` at run time). The roles it names are searched
    in ``role_search`` (the including play's, as in Ansible: wherever the file is), else beside it; its
    custom modules in ``library``."""
    parser = _Parser(templar or Templar(), list(roles_path), vault, library)
    search = list(role_search) or role_search_path(os.path.dirname(os.path.abspath(path)), parser.roles_path)
    parser.roles = PlayRoles(parser, search, play_location)
    return parser.task_file(path, stack=())


def load_role(include: IncludeRole, options: dict[str, Any], roles_path: Sequence[str],
              templar: Templar | None = None, vault: Vault | None = None,
              library: Sequence[str] = ()) -> tuple[Block, list[Task]]:
    """The block (dependencies, then the role's tasks) and the handlers of the role an ``include_role``
    names with its ``options`` rendered; PlaybookError when it cannot be found or does not validate."""
    parser = _Parser(templar or Templar(), list(roles_path), vault, library)
    roles = parser.roles = PlayRoles(parser, include.role_search or role_search_path(include.base_dir,
                                                                                      parser.roles_path),
                                     include.play_location)
    block = roles.named(check_options(options, include.location, "include_role"), include.location, (),
                        "include_role", public=False)
    return block, roles.handlers


def _load_document(path: str, kind: str, vault: Vault | None) -> Any:
    document = load_yaml_file(path, vault)
    if document is None:
        raise PlaybookError(f"the {kind} file is empty", Location(path, 1, 1))
    return document


def _check_schema(document: Any, file_location: Location) -> None:
    _check_schema_with(None, document, file_location)


def _check_schema_with(schema: dict[str, Any] | None, document: Any, file_location: Location) -> None:
    schema = _SCHEMA if schema is None else schema
    digest = passed_checks.digest(schema, document)
    if digest is not None and passed_checks.passed(digest):
        return
    import jsonschema  # only for what did not pass before (see passed_checks)

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        if digest is not None:
            passed_checks.remember(digest)
        return
    container, key = _locate(document, list(error.absolute_path))
    location = container.where(key) if isinstance(container, LocatedDict) else location_of(container, file_location)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        raise PlaybookError(error.message, location_of(error.instance, location), missing[0] if missing else None)
    elif error.validator == "type":
        message = f"must be of type {error.validator_value}, got {_kind(error.instance)}"
    elif error.validator == "pattern" and key == "register":
        message = f"'{error.instance}' is not a valid variable name"
    else:
        message = f"invalid value {error.instance!r}"
    raise PlaybookError(message, location, str(key) if key is not None else None)


def _kind(value: Any) -> str:
    """The plain name of ``value``'s type (``str`` for authored text, ``dict`` for a located mapping)."""
    return next((name for kind, name in ((bool, "bool"), (str, "str"), (dict, "dict"), (list, "list"))
                 if isinstance(value, kind)), type(value).__name__)


def _locate(document: Any, path: list[Any]) -> tuple[Any, Any]:
    """The innermost container on ``path`` and the key within it."""
    container, key = document, None
    for index, step in enumerate(path):
        if index == len(path) - 1:
            return container, step
        container = container[step]
    return container, key


class _Parser:
    def __init__(self, templar: Templar, roles_path: list[str], vault: Vault | None, library: Sequence[str] = ()):
        self.templar = templar
        self.roles_path = roles_path
        self.vault = vault
        self.libraries: list[str] = [os.path.abspath(os.path.expanduser(folder)) for folder in library]
        """Where custom modules are searched, in order (folders are added as playbooks and roles load)."""
        self.warnings: list[str] = []
        """What the run should know before it starts, though it is no error (an include's missing file)."""
        self.role_library: str | None = None
        """The ``library/`` of the role whose files are being parsed (searched first)."""
        self.plugin_roots: list[str] = []
        """The folders of the playbooks and roles loaded (their ``action_plugins/`` are refused by name, their
        ``connection_plugins/`` are connection plugins a host may name)."""
        self.roles: PlayRoles | None = None
        """The roles of the play being parsed."""
        self.role: str | None = None
        """The role whose files are being parsed."""
        self.handled = 0
        self.imported_vars: dict[str, Any] = {}
        """The ``vars`` of the ``import_playbook`` entries the file being parsed is imported by."""
        self.play_vars: dict[str, Any] = {}
        """What the play being parsed knows before the run: its ``vars`` and its imports' (static role names
        are rendered with them, as in ansible-core)."""
        """How many of the blocks being parsed handle their tasks' failures (``rescue``, ``ignore_errors``)."""

    def static_role_name(self, name: str) -> str:
        """A role name of ``roles:`` or ``import_role`` written as a template, rendered with the play's
        variables (ansible-core loads such a role before the run, so they are all it can use); as it is
        when they do not render it."""
        if not is_template(name):
            return name
        try:
            return str(self.templar.render(name, self.play_vars))
        except TemplateError:
            return name

    # -- files ---------------------------------------------------------------
    def playbook_file(self, path: str, stack: tuple[str, ...]) -> list[Play]:
        real = os.path.realpath(path)
        if real in stack:
            raise PlaybookError("import_playbook loops back to this file", Location(path, 1, 1), "import_playbook")
        document = _load_document(path, "playbook", self.vault)
        if isinstance(document, list):  # ``ansible.builtin.import_playbook`` (or ``ansible.legacy.``) as one spelling
            document = [_renamed(entry, {key: "import_playbook" for key in entry
                                         if key != "import_playbook" and _short_name(key) == "import_playbook"})
                        if isinstance(entry, LocatedDict) else entry for entry in document]
        _check_schema(document, Location(path, 1, 1))
        if not document:
            raise PlaybookError("a playbook must contain at least one play (the list of plays is empty)",
                                Location(path, 1, 1))
        self.add_plugin_root(os.path.dirname(os.path.abspath(path)))
        plays: list[Play] = []
        for entry in document:
            if "import_playbook" in entry:
                plays.extend(self.import_playbook(entry, path, stack + (real,)))
            else:
                plays.append(self.play(entry, os.path.dirname(os.path.abspath(path)), stack + (real,)))
        return plays

    def import_playbook(self, data: LocatedDict, path: str, stack: tuple[str, ...]) -> list[Play]:
        for key in data:
            self._check_keyword(data, key, keywords.IMPORT_PLAYBOOK_KEYWORDS, keywords.ANSIBLE_PLAY_KEYWORDS, "play")
        name = data["import_playbook"]
        if is_template(name):  # (rendered now, with what is known before any play: a constant expression)
            try:
                name = str(self.templar.render(name, {}))
            except TemplateError as error:
                raise PlaybookError(f"the file name of import_playbook cannot be rendered before the run: "
                                    f"{error.message}", data.where("import_playbook"), "import_playbook") from None
        target = _resolve(name, os.path.dirname(os.path.abspath(path)))
        if not os.path.exists(target):
            raise PlaybookError(f"imported playbook not found: {target}", data.where("import_playbook"),
                                "import_playbook")
        outer, self.imported_vars = self.imported_vars, {**self.imported_vars, **dict(data.get("vars") or {})}
        try:
            plays = self.playbook_file(target, stack)
        finally:
            self.imported_vars = outer
        for play in plays:
            play.vars = {**play.vars, **dict(data.get("vars") or {})}
            play.tags = play.tags + tags_of(data.get("tags"))
            play.when = as_list(data.get("when")) + play.when
        return plays

    def task_file(self, path: str, stack: tuple[str, ...], origin: Location | None = None) -> list[TaskItem]:
        real = os.path.realpath(path)
        if real in stack:
            raise PlaybookError("import_tasks loops back to this file", origin or Location(path, 1, 1),
                                "import_tasks")
        if not os.path.exists(path):
            raise MissingFileError(f"task file not found: {path}", origin or Location(path), "import_tasks")
        document = load_yaml_file(path, self.vault)
        if document is None:
            return []  # an empty task file, as Ansible allows
        if not isinstance(document, list):
            raise PlaybookError("a task file must hold a list of tasks", location_of(document, Location(path, 1, 1)))
        task_schema = {"$ref": "#/$defs/task_list", "$defs": _SCHEMA["$defs"]}
        _check_schema_with(task_schema, document, Location(path, 1, 1))
        return self.task_list(document, os.path.dirname(os.path.abspath(path)), stack + (real,))

    def handler_file(self, path: str, stack: tuple[str, ...], origin: Location,
                     playbook_dir: str | None = None) -> list[Task | IncludeTasks]:
        """The handlers in a role's handlers file (the files they include are looked for beside it, in the
        role's tasks/, then in ``playbook_dir``)."""
        document = load_yaml_file(path, self.vault)
        if document is None:
            return []
        if not isinstance(document, list):
            raise PlaybookError("a handlers file must hold a list of handlers", location_of(document, origin))
        _check_schema_with({"$ref": "#/$defs/task_list", "$defs": _SCHEMA["$defs"]}, document, Location(path, 1, 1))
        folder = os.path.dirname(os.path.abspath(path))
        return self.handler_list(document, folder, stack, (os.path.join(os.path.dirname(folder), "tasks"),
                                                           playbook_dir))

    def handler_list(self, items: list[LocatedDict], base_dir: str, stack: tuple[str, ...],
                     other_dirs: tuple[str | None, ...] = ()) -> list[Task | IncludeTasks]:
        """Handlers: tasks, ``include_tasks`` (run when notified by name) and ``import_tasks`` (whose tasks are
        handlers); a handler cannot be ``meta: flush_handlers``. A handler includes a file of ``base_dir`` or
        else of the first of ``other_dirs`` that holds it (a role's tasks/, the playbook's), as Ansible does."""
        handlers: list[Task | IncludeTasks] = []
        for data in items:
            action, data = _written_include(data), self._plain_includes(data)
            if "import_tasks" in data:
                folder = _first_holding(data["import_tasks"], (base_dir, *other_dirs))
                imported = self.import_tasks(data, folder, stack)
                inner = nested_block(imported.block)
                if inner is not None:
                    raise PlaybookError("a handler cannot be a block inside a block", inner.location, "block")
                handlers.extend(_handlers_in(imported))
            elif "include_tasks" in data:
                value = data["include_tasks"]
                folder = _first_holding(value["file"] if isinstance(value, dict) else value, (base_dir, *other_dirs))
                handlers.append(self.include_tasks(data, folder, stack, action, handler=True))
            elif any(key in data for key in ("block", "include_role", "import_role")):
                key = next(key for key in ("block", "include_role", "import_role") if key in data)
                raise PlaybookError(f"a handler cannot be a '{key}' in titan-ops", data.where(key), key)
            else:
                handler = self.task(data, handler_keywords=True)
                if handler.module == "meta" and handler.args.get("free_form") == "flush_handlers":
                    raise PlaybookError("flush_handlers cannot be used as a handler", handler.location, "meta")
                handlers.append(handler)
        return handlers

    def add_plugin_root(self, folder: str) -> None:
        """A playbook's or a role's folder: its ``library/`` is searched for custom modules too."""
        if folder not in self.plugin_roots:
            self.plugin_roots.append(folder)
        library = library_folder(folder)
        if library is not None and library not in self.libraries:
            self.libraries.append(library)

    def _library_order(self) -> tuple[str, ...]:
        """The folders custom modules are searched in, the role's own first."""
        first = (self.role_library,) if self.role_library else ()
        return first + tuple(folder for folder in self.libraries if folder not in first)

    def _refuse_action_plugin(self, name: str, location: Location) -> None:
        """An ``action_plugins/`` file named ``name`` is refused by name: it is a class of ansible-core's
        controller, not a module."""
        plain = custom.module_name(name)
        for root in reversed(self.plugin_roots) if plain else ():
            path = os.path.join(root, "action_plugins", f"{plain}.py")
            if os.path.isfile(path):
                raise _Unsupported(f"the action plugin '{plain}' ({path}) is not supported by titan-ops: action "
                                   "plugins are classes of ansible-core's controller", location, name)

    def find_module(self, name: str) -> tuple[modules.Module, str | None] | None:
        """The module ``name`` and, for a custom one, its file: built-in modules first, then the role's
        ``library/``, then the other folders searched; None when there is none."""
        return custom.find_module(name, self._library_order())

    # -- plays -----------------------------------------------------------------
    def play(self, data: LocatedDict, base_dir: str, stack: tuple[str, ...]) -> Play:
        if "user" in data:  # the old name of remote_user, which ansible-core still takes on a play
            if "remote_user" in data:
                raise PlaybookError("both 'user' and 'remote_user' are given: 'user' is an old name of 'remote_user'",
                                    data.where("user"), "user")
            data = _renamed(data, {"user": "remote_user"})
        for key in data:
            self._check_keyword(data, key, keywords.PLAY_KEYWORDS, keywords.ANSIBLE_PLAY_KEYWORDS, "play")
        hosts = data["hosts"]
        if isinstance(hosts, list):
            joined = ",".join(hosts)
            hosts = Authored(joined) if all(is_authored(host) for host in hosts) else joined
        self._check_templates(data, ("name", "vars", "vars_files", *_TYPED_PLAY_KEYWORDS))
        for key, check in _TYPED_PLAY_KEYWORDS.items():
            if key in data and not _holds_template(data[key]):
                try:
                    check(data[key])
                except ValueError as error:
                    raise PlaybookError(str(error), data.where(key), key) from None
        _check_throttle(data)
        inherited = {key: data[key] for key in INHERITED_KEYWORDS if key in data}
        self.play_vars = {**self.imported_vars, **dict(data.get("vars") or {})}
        roles = self.roles = PlayRoles(self, role_search_path(base_dir, self.roles_path), data.location)
        if not isinstance(data.get("roles") or [], list):
            raise PlaybookError("roles must be a list", data.where("roles"), "roles")
        pre_tasks = self.task_list(data.get("pre_tasks") or [], base_dir, stack)
        after_pre = len(roles.handlers)
        role_blocks: list[TaskItem] = []
        for entry in data.get("roles") or []:
            self._check_role_entry(entry, data.where("roles"))
            role_blocks.append(roles.entry(entry, data.where("roles"), stack))
        after_roles = len(roles.handlers)
        tasks = self.task_list(data.get("tasks") or [], base_dir, stack)
        after_tasks = len(roles.handlers)
        post_tasks = self.task_list(data.get("post_tasks") or [], base_dir, stack)
        handlers = self.handler_list(data.get("handlers") or [], base_dir, stack)
        found = roles.handlers  # in ansible-core's order: the roles: entries', the play's, then the imported roles'
        handlers = (found[after_pre:after_roles] + handlers + found[:after_pre] + found[after_tasks:]  # (pre_tasks,
                    + found[after_roles:after_tasks])  # post_tasks, tasks: the order ansible loads them in)
        return Play(
            hosts=hosts,
            location=data.location,
            name=data.get("name") or hosts,
            vars=dict(data.get("vars") or {}),
            vars_files=[list(item) if isinstance(item, list) else item for item in as_list(data.get("vars_files"))],
            vars_prompt=[_var_prompt(entry, data.where("vars_prompt")) for entry in as_list(data.get("vars_prompt"))],
            pre_tasks=pre_tasks,
            tasks=role_blocks + tasks,
            post_tasks=post_tasks,
            handlers=handlers,
            force_handlers=data.get("force_handlers"),
            role_vars=roles.vars,
            role_defaults=roles.defaults,
            role_names=roles.names,
            dependent_role_names=roles.dependent_names,
            gather_facts=data.get("gather_facts"),
            serial=data.get("serial"),
            strategy=data.get("strategy", "linear"),
            order=data.get("order"),
            max_fail_percentage=data.get("max_fail_percentage"),
            tags=tags_of(data.get("tags")),
            keywords=inherited,
            base_dir=base_dir,
            key_locations={str(key): location for key, location in data.key_locations.items()},
        )

    # -- tasks -----------------------------------------------------------------
    def task_list(self, items: list[LocatedDict], base_dir: str, stack: tuple[str, ...]) -> list[TaskItem]:
        return [self.task_or_block(item, base_dir, stack) for item in items]

    def task_or_block(self, data: LocatedDict, base_dir: str, stack: tuple[str, ...]) -> TaskItem:
        action, data = _written_include(data), self._plain_includes(data)
        if "block" in data:
            return self.block(data, base_dir, stack)
        if "import_tasks" in data:
            return self.import_tasks(data, base_dir, stack)
        if "import_role" in data:
            return self.import_role(data, stack)
        if "include_role" in data:
            return self.include_role(data, base_dir, stack, action)
        if "include_tasks" in data:
            return self.include_tasks(data, base_dir, stack, action)
        return self.task(data)

    def block(self, data: LocatedDict, base_dir: str, stack: tuple[str, ...]) -> Block:
        for key in data:
            self._check_keyword(data, key, keywords.BLOCK_KEYWORDS, keywords.ANSIBLE_TASK_KEYWORDS, "block")
        self._check_templates(data, ("name", "vars"))
        self._check_keyword_values(data)
        handles = bool(data.get("rescue")) or _handles_failure(data)
        self.handled += handles
        try:
            tasks = self.task_list(data.get("block") or [], base_dir, stack)
        finally:
            self.handled -= handles
        return Block(
            block=tasks,
            rescue=self.task_list(data.get("rescue") or [], base_dir, stack),
            always=self.task_list(data.get("always") or [], base_dir, stack),
            location=data.location,
            name=data.get("name"),
            when=as_list(data.get("when")),
            vars=dict(data.get("vars") or {}),
            tags=tags_of(data.get("tags")),
            keywords={key: data[key] for key in INHERITED_KEYWORDS if key in data},
            notify=_names(data.get("notify")),
        )

    def _plain_includes(self, data: LocatedDict) -> LocatedDict:
        """``ansible.builtin.include_tasks`` (or ``ansible.legacy.``) and ``action: include_tasks file`` as
        ``include_tasks``, and the same for the other includes and imports: one spelling for the rest of the
        parser (checked against the schema)."""
        renamed = {key: _short_name(key) for key in data if key not in keywords.INCLUDES
                   and _short_name(key) in keywords.INCLUDES}
        action = data.get("action")
        word, _, rest = action.strip().partition(" ") if isinstance(action, str) else ("", "", "")
        if _short_name(word) in keywords.INCLUDES:  # ``action: include_tasks tasks1.yml``
            renamed["action"] = _short_name(word)
        if not renamed:
            return data
        plain = _renamed(data, renamed)
        if "action" in renamed:  # (its value: the file, without the include's name)
            plain[renamed["action"]] = derived(action, rest.strip())
        _check_schema_with({"$ref": "#/$defs/task", "$defs": _SCHEMA["$defs"]}, plain, data.location)
        return plain

    def import_tasks(self, data: LocatedDict, base_dir: str, stack: tuple[str, ...]) -> Block:
        for key in data:
            self._check_keyword(data, key, keywords.IMPORT_TASKS_KEYWORDS, keywords.ANSIBLE_TASK_KEYWORDS, "task")
        file_name = data["import_tasks"]
        if is_template(file_name):
            raise PlaybookError("import_tasks is static: its file name cannot be a template (use include_tasks)",
                                data.where("import_tasks"), "import_tasks")
        self._check_keyword_values(data)
        tasks = self.task_file(_resolve(file_name, base_dir), stack, data.where("import_tasks"))
        return Block(block=tasks, location=data.location, name=data.get("name"), when=as_list(data.get("when")),
                     vars=dict(data.get("vars") or {}), tags=tags_of(data.get("tags")),
                     keywords={key: data[key] for key in INHERITED_KEYWORDS if key in data},
                     notify=_names(data.get("notify")))

    def import_role(self, data: LocatedDict, stack: tuple[str, ...]) -> Block:
        for key in data:
            self._check_keyword(data, key, keywords.IMPORT_ROLE_KEYWORDS, keywords.ANSIBLE_TASK_KEYWORDS, "task")
        self._check_templates(data, tuple(key for key in data if key != "import_role"))
        self._check_keyword_values(data)
        assert self.roles is not None
        where = data.where("import_role")
        options = check_options(data["import_role"], where, "import_role")
        role = self.roles.named(options, where, stack, "import_role", public=True)
        return Block(block=[role], location=data.location, name=data.get("name"), when=as_list(data.get("when")),
                     vars=dict(data.get("vars") or {}), tags=tags_of(data.get("tags")),
                     keywords={key: data[key] for key in INHERITED_KEYWORDS if key in data})

    def include_role(self, data: LocatedDict, base_dir: str, stack: tuple[str, ...], action: str) -> IncludeRole:
        _refuse_not_of_includes(data, "include_role")
        for key in data:
            if not _is_lookup_loop(key):
                self._check_keyword(data, key, keywords.INCLUDE_ROLE_KEYWORDS, keywords.ANSIBLE_TASK_KEYWORDS, "task")
        where = data.where("include_role")
        options = check_options(data["include_role"], where, "include_role")
        apply = options.pop("apply", None) or {}
        if not isinstance(apply, dict) or set(apply) - {"tags", *INHERITED_KEYWORDS}:
            raise PlaybookError("apply takes task keywords (tags, become, ...) only", where, "apply")
        self._check_templates(data, tuple(key for key in data if key != "include_role"))
        self._check_value_templates(options, where, "include_role")
        self._check_keyword_values(data)
        if not any(is_template(value) for value in options.values()):
            assert self.roles is not None  # the role is checked before the run (its handlers join when it runs)
            with self._missing_fails_when_run("include_role"), self.roles.checked_only():
                self.roles.named(options, where, stack, "include_role", public=False)
        loop, loop_lookup = _loop(data)
        return IncludeRole(options=options, location=where, base_dir=base_dir, action=action, name=data.get("name"),
                           when=as_list(data.get("when")), vars=dict(data.get("vars") or {}),
                           tags=tags_of(data.get("tags")), loop=loop, loop_lookup=loop_lookup,
                           loop_control=dict(data.get("loop_control") or {}),
                           keywords={key: data[key] for key in INHERITED_KEYWORDS if key in data}, apply=apply,
                           register=data.get("register"), role_search=self._role_search(),
                           play_location=self._play_location())

    def _check_role_entry(self, entry: Any, origin: Location) -> None:
        """A ``roles:`` entry's keywords: supported ones only, templates and conditions well formed."""
        if not isinstance(entry, LocatedDict):
            return
        for key in entry:
            if key in keywords.ANSIBLE_TASK_KEYWORDS and key not in ROLE_KEYWORDS and key not in ("vars", "name"):
                raise PlaybookError(f"the role keyword '{key}' is not supported by titan-ops", entry.where(key),
                                    str(key))
        self._check_templates(entry, tuple(entry))
        self._check_keyword_values(entry)

    def include_tasks(self, data: LocatedDict, base_dir: str, stack: tuple[str, ...], action: str,
                      handler: bool = False) -> IncludeTasks:
        known = keywords.INCLUDE_HANDLER_KEYWORDS if handler else keywords.INCLUDE_TASKS_KEYWORDS
        _refuse_not_of_includes(data, "include_tasks")
        for key in data:
            if not _is_lookup_loop(key):
                self._check_keyword(data, key, known, keywords.ANSIBLE_TASK_KEYWORDS, "task")
        loop, loop_lookup = _loop(data)
        value = data["include_tasks"]
        file_name = value["file"] if isinstance(value, dict) else value
        arguments = data.get("args") or {}
        if not isinstance(arguments, dict) or set(arguments) - {"apply", "file"}:
            raise PlaybookError("include_tasks takes 'file' and 'apply' as args", data.where("args"), "args")
        apply = (value.get("apply") if isinstance(value, dict) else None) or arguments.get("apply") or {}
        if set(apply) - {"tags", "vars", "notify", *INHERITED_KEYWORDS}:
            raise PlaybookError("apply takes task keywords (tags, vars, notify, become, ...) only",
                                data.where("include_tasks"), "apply")
        self._check_templates(data, ("include_tasks", "vars", "loop", "args"))
        self._check_keyword_values(data)
        path = _resolve(file_name, base_dir) if not is_template(file_name) else None
        # checked now, loaded at run time; a handler's when it is notified (as ansible-core: a role's handler
        # for another platform names modules that do not exist here); a file that is not there fails the
        # include when it runs (as in ansible-core: an include that never runs needs no file)
        if path is not None and os.path.realpath(path) not in stack and not handler:
            with self._missing_fails_when_run("include_tasks"):  # (an include of itself is checked once)
                self.task_file(path, stack, data.where("include_tasks"))
        elif path is not None and os.path.realpath(path) not in stack and os.path.isfile(path):
            self._refuse_nested_blocks(path, stack)
        return IncludeTasks(file=file_name, location=data.where("include_tasks"), base_dir=base_dir,
                            action=action, name=data.get("name"), when=as_list(data.get("when")),
                            vars=dict(data.get("vars") or {}), tags=tags_of(data.get("tags")), loop=loop,
                            loop_lookup=loop_lookup, loop_control=dict(data.get("loop_control") or {}),
                            keywords={key: data[key] for key in INHERITED_KEYWORDS if key in data},
                            register=data.get("register"), apply=dict(apply),
                            listen=_names(data.get("listen")), role_search=self._role_search(),
                            play_location=self._play_location())

    def _refuse_nested_blocks(self, path: str, stack: tuple[str, ...]) -> None:
        """A handler's included file whose blocks nest is refused now (ansible-core's parser refuses it when the
        handler runs); what else the file holds is checked when the handler is notified, as it is loaded then."""
        try:
            tasks = self.task_file(path, stack)
        except TitanOpsError:
            return  # (refused, or run, when the handler is notified)
        inner = nested_block(tasks)
        if inner is not None:
            raise PlaybookError("a handler cannot be a block inside a block", inner.location, "block")

    def _role_search(self) -> list[str]:
        """The role search path of the play being parsed (empty outside one)."""
        return list(self.roles.search) if self.roles is not None else []

    def _play_location(self) -> Location | None:
        """Where the play being parsed is written (None outside one)."""
        return self.roles.play_location if self.roles is not None else None

    def task(self, data: LocatedDict, handler_keywords: bool = False) -> Task:
        known = keywords.HANDLER_KEYWORDS if handler_keywords else keywords.TASK_KEYWORDS
        module_keys = [key for key in data if key not in known and not _is_lookup_loop(key)]
        candidates = [key for key in module_keys if modules.is_module(str(key)) or self.find_module(str(key))]
        for key in module_keys:
            if key not in candidates:
                if key not in keywords.ANSIBLE_TASK_KEYWORDS:
                    self._refuse_action_plugin(str(key), data.where(key))
                self._check_keyword(data, key, known, keywords.ANSIBLE_TASK_KEYWORDS, "task", could_be_module=True)
        actions = [key for key in data if key in keywords.ACTION_KEYWORDS] + candidates
        if not actions:
            raise PlaybookError("the task names no module", data.location)
        if len(actions) > 1:
            raise PlaybookError(f"the task names more than one module: {', '.join(map(str, actions))}",
                                data.where(actions[1]), str(actions[1]))
        module_key = actions[0]
        location = data.where(module_key)
        module, raw, written, module_path = self._action(data, module_key, location)
        # no module: ``action: "{{ name }} args"`` chooses it per host, and its arguments are parsed then;
        # a module without a free form given one template: its arguments, as a mapping (Ansible allows it)
        args_template = raw if module is not None and not module.free_form and is_single_expression(raw) else None
        args_keyword = data.get("args") if is_template(data.get("args")) else None
        args = {} if args_keyword is not None else dict(data.get("args") or {})
        refusal = None
        try:
            if module is not None and not args_template:
                given = self._module_args(module, raw, location)  # (a mapping keeps its keys' places)
                args = {**args, **given} if args else given
            self._check_task(data, module, module_key, raw, args, args_template)
        except _Unsupported:
            raise
        except PlaybookError as error:
            if not (self.handled or _handles_failure(data)):
                raise
            refusal = error  # as ansible-core: the task fails when it runs, and its failure is handled
        loop, loop_lookup = _loop(data)
        return Task(
            module=module.name if module is not None else written,
            args=args,
            location=location,
            name=data.get("name"),
            action=written,
            args_template=args_template,
            args_keyword_template=args_keyword,
            chosen_action=raw if module is None else None,
            library=self._library_order() if module is None else (),
            when=as_list(data.get("when")),
            register=data.get("register"),
            vars=dict(data.get("vars") or {}),
            tags=tags_of(data.get("tags")),
            loop=loop,
            loop_lookup=loop_lookup,
            loop_control=dict(data.get("loop_control") or {}),
            changed_when=as_list(data["changed_when"]) if "changed_when" in data else None,
            failed_when=as_list(data["failed_when"]) if "failed_when" in data else None,
            until=as_list(data["until"]) if "until" in data else None,
            retries=data.get("retries"),
            delay=data.get("delay"),
            async_seconds=data.get("async"),
            poll=data.get("poll"),
            notify=_names(data.get("notify")),
            listen=_names(data.get("listen")),
            keywords={**{key: data[key] for key in INHERITED_KEYWORDS if key in data},
                      **({"delegate_to": "localhost"} if module_key == "local_action" else {})},
            role=self.role,
            module_path=module_path,
            key_locations={str(key): data.where(key) for key in data},
            refusal=refusal,
        )

    def _check_task(self, data: LocatedDict, module: modules.Module | None, module_key: str, raw: Any,
                    args: dict[str, Any], args_template: str | None) -> None:
        """A task's arguments, templates and conditions, as validation checks them (the templates only, when
        the module is chosen when the task runs)."""
        location = data.where(module_key)
        if module is None:
            self._check_templates(data, tuple(data))
            self._check_keyword_values(data)
            return
        try:
            if args_template is None and not is_template(data.get("args")):  # else checked once rendered
                check_arguments(module, args, location, rendered=False)
        except ModuleError as error:
            where = raw.where(error.key) if isinstance(raw, LocatedDict) and error.key in raw else error.location
            kind = UnsupportedParameters if isinstance(error, UnsupportedParameters) \
                else _Unsupported if isinstance(error, ReservedParameter) else PlaybookError
            raise kind(error.message, where, error.key) from None
        self._check_templates(data, tuple(key for key in data if key != module_key))
        self._check_value_templates(args_template or args, location, module_key)
        self._check_keyword_values(data)
        if isinstance(module, custom.CustomModule) and not (self.handled or _handles_failure(data)):
            problem = module.problem()  # (where the failure is handled, the task fails with it when it runs)
            if problem is not None:
                raise PlaybookError(problem.removeprefix("Task failed: "), location, module_key)
        if data.get("async") not in (None, 0) and not module.supports_async:
            raise _Unsupported(f"'async' is supported with the modules command and shell in titan-ops, not with "
                               f"'{module.name}'", data.where("async"), "async")
        for key in module.expression_args:
            for expression in as_list(args.get(key)):
                if isinstance(expression, str):
                    self._check_expression(expression, location, key)

    def _action(self, data: LocatedDict, key: str,
                location: Location) -> tuple[modules.Module | None, Any, str, str | None]:
        """The module a task runs, its raw arguments, its name as written and a custom module's file: from its
        module key, or from ``action:`` / ``local_action:`` (``copy src=a dest=b``, or a mapping with ``module:``); no
        module when its name is a template (chosen per host when the task runs)."""
        value = data[key]
        if key not in keywords.ACTION_KEYWORDS:
            found = self.find_module(key)
            assert found is not None
            return found[0], value, str(key), found[1]
        if isinstance(value, dict):  # its arguments beside ``module``, or under ``args`` (below those beside it)
            name = value.get("module")
            nested = value.get("args") if isinstance(value.get("args"), dict) else {}
            raw: Any = {**nested, **{item: argument for item, argument in value.items()
                                     if item != "module" and not (item == "args" and nested)}}
        elif isinstance(value, str):
            text = value.strip()
            cut = text.find("}}") + 2 if text.startswith("{{") else 0  # a templated module name: to its end
            head, _, rest = text[cut:].partition(" ")
            name = derived(value, text[:cut] + head)
            raw = derived(value, rest.strip()) if rest.strip() else None
        else:
            name = None
        if not isinstance(name, str) or not name:
            raise PlaybookError(f"'{key}' names no module: give 'module args...' or a mapping with 'module'",
                                location, key)
        if is_template(name) and key == "action":
            return None, raw, name, None
        found = self.find_module(name)
        if found is None:
            self._refuse_action_plugin(name, location)
            raise PlaybookError(f"unknown module '{name}'", location, key)
        return found[0], raw, str(name), found[1]

    def _module_args(self, module: modules.Module, value: Any, location: Location) -> dict[str, Any]:
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            try:
                return parse_free_form(module, value)
            except ModuleError as error:
                raise PlaybookError(error.message, location, module.name) from None
        raise PlaybookError(f"arguments of '{module.name}' must be a mapping or a string, got {type(value).__name__}",
                            location, module.name)

    def _check_keyword(self, data: LocatedDict, key: Any, supported: frozenset[str], ansible: frozenset[str],
                       kind: str, could_be_module: bool = False) -> None:
        if key in supported:
            return
        location = data.where(key)
        if key == "debugger" and data[key] in (None, "never"):
            return  # as ansible-playbook where no debugger is asked for
        if key in ansible or (kind != "play" and keywords.is_ansible_task_keyword(str(key))):
            raise PlaybookError(f"the {kind} keyword '{key}' is not supported by titan-ops", location, str(key))
        what = "module or keyword" if could_be_module else f"{kind} keyword"
        raise PlaybookError(f"unknown {what} '{key}'", location, str(key))

    def _check_templates(self, data: LocatedDict, keys: tuple[Any, ...]) -> None:
        for key in keys:
            if key in data and key not in ("when", "changed_when", "failed_when", "until"):
                self._check_value_templates(data[key], data.where(key), str(key))

    def _check_value_templates(self, value: Any, location: Location, key: str) -> None:
        if isinstance(value, str):
            if is_template(value):
                try:
                    self.templar.check_syntax(value)
                except TemplateError as error:
                    raise PlaybookError(error.message, location_of(value, location), key) from None
                self._check_lookups(value, location_of(value, location), key)
        elif isinstance(value, dict):
            for item_key, item in value.items():
                where = value.where(item_key) if isinstance(value, LocatedDict) else location
                self._check_value_templates(item, where, str(item_key))
        elif isinstance(value, list):
            for item in value:
                self._check_value_templates(item, location_of(value, location), key)

    @contextmanager
    def _missing_fails_when_run(self, key: str) -> Iterator[None]:
        """Around what an include loads at run time, checked now: a task file or role that is not there fails
        the include when it runs, as in ansible-core (an include that never runs needs none); the load warns."""
        try:
            yield
        except MissingFileError as error:
            self.warnings.append(str(PlaybookError(f"{error.message}: the include fails if it runs", error.location,
                                                   key)))

    def _check_keyword_values(self, data: LocatedDict) -> None:
        """Conditions' expressions, and yes/no keywords written as text that says neither (``diff: yes.``)."""
        for key in ("when", "changed_when", "failed_when", "until"):
            for condition in as_list(data.get(key)):
                if isinstance(condition, str):
                    self._check_expression(condition, data.where(key), key)
        for key in keywords.BOOLEAN_KEYWORDS:
            value = data.get(key)
            if isinstance(value, str) and not is_template(value):
                try:
                    play_values.boolean(value)
                except ValueError:
                    raise PlaybookError(f"The value '{value}' could not be converted to 'bool'.", data.where(key),
                                        key) from None
        _check_throttle(data)

    def _check_expression(self, condition: str, location: Location, key: str) -> None:
        """A bare expression (``when``, assert's ``that``): its syntax, filters, tests and lookups."""
        if not condition.strip():
            raise PlaybookError("Empty conditional expressions are not allowed.", location, key)
        expression = bare_expression(condition)
        try:
            self.templar.check_expression(condition)
        except TemplateError as error:
            raise PlaybookError(error.message, location, key) from None
        self._check_lookups(expression, location, key, expression=True)

    def _check_lookups(self, source: str, location: Location, key: str, expression: bool = False) -> None:
        """Reject a template (or a bare ``expression``) that calls a lookup titan-ops does not have, by its
        name."""
        if not any(f"{name}(" in source for name in lookup_functions.FUNCTION_NAMES):
            return
        tree = self.templar.expression_tree(source) if expression else self.templar.syntax_tree(source)
        unknown = lookup_functions.unsupported_lookups(tree)
        if unknown:
            raise _Unsupported(f"the lookup '{unknown[0]}' is not supported by titan-ops", location, key)


class _Unsupported(PlaybookError):
    """Refused at validation even where a failure is handled: a feature titan-ops does not have, named, or
    what ansible-core refuses when it parses the playbook (a reserved argument name)."""


def _handles_failure(data: LocatedDict) -> bool:
    """A task or block whose failure the playbook handles itself (``ignore_errors``, ``failed_when``): what
    validation finds wrong with it fails it when it runs instead, as in ansible-core."""
    ignore = data.get("ignore_errors")
    return "failed_when" in data or ignore is True or is_template(ignore)


_PROMPT_KEYS = frozenset({"name", "prompt", "private", "default", "confirm", "unsafe"})
_UNSUPPORTED_PROMPT_KEYS = frozenset({"encrypt", "salt", "salt_size"})


def _var_prompt(entry: Any, origin: Location) -> VarPrompt:
    where = location_of(entry, origin)
    if not isinstance(entry, LocatedDict) or not isinstance(entry.get("name"), str) \
            or not entry["name"].isidentifier():
        raise PlaybookError("a vars_prompt entry needs 'name:' with a variable name", where, "vars_prompt")
    for key in entry:
        if key in _UNSUPPORTED_PROMPT_KEYS:
            raise PlaybookError(f"the vars_prompt option '{key}' is not supported by titan-ops", entry.where(key),
                                str(key))
        if key not in _PROMPT_KEYS:
            raise PlaybookError(f"unknown vars_prompt option '{key}'", entry.where(key), str(key))
    for key in ("private", "confirm", "unsafe"):
        if key in entry and not isinstance(entry[key], bool):
            raise PlaybookError(f"'{key}' must be true or false", entry.where(key), key)
    return VarPrompt(name=entry["name"], prompt=str(entry.get("prompt", entry["name"])), location=where,
                     private=entry.get("private", True), default=entry.get("default"),
                     confirm=entry.get("confirm", False))


_TYPED_PLAY_KEYWORDS = {
    "serial": play_values.serial_sizes,
    "max_fail_percentage": play_values.percentage,
    "strategy": play_values.strategy,
    "order": play_values.order,
    "gather_facts": play_values.boolean,
    "tags": play_values.tag_list,
}
"""Play keywords whose values are typed: checked here when written literally, by the plan when templated."""


def _check_throttle(data: LocatedDict) -> None:
    """A ``throttle`` written as a literal is an integer (a template is checked when the task runs)."""
    if "throttle" in data and not is_template(data["throttle"]):
        try:
            play_values.throttle(data["throttle"])
        except ValueError as error:
            raise PlaybookError(str(error), data.where("throttle"), "throttle") from None


def _refuse_not_of_includes(data: LocatedDict, include: str) -> None:
    """Keywords ansible-core refuses on an include (``throttle``): refused before the run, as it does."""
    for key in data:
        if key in keywords.NOT_OF_INCLUDES:
            raise PlaybookError(f"'{key}' is not a keyword of {include} (nor in ansible-core: put it on the included "
                                "tasks, or use import_tasks or import_role)", data.where(key), str(key))


def _holds_template(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_template(item) for item in value)
    return is_template(value)


def _names(value: Any) -> list[str]:
    """``notify:`` or ``listen:`` as a list of names (authored ones keep their mark: they may be templates)."""
    return [name if isinstance(name, str) else str(name) for name in as_list(value)]


def _renamed(data: LocatedDict, names: dict[Any, Any]) -> LocatedDict:
    """``data`` with the keys of ``names`` renamed as it says (each keeps its place in the source)."""
    renamed = LocatedDict()
    renamed.location = data.location
    renamed.key_locations = {}
    for key, value in data.items():
        renamed[names.get(key, key)] = value
        renamed.key_locations[names.get(key, key)] = data.where(key)
    return renamed


def _written_include(data: LocatedDict) -> str:
    """How the task writes its include (``ansible.builtin.include_role``, ``include_tasks``); empty for others."""
    action = data.get("action")
    word = action.strip().partition(" ")[0] if isinstance(action, str) else ""
    return next((str(key) for key in (*data, word) if _short_name(key) in ("include_tasks", "include_role")), "")


def _short_name(key: Any) -> Any:
    """``ansible.builtin.X`` and ``ansible.legacy.X`` as ``X``."""
    if isinstance(key, str):
        for prefix in ("ansible.builtin.", "ansible.legacy."):
            if key.startswith(prefix):
                return key[len(prefix):]
    return key


def _handlers_in(block: Block) -> list[Task | IncludeTasks]:
    """The handlers ``import_tasks`` brings into a handlers section: every task and include in the file."""
    found: list[Task | IncludeTasks] = []
    for item in block.block:
        if isinstance(item, Block):
            found.extend(_handlers_in(item))
        elif isinstance(item, (Task, IncludeTasks)):
            found.append(item)
    return found


def _is_lookup_loop(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("with_")


def _loop(data: LocatedDict) -> tuple[Any, str | None]:
    """A task's loop: its value and, for ``with_<lookup>``, the lookup's name."""
    keys = [key for key in data if _is_lookup_loop(key)]
    if not keys:
        return data.get("loop"), None
    if len(keys) > 1 or "loop" in data:
        other = "loop" if "loop" in data else keys[0]
        raise PlaybookError(f"a task has one loop: '{other}' and '{keys[-1]}' both given", data.where(keys[-1]),
                            keys[-1])
    key = keys[0]
    name = key[len("with_"):]
    if not lookups.is_lookup(name):
        raise PlaybookError(f"the loop '{key}' is not supported by titan-ops (it has no lookup '{name}')",
                            data.where(key), key)
    if data[key] is None:
        raise PlaybookError(f"you must specify a value when using {key}", data.where(key), key)
    return data[key], lookups.canonical_name(name)


def _resolve(file_name: str, base_dir: str) -> str:
    return file_name if os.path.isabs(file_name) else os.path.join(base_dir, file_name)


def _first_holding(file_name: Any, folders: tuple[str | None, ...]) -> str:
    """The first of ``folders`` that holds ``file_name`` (a literal one), else the first folder."""
    present = [folder for folder in folders if folder is not None]
    if isinstance(file_name, str) and not is_template(file_name):
        for folder in present:
            if os.path.exists(_resolve(file_name, folder)):
                return folder
    return present[0]
