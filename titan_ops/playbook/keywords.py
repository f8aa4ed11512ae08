"""Which playbook keywords titan-ops supports, and which Ansible ones it rejects by name."""

from __future__ import annotations

from typing import Any

from titan_ops.playbook.model import INHERITED_KEYWORDS
from titan_ops.trust import derived

PLAY_KEYWORDS = frozenset({
    "name", "hosts", "vars", "vars_files", "gather_facts", "serial", "strategy", "max_fail_percentage",
    "pre_tasks", "tasks", "post_tasks", "handlers", "tags", "roles", "vars_prompt", "force_handlers", "order",
    *INHERITED_KEYWORDS,
}) - {"delegate_to", "delegate_facts"}

BOOLEAN_KEYWORDS = ("become", "check_mode", "diff", "no_log", "ignore_errors", "ignore_unreachable", "delegate_facts")
"""Task and block keywords that take yes or no."""

ACTION_KEYWORDS = ("action", "local_action")
"""Keywords that name a task's module in their value (``local_action`` runs it on the controller)."""

TASK_KEYWORDS = frozenset({
    "name", "when", "register", "vars", "tags", "args", "loop", "loop_control", "changed_when", "failed_when",
    "until", "retries", "delay", "notify", "async", "poll", *ACTION_KEYWORDS, *INHERITED_KEYWORDS,
})

HANDLER_KEYWORDS = TASK_KEYWORDS | {"listen"}

BLOCK_KEYWORDS = frozenset({"name", "block", "rescue", "always", "when", "vars", "tags", "notify",
                            *INHERITED_KEYWORDS})

IMPORT_ROLE_KEYWORDS = frozenset({"name", "import_role", "when", "vars", "tags", *INHERITED_KEYWORDS})

NOT_OF_INCLUDES = frozenset({"throttle"})
"""Inherited keywords that ansible-core refuses on ``include_tasks`` and ``include_role``."""

INCLUDE_ROLE_KEYWORDS = frozenset({"name", "include_role", "when", "vars", "tags", "loop", "loop_control",
                                   "register", *INHERITED_KEYWORDS}) - NOT_OF_INCLUDES

IMPORT_TASKS_KEYWORDS = frozenset({"name", "import_tasks", "when", "vars", "tags", "notify", *INHERITED_KEYWORDS})

INCLUDE_TASKS_KEYWORDS = frozenset({"name", "include_tasks", "when", "vars", "tags", "loop", "loop_control",
                                    "register", "args", *INHERITED_KEYWORDS}) - NOT_OF_INCLUDES

INCLUDE_HANDLER_KEYWORDS = INCLUDE_TASKS_KEYWORDS | {"listen"}

INCLUDES = ("include_tasks", "import_tasks", "include_role", "import_role")
"""Keywords that include or import, also written ``ansible.builtin.<name>`` or ``ansible.legacy.<name>``."""

IMPORT_PLAYBOOK_KEYWORDS = frozenset({"name", "import_playbook", "vars", "when", "tags"})

ANSIBLE_PLAY_KEYWORDS = frozenset({
    "any_errors_fatal", "become", "become_exe", "become_flags", "become_method", "become_user",
    "check_mode", "collections", "connection", "debugger", "diff", "environment", "fact_path",
    "force_handlers", "gather_facts", "gather_subset", "gather_timeout", "handlers", "hosts",
    "ignore_errors", "ignore_unreachable", "max_fail_percentage", "module_defaults", "name",
    "no_log", "order", "port", "post_tasks", "pre_tasks", "remote_user", "roles", "run_once",
    "serial", "strategy", "tags", "tasks", "throttle", "timeout", "vars", "vars_files", "vars_prompt",
    "import_playbook",
})

ANSIBLE_TASK_KEYWORDS = frozenset({
    "action", "any_errors_fatal", "args", "async", "become", "become_exe", "become_flags",
    "become_method", "become_user", "changed_when", "check_mode", "collections", "connection",
    "debugger", "delay", "delegate_facts", "delegate_to", "diff", "environment", "failed_when",
    "ignore_errors", "ignore_unreachable", "local_action", "loop", "loop_control", "module_defaults",
    "name", "no_log", "notify", "poll", "port", "register", "remote_user", "retries", "run_once",
    "tags", "throttle", "timeout", "until", "vars", "when", "listen",
})


def is_ansible_task_keyword(key: str) -> bool:
    """True for Ansible task keywords, including every ``with_<lookup>`` loop."""
    return key in ANSIBLE_TASK_KEYWORDS or key.startswith("with_")


def as_list(value: Any) -> list[Any]:
    """A keyword's value as a list: none is empty, a single value is a list of one."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def tags_of(value: Any) -> list[str]:
    """``tags:`` as a list of names (a string is split on commas)."""
    if isinstance(value, str):
        return [derived(value, tag.strip()) for tag in value.split(",") if tag.strip()]
    return [tag if isinstance(tag, str) else str(tag) for tag in as_list(value)]
