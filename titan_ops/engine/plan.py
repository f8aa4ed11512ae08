"""The plan stage: everything about the plays that can be known before any host is touched.

Between the validated model and the run. For each play: its keywords rendered
and typed (``name``, ``hosts``, ``serial``, ``max_fail_percentage``,
``strategy``, ``order``, ``gather_facts``, ``tags``), the hosts it targets and its
batches, and the variables of its ``vars_files`` for each host. Play keywords
see the extra vars, the play's vars and the magic variables that need no host
(``groups``, ``playbook_dir``); ``vars_files`` names see a host's inventory
variables too. Any error is a PlaybookError (or InventoryError) naming the
file, line, column and key, raised before the first connection.
"""

from __future__ import annotations

import math
import os
import random
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from titan_ops.engine.handlers import Notifications, rendered_handler_names
from titan_ops.engine.hostview import HostView
from titan_ops.engine.included import IncludedFiles
from titan_ops.errors import InventoryError, Location, MissingFileError, NoHostsError, PlaybookError, TemplateError
from titan_ops.inventory import Inventory
from titan_ops.playbook import play_values
from titan_ops.playbook.inventory_needs import Need, inventory_needs
from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, Play, Playbook, Task
from titan_ops.playbook.yaml_loader import load_yaml_file
from titan_ops.redaction import every_value, is_secret_store
from titan_ops.templating import OMIT, is_template
from titan_ops.vault import Vault


@dataclass
class PlayPlan:
    """One play, resolved: what it runs on, in which batches, how, and with which variables."""

    play: Play
    name: str
    pattern: str | list[str]
    """The play's ``hosts``, rendered."""
    limit: str | None
    hosts: list[str]
    """Every host the play targets in the inventory as it is before the run (``--limit`` applied)."""
    serial: list[int | str]
    strategy: str
    order: str
    """``order``, rendered: how the hosts are ordered before they are batched (``inventory`` by default)."""
    gather_facts: bool
    max_fail_percentage: float | None
    tags: list[str]
    vars: dict[str, Any]
    """The play's ``vars`` and the variables of its ``vars_files`` (the same for every host)."""
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per host, when a ``vars_files`` name depends on the host: the play's variables for that host."""
    handler_names: dict[str, str] = field(default_factory=dict)
    """The rendered name of each handler whose name is a template."""

    def vars_of(self, host: str) -> dict[str, Any]:
        return self.host_vars.get(host, self.vars)

    def targets(self, inventory: Inventory) -> list[str]:
        """The hosts the play targets when it starts, in inventory order (``add_host`` and ``group_by``
        may have changed the inventory since the plan)."""
        return inventory.list_hosts(self.pattern, self.limit)

    def batches(self, hosts: list[str]) -> list[list[str]]:
        """``hosts`` (in inventory order) put in the play's ``order``, then cut into its batches."""
        return batches(self.serial, ordered(hosts, self.order))


def plan_playbook(playbook: Playbook, view: HostView, included: IncludedFiles,
                  prompted: list[dict[str, Any]] | None = None) -> list[PlayPlan]:
    """The plan of every play of ``playbook`` (``prompted``: each play's answers to its ``vars_prompt``);
    raises on anything wrong, before any host is touched."""
    _check_limit(view)
    planner = _Planner(view, playbook.vault, included)
    answers = prompted or [{} for _ in playbook.plays]
    needs = inventory_needs(playbook.plays, view.templar, included.tasks)
    return [planner.play(play, play_answers, play_needs)
            for play, play_answers, play_needs in zip(playbook.plays, answers, needs)]


def _check_limit(view: HostView) -> None:
    """A ``--limit`` that leaves no host of a non-empty inventory is an error (exit code 1, as ansible)."""
    limit = view.options.limit
    if limit is None:
        return
    try:
        selected = view.inventory.list_hosts("all", limit)
    except InventoryError as error:
        raise InventoryError(error.message, error.location, "--limit") from None
    if not selected and view.inventory.host_names():
        raise NoHostsError(f"no host of the inventory matches '{limit}': no hosts to target", key="--limit")


class _Planner:
    def __init__(self, view: HostView, vault: Vault | None, included: IncludedFiles):
        self.view = view
        self.vault = vault
        self.included = included
        self.options = view.options
        self.templar = view.templar
        self._files: dict[str, dict[str, Any]] = {}

    def play(self, play: Play, prompted: dict[str, Any], needs: list[Need]) -> PlayPlan:
        play_vars = {**play.vars, **prompted}
        variables = ChainMap(self.options.extra_vars, self.view.play_magic(), play_vars)
        pattern = self._render(play, "hosts", play.hosts, variables)
        if not isinstance(pattern, (str, list)) or not pattern:
            raise PlaybookError(f"must name hosts, got {pattern!r}", play.where("hosts"), "hosts")
        try:
            hosts = self.view.inventory.list_hosts(pattern, self.options.limit)
        except InventoryError as error:
            raise PlaybookError(error.message, play.where("hosts"), "hosts") from None
        name = self._render(play, "name", play.name, variables)
        sizes = self._typed(play, "serial", play.serial, variables, play_values.serial_sizes, [])
        limit = None if play.max_fail_percentage is None else self._typed(
            play, "max_fail_percentage", play.max_fail_percentage, variables, play_values.percentage)
        shared, per_host = self._vars(play, play_vars, hosts)
        self._check_inventory_needs(play, needs, hosts, shared, per_host)
        known = ChainMap(self.options.extra_vars, self.view.play_magic(), shared)
        handler_names = rendered_handler_names(self.templar, play.handlers, known)
        self._check_notified(play, known, Notifications(play.handlers, handler_names))
        return PlayPlan(
            play=play,
            name=name if isinstance(name, str) else str(name),
            pattern=pattern,
            limit=self.options.limit,
            hosts=hosts,
            serial=sizes,
            strategy=self._typed(play, "strategy", play.strategy, variables, play_values.strategy, "linear"),
            order=("inventory" if play.order is None else
                   self._typed(play, "order", play.order, variables, play_values.order, "inventory")),
            gather_facts=(self.options.gather_facts if play.gather_facts is None else
                          self._typed(play, "gather_facts", play.gather_facts, variables, play_values.boolean,
                                      self.options.gather_facts)),
            max_fail_percentage=limit,
            tags=self._typed(play, "tags", play.tags, variables, play_values.tag_list, []),
            vars=shared,
            host_vars=per_host,
            handler_names=handler_names,
        )

    def _render(self, play: Play, key: str, value: Any, variables: Mapping[str, Any]) -> Any:
        try:
            return self.templar.render(value, variables)
        except TemplateError as error:
            raise PlaybookError(error.message, play.where(key), key) from None

    def _typed(self, play: Play, key: str, value: Any, variables: Mapping[str, Any],
               check: Callable[[Any], Any], default: Any = None) -> Any:
        """A play keyword's value, rendered and checked; ``default`` when it renders to ``omit``."""
        rendered = self._render(play, key, value, variables)
        if isinstance(rendered, str) and rendered == OMIT:
            return default
        try:
            return check(rendered)
        except ValueError as error:
            raise PlaybookError(str(error), play.where(key), key) from None

    # -- handlers ------------------------------------------------------------------
    def _check_notified(self, play: Play, variables: Mapping[str, Any], notifications: Notifications) -> None:
        """``notify:`` of a handler the play does not have is an error (as in ansible), found before the run
        for every name known before it; a name that needs a host's variables, or a play that includes roles
        at run time (whose handlers join the play's then), or a handler's included file (loaded when the
        handler is notified), is checked when the task notifies."""
        notifying = list(_notifying(play.pre_tasks + play.tasks + play.post_tasks, self.included, set()))
        notifying += [(handler, name) for handler in play.handlers if isinstance(handler, Task)
                      for name in handler.notify]
        if any(isinstance(item, IncludeRole) for item, _ in notifying) or not self.options.error_on_missing_handler:
            return
        for item, name in notifying:
            if is_template(name):
                try:
                    name = self.templar.render(name, variables)
                except TemplateError:
                    continue
            if not notifications.knows(name):
                raise PlaybookError(f"the handler '{name}' is not in this play (no handler has that name or "
                                    "listens to it)", item.location, "notify")

    # -- the inventory's variables ------------------------------------------------------
    def _check_inventory_needs(self, play: Play, needs: list[Need], hosts: list[str], shared: dict[str, Any],
                               per_host: dict[str, dict[str, Any]]) -> None:
        """Every ``titan_*`` variable the play uses with no fallback is defined for each of its hosts."""
        for host in hosts if needs else ():
            known = self.view.plan_variables(host, play, per_host.get(host, shared))
            for need in needs:
                if need.name not in known:
                    sources = ", ".join(self.view.inventory.sources) or "(none)"
                    raise PlaybookError(f"used here (in '{need.key}') with no default, and the inventory {sources} "
                                        f"does not define it for host {host}", need.location, need.name)

    # -- vars_files ------------------------------------------------------------------
    def _vars(self, play: Play, play_vars: dict[str, Any],
              hosts: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The play's variables: shared by every host, and per host when a file name depends on the host."""
        if not play.vars_files:
            return play_vars, {}
        if not any(is_template(name) for entry in play.vars_files for name in _alternatives(entry)):
            static = ChainMap(self.options.extra_vars, self.view.play_magic(), play_vars, play.role_vars)
            return self._merged(play_vars, self._chosen(play, static, None)), {}
        per_host: dict[str, dict[str, Any]] = {}
        merged: dict[tuple[str, ...], dict[str, Any]] = {}
        for host in hosts:
            paths = self._chosen(play, self.view.plan_variables(host, play, play_vars), host)
            if paths not in merged:
                merged[paths] = self._merged(play_vars, paths)
            per_host[host] = merged[paths]
        return play_vars, per_host

    def _chosen(self, play: Play, variables: Mapping[str, Any], host: str | None) -> tuple[str, ...]:
        """The file read for each ``vars_files`` entry: the first of its alternatives that exists."""
        chosen = []
        for entry in play.vars_files:
            candidates = []
            for name in _alternatives(entry):
                try:
                    rendered = self.templar.render(name, variables)
                except TemplateError as error:
                    where = f" for host {host}" if host else ""
                    raise PlaybookError(f"the file name '{name}'{where}: {error.message}", play.where("vars_files"),
                                        "vars_files") from None
                if not isinstance(rendered, str) or not rendered:
                    raise PlaybookError(f"a vars file name must be a string, got {rendered!r}",
                                        play.where("vars_files"), "vars_files")
                # as ansible: a relative name is looked for in vars/ beside the playbook, then beside it
                paths = [rendered] if os.path.isabs(rendered) else [os.path.join(play.base_dir, "vars", rendered),
                                                                    os.path.join(play.base_dir, rendered)]
                found = next((path for path in paths if os.path.isfile(path)), None)
                candidates.append(paths[-1])
                if found is not None:
                    chosen.append(found)
                    break
            else:
                what = "vars file not found" if len(candidates) == 1 else "none of these vars files exists"
                where = f" (for host {host})" if host else ""
                raise PlaybookError(f"{what}: {', '.join(candidates)}{where}", play.where("vars_files"), "vars_files")
        return tuple(chosen)

    def _merged(self, play_vars: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
        merged = dict(play_vars)
        for path in paths:
            merged.update(self._file(path))
        return merged

    def _file(self, path: str) -> dict[str, Any]:
        loaded = self._files.get(path)
        if loaded is None:
            document = load_yaml_file(path, self.vault)
            if document is None:
                document = {}
            if not isinstance(document, dict):
                raise PlaybookError("a vars file must hold a mapping", Location(path, 1, 1), "vars_files")
            if is_secret_store(path):
                self.templar.note_secrets(every_value(document))  # secrets.yml: every value is one
            loaded = self._files[path] = document
        return loaded


def _notifying(items: list[Any], included: IncludedFiles,
               seen: set[str]) -> Iterator[tuple[Task | Block | IncludeRole, str]]:
    """Every (task or block, handler name) a ``notify:`` known before the run names (task files included by
    a fixed name too, each once); an ``include_role`` is given with no name, as a mark."""
    for item in items:
        if isinstance(item, Block):
            yield from ((item, name) for name in item.notify)
            yield from _notifying(item.block + item.rescue + item.always, included, seen)
        elif isinstance(item, IncludeRole):
            yield item, ""
        elif isinstance(item, IncludeTasks):
            if not is_template(item.file):
                path = item.file if os.path.isabs(item.file) else os.path.join(item.base_dir, item.file)
                if path not in seen:
                    seen.add(path)
                    try:
                        tasks = included.tasks(path, item.role_search, item.play_location)
                    except MissingFileError:  # (it, or a file it names, is not there: the include fails when run)
                        continue
                    yield from _notifying(tasks, included, seen)
        else:
            yield from ((item, name) for name in item.notify)


def _alternatives(entry: str | list[str]) -> list[str]:
    return entry if isinstance(entry, list) else [entry]


def ordered(hosts: list[str], order: str) -> list[str]:
    """``hosts`` (in inventory order) in a play's ``order``, as ansible-core takes them: by name for
    ``sorted``, the reverse for ``reverse_*``, a fresh random order for ``shuffle``."""
    if order == "sorted":
        return sorted(hosts)
    if order == "reverse_sorted":
        return sorted(hosts, reverse=True)
    if order == "reverse_inventory":
        return hosts[::-1]
    if order == "shuffle":
        return random.sample(hosts, len(hosts))
    return list(hosts)


def batches(sizes: list[int | str], hosts: list[str]) -> list[list[str]]:
    """Split ``hosts`` into batches of ``sizes`` (the last size repeats), as ansible does.

    A percentage is of every host of the play (at least 1); a count of 0 or less takes every host left.
    """
    if not sizes:
        return [hosts] if hosts else []
    result, start, index = [], 0, 0
    while start < len(hosts):
        size = _batch_size(sizes[min(index, len(sizes) - 1)], len(hosts))
        if size <= 0:
            result.append(hosts[start:])
            break
        result.append(hosts[start:start + size])
        start += size
        index += 1
    return result


def _batch_size(size: int | str, total: int) -> int:
    if isinstance(size, str):
        return math.floor(total * float(size.rstrip("%")) / 100.0) or 1
    return size
