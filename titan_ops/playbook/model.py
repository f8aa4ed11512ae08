"""The validated playbook: plays, blocks and tasks as plain objects."""

from __future__ import annotations

import os.path
from dataclasses import dataclass, field
from typing import Any

from titan_ops.errors import Location, TitanOpsError
from titan_ops.vault import Vault

INHERITED_KEYWORDS = ("become", "become_user", "become_method", "environment", "check_mode", "diff", "no_log",
                      "ignore_errors", "ignore_unreachable", "timeout", "any_errors_fatal", "run_once",
                      "delegate_to", "delegate_facts", "remote_user", "port", "connection", "throttle")
"""Keywords a play or block passes down to the tasks inside it."""


@dataclass
class Task:
    """One task: a module call plus the keywords the executor applies."""

    module: str
    args: dict[str, Any]
    location: Location
    name: str | None = None
    action: str = ""
    """The module's name as the task writes it (``ansible.builtin.command``): an unnamed task's name, as
    ansible-core shows and lists it."""
    args_template: str | None = None
    """The module's arguments as one template (``copy: "{{ copy_args }}"``), rendered per host to a mapping
    that ``args`` (then the ``args:`` keyword's) completes."""
    when: list[Any] = field(default_factory=list)
    register: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    loop: Any = None
    loop_lookup: str | None = None
    """The lookup of a ``with_<lookup>`` loop (``loop`` then holds its terms); None for ``loop:``."""
    loop_control: dict[str, Any] = field(default_factory=dict)
    changed_when: list[Any] | None = None
    failed_when: list[Any] | None = None
    until: list[Any] | None = None
    retries: Any = None
    delay: Any = None
    async_seconds: Any = None
    """``async:``: run the module as a job on the host, for at most this many seconds (0 or None: not)."""
    poll: Any = None
    """``poll:``: seconds between two looks at the job (0: leave it running; default 15, as Ansible)."""
    notify: list[str] = field(default_factory=list)
    listen: list[str] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)
    """Inheritable keywords set on the task itself (become, no_log, ...)."""
    role: str | None = None
    """The role whose task (or handler) this is."""
    handler_role: RoleScope | None = None
    """A role's handler: its role's variables and defaults, which it sees wherever it is notified from."""
    args_keyword_template: str | None = None
    """The ``args:`` keyword given as one template (``args: "{{ debug_args }}"``): rendered per host to a
    mapping below the module's own arguments."""
    chosen_action: Any = None
    """``action: "{{ name }} args"`` (or ``{module: "{{ name }}", ...}``): ``module`` is the template that names
    the module per host, and this the raw arguments given after it (text or mapping)."""
    module_path: str | None = None
    """The file of a custom module (one from a ``library/`` folder); None for a built-in module."""
    library: tuple[str, ...] = ()
    """Where a module chosen when the task runs (``chosen_action``) is searched if it is not a built-in one."""
    key_locations: dict[str, Location] = field(default_factory=dict)
    """Where each keyword of the task is written."""
    refusal: TitanOpsError | None = None
    """What validation found wrong with a task whose failure is handled (``ignore_errors``, ``rescue``): the
    task fails with it when it runs (when its ``when`` holds; at once when ``when`` itself is wrong)."""

    def origin(self, key: str) -> str:
        """``file:line:column: key``: where ``key`` of the task is written (the task's module when it is not)."""
        return f"{self.key_locations.get(key, self.location)}: {key}"

    @property
    def display_name(self) -> str:
        name = self.name or self.action or self.module
        return f"{self.role} : {name}" if self.role else name


@dataclass(kw_only=True)
class _Include:
    """What ``include_tasks`` and ``include_role`` share: chosen and loaded at run time, per host."""

    location: Location
    base_dir: str
    action: str
    """``include_tasks`` or ``include_role`` as the task writes it (``ansible.builtin.include_role``)."""
    name: str | None = None
    when: list[Any] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    loop: Any = None
    loop_lookup: str | None = None
    loop_control: dict[str, Any] = field(default_factory=dict)
    keywords: dict[str, Any] = field(default_factory=dict)
    register: str | None = None
    role_search: list[str] = field(default_factory=list)
    """The play's role search path (roles/ beside the playbook, the roles path, the playbook's folder):
    where the roles the included file names are looked for, wherever that file is."""
    play_location: Location | None = None
    """Where the play is written: the location ansible-core gives the argument spec validation of the roles
    the included file names."""


@dataclass(kw_only=True)
class IncludeTasks(_Include):
    """``include_tasks``: a task file chosen and loaded at run time, per host (also as a handler)."""

    file: str
    apply: dict[str, Any] = field(default_factory=dict)
    """Keywords (and ``tags``) given to every task of the file."""
    listen: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.name or self.action


@dataclass(kw_only=True)
class IncludeRole(_Include):
    """``include_role``: a role chosen and loaded at run time, per host (its name may be a template)."""

    options: dict[str, Any]
    """``name`` and ``tasks_from``, ``vars_from``, ``defaults_from``, ``handlers_from``, ``public``."""
    apply: dict[str, Any] = field(default_factory=dict)
    """Keywords (and ``tags``) given to every task of the role."""

    @property
    def display_name(self) -> str:
        return self.name or f"{self.action} : {self.options['name']}"


@dataclass
class RoleScope:
    """What a role brings to its tasks: where it is, its variables and the parameters it was given."""

    name: str
    path: str
    defaults: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Block:
    """``block`` with its ``rescue`` and ``always`` sections (also what
    ``import_tasks`` becomes)."""

    block: list[TaskItem]
    location: Location
    rescue: list[TaskItem] = field(default_factory=list)
    always: list[TaskItem] = field(default_factory=list)
    name: str | None = None
    when: list[Any] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)
    role: RoleScope | None = None
    """Set on the block holding a role's tasks (what ``roles:`` and ``import_role`` become)."""
    runs_once_as: str | None = None
    """Set on the block of a ``roles:`` entry or a role dependency: a host runs it once per play under
    this identity (the role, its parameters, `when` and `tags`), as Ansible deduplicates roles."""
    notify: list[str] = field(default_factory=list)
    """Handlers the block's tasks notify when they do not name their own."""


TaskItem = Task | Block | IncludeTasks | IncludeRole


def nested_block(items: list[TaskItem]) -> Block | None:
    """The first block inside a block of ``items``: what a file of handlers cannot hold (its blocks are the
    handlers' implicit ones, as in ansible-core)."""
    for item in items:
        if isinstance(item, Block):
            inner = next((task for task in item.block + item.rescue + item.always if isinstance(task, Block)), None)
            if inner is not None:
                return inner
    return None


@dataclass
class VarPrompt:
    """One ``vars_prompt`` entry: the variable, what to ask, and how."""

    name: str
    prompt: str
    location: Location
    private: bool = True
    default: Any = None
    confirm: bool = False


@dataclass
class Play:
    """One play: which hosts, which variables, which tasks.

    Keywords that may be templates (``hosts``, ``serial``, ``strategy``, ...) are kept as written;
    the plan stage renders and types them.
    """

    hosts: str
    location: Location
    name: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    vars_files: list[str | list[str]] = field(default_factory=list)
    """Files of variables; an entry that is a list names alternatives, the first found is read."""
    when: list[Any] = field(default_factory=list)
    """The ``when`` of the ``import_playbook`` entries that imported the play: each of its tasks, the
    gathering of facts too, runs only where they hold."""
    vars_prompt: list[VarPrompt] = field(default_factory=list)
    pre_tasks: list[TaskItem] = field(default_factory=list)
    tasks: list[TaskItem] = field(default_factory=list)
    post_tasks: list[TaskItem] = field(default_factory=list)
    handlers: list[Task | IncludeTasks] = field(default_factory=list)
    """Tasks and ``include_tasks`` run when notified (``import_tasks`` here brings its tasks as handlers)."""
    gather_facts: Any = None
    """True, False, a template, or None: the run's default (Ansible's ``gathering`` setting)."""
    serial: Any = None
    strategy: str = "linear"
    order: Any = None
    """``order``: as written (a template is rendered by the plan); None is inventory order."""
    max_fail_percentage: Any = None
    tags: list[str] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)
    base_dir: str = "."
    force_handlers: Any = None
    """``force_handlers:``: notified handlers run on hosts that failed too (also ``--force-handlers``)."""
    role_vars: dict[str, Any] = field(default_factory=dict)
    """The variables of the play's roles (``roles:``, ``import_role``): every task of the play sees them."""
    role_defaults: dict[str, Any] = field(default_factory=dict)
    """The defaults of the play's roles: below the inventory, for every task of the play."""
    role_names: list[str] = field(default_factory=list)
    """The roles the play names (``roles:``, ``import_role``, ``include_role`` with a fixed name)."""
    dependent_role_names: list[str] = field(default_factory=list)
    """The roles that are dependencies of the play's roles."""
    key_locations: dict[str, Location] = field(default_factory=dict)

    def where(self, key: str) -> Location:
        """Where ``key`` of the play is written (the play itself when it is not)."""
        return self.key_locations.get(key, self.location)


@dataclass
class Playbook:
    """A loaded, validated playbook file (imports already inlined)."""

    path: str
    plays: list[Play]
    roles_path: list[str] = field(default_factory=list)
    """Where roles were searched beyond ``roles/`` beside the playbook (``include_role`` searches there too)."""
    vault: Vault | None = None
    """The vault passwords it was loaded with (what the run loads later is opened with them too)."""
    library: list[str] = field(default_factory=list)
    """Where custom modules are searched: the configured module path, then each ``library/`` folder the load
    found (beside the playbooks, in the roles); what the run loads later searches there too."""
    warnings: list[str] = field(default_factory=list)
    """What the load found that is no error but fails when reached (an include's missing file), located."""
    plugin_roots: list[str] = field(default_factory=list)
    """The folders of the playbooks and roles the load found: ansible-core loads the plugins of their
    ``connection_plugins/`` (and ``action_plugins/``, which titan-ops refuses)."""

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))
