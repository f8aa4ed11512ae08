"""The inventory variables a runbook needs: every ``titan_*`` variable its templates use with no fallback.

The runbooks take the fleet's shape (services, databases, paths, credentials) from ``titan_*`` variables
of the inventory. A variable counts as needed when a template of the play (its vars, a task's arguments,
conditions, loops, keywords; task files included by a fixed name too) uses it and nothing in the playbook
gives it another way: no ``default`` filter and no ``is defined`` test on it anywhere, and no ``vars``,
``set_fact``, ``register``, ``loop_var`` or ``vars_prompt`` of the playbook sets it. The plan checks each
needed variable on every host of the play before any host is touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta, nodes

from titan_ops.errors import Location, TitanOpsError
from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, Play, Task, TaskItem
from titan_ops.templating import Templar, is_template

PREFIX = "titan_"
_FALLBACK_FILTERS = frozenset({"default", "d"})
_PRESENCE_TESTS = frozenset({"defined", "undefined", "none"})
_SETTING_MODULES = frozenset({"set_fact", "include_vars", "add_host", "group_by"})


@dataclass(frozen=True)
class Need:
    """A variable a template uses, where (the task or play and the key)."""

    name: str
    location: Location
    key: str


def inventory_needs(plays: list[Play], templar: Templar,
                    task_file: Callable[[str, list[str]], list[TaskItem]]) -> list[list[Need]]:
    """For each play, the first use of each ``titan_*`` variable it needs from the inventory (see the module's
    docstring: a fallback or a setting anywhere in the playbook counts for every play, as facts outlive their
    play); ``task_file(path, role_search)`` gives the tasks of a task file included by a fixed name."""
    try:
        items = [list(_items(play.pre_tasks + play.tasks + play.post_tasks + list(play.handlers), task_file, set()))
                 for play in plays]
    except TitanOpsError:  # a task file that does not load: the run reports it if it is included
        return [[] for _ in plays]
    if any(isinstance(item, IncludeRole) or (isinstance(item, Task) and item.module == "include_vars")
           for play_items in items for item in play_items):
        return [[] for _ in plays]  # variables set at run time from files or roles this analysis does not see
    uses: list[list[Need]] = []
    fallbacks: set[str] = set()
    set_here: set[str] = set()
    for play, play_items in zip(plays, items):
        play_uses: list[Need] = []
        set_here.update(prompt.name for prompt in play.vars_prompt)
        set_here.update(play.vars)
        for key, value in play.vars.items():
            _scan(value, play.where("vars"), str(key), templar, play_uses, fallbacks)
        for item in play_items:
            set_here.update(_names_set(item))
            for key, value in _templated(item):
                _scan(value, item.location, key, templar, play_uses, fallbacks)
        uses.append(play_uses)
    return [_first_uses(play_uses, fallbacks | set_here) for play_uses in uses]


def _first_uses(uses: list[Need], provided: set[str]) -> list[Need]:
    first: dict[str, Need] = {}
    for use in uses:
        if use.name not in provided:
            first.setdefault(use.name, use)
    return list(first.values())


def _items(items: list[Any], task_file: Callable[[str, list[str]], list[TaskItem]], seen: set[str]) -> Iterator[Any]:
    for item in items:
        yield item
        if isinstance(item, Block):
            yield from _items(item.block + item.rescue + item.always, task_file, seen)
        elif isinstance(item, IncludeTasks) and not is_template(item.file):
            path = item.file if os.path.isabs(item.file) else os.path.join(item.base_dir, item.file)
            if path not in seen:
                seen.add(path)
                yield from _items(task_file(path, item.role_search), task_file, seen)


def _names_set(item: Any) -> set[str]:
    names = set(item.vars)
    loop_var = item.loop_control.get("loop_var") if hasattr(item, "loop_control") else None
    if isinstance(loop_var, str):
        names.add(loop_var)
    if isinstance(item, (Task, IncludeTasks)) and item.register:
        names.add(item.register)
    if isinstance(item, Task) and item.module in _SETTING_MODULES:
        names.update(str(key) for key in item.args)
    return names


def _templated(item: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) of every part of ``item`` that may hold templates."""
    yield from ((str(key), value) for key, value in item.vars.items())
    yield from (("when", condition) for condition in item.when)
    yield from ((str(key), value) for key, value in item.keywords.items())
    if isinstance(item, Task):
        yield from ((str(key), value) for key, value in item.args.items())
        for key in ("loop", "changed_when", "failed_when", "until"):
            value = getattr(item, key)
            if value is not None:
                yield key, value
    elif isinstance(item, IncludeTasks) and item.loop is not None:
        yield "loop", item.loop


def _scan(value: Any, location: Location, key: str, templar: Templar,
          uses: list[Need], fallbacks: set[str]) -> None:
    if isinstance(value, str):
        if PREFIX not in value:
            return  # nothing to find (and no template parsed: this runs before every run)
        try:
            if is_template(value):
                tree = templar.syntax_tree(value)
            elif key in ("when", "changed_when", "failed_when", "until") and type(value) is not str:
                tree = templar.expression_tree(value)  # a bare condition, authored
            else:
                return
            used = _names_read(tree, templar.environment)
        except jinja2.TemplateError:
            return  # an unknown filter, a syntax error: reported where the template renders
        fallbacks.update(_with_fallback(tree))
        uses.extend(Need(name, location, key) for name in sorted(used) if name.startswith(PREFIX))
    elif isinstance(value, dict):
        for item_key, item in value.items():
            _scan(item, getattr(value, "where", lambda _: location)(item_key), str(item_key), templar, uses,
                  fallbacks)
    elif isinstance(value, list):
        for item in value:
            _scan(item, location, key, templar, uses, fallbacks)


class _NameTracker(meta.TrackingCodeGenerator):
    """jinja2's tracking of the names a template reads, evaluating nothing: jinja2's would fold constant
    operands, running their filters outside any deadline and changing the (shared) tree."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        self.optimizer = None

    def _output_child_to_const(self, node: nodes.Expr, frame: Any, finalize: Any) -> str:
        raise nodes.Impossible()


def _names_read(tree: nodes.Template, environment: jinja2.Environment) -> set[str]:
    """The names the template ``tree`` reads without setting them first."""
    tracker = _NameTracker(environment)
    tracker.visit(tree)
    return tracker.undeclared_identifiers


def _with_fallback(tree: nodes.Node) -> Iterator[str]:
    """Names a ``default`` filter or a presence test (``is defined``) covers in ``tree``."""
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        covered = (node.name in _FALLBACK_FILTERS) if isinstance(node, nodes.Filter) else \
            (node.name in _PRESENCE_TESTS)
        if covered and node.node is not None:
            names = [node.node, *node.node.find_all(nodes.Name)]
            yield from (name.name for name in names if isinstance(name, nodes.Name))
