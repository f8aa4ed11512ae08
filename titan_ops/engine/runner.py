"""Plays, batches and strategies: which task runs on which host, when.

Linear (the default): each task on every active host, a worker per host up
to ``forks``, before the next task starts. Free: every host runs through the
play on its own. Events are emitted under one lock, so subscribers never see
two events at once, whatever the strategy.
"""

from __future__ import annotations

import math
import os
import threading
from collections import ChainMap
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty, SimpleQueue
from typing import Any
from collections.abc import Iterable

from titan_ops import modules
from titan_ops.connection import ConnectionPool, address_from_vars
from titan_ops.connection.base import Connection
from titan_ops.engine import events
from titan_ops.engine.executor import TaskExecutor, evaluate_conditions
from titan_ops.engine.handlers import Notifications
from titan_ops.engine.options import RunOptions
from titan_ops.engine.results import HostStats, PlayResult, RunResult, Status, TaskResult
from titan_ops.engine.tags import TagFilter
from titan_ops.errors import Location, PlaybookError, TemplateError, TitanOpsError
from titan_ops.filters import to_bool
from titan_ops.inventory import Inventory
from titan_ops.lookups.loops import loop_items
from titan_ops.modules.base import HostContext
from titan_ops.playbook.model import Block, IncludeTasks, Play, Playbook, Task, TaskItem
from titan_ops.playbook.parser import load_task_file
from titan_ops.playbook.yaml_loader import load_yaml_file
from titan_ops.redaction import Redactor
from titan_ops.templating import Templar
from titan_ops.vars import HostFacts, HostVars, task_scope

_PROGRESS_SECONDS = 5.0
_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass
class _Scope:
    """What enclosing plays, blocks and includes pass down to a task."""

    keywords: dict[str, Any] = field(default_factory=dict)
    block_vars: list[dict[str, Any]] = field(default_factory=list)
    when: list[Any] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    rescuable: bool = False
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)

    def enter(self, item: Block | IncludeTasks, rescuable: bool = False,
              host_vars: dict[str, dict[str, Any]] | None = None) -> _Scope:
        return _Scope(merge_keywords(self.keywords, item.keywords), self.block_vars + [item.vars],
                      self.when + item.when, self.tags + item.tags, self.rescuable or rescuable,
                      host_vars or self.host_vars)


def merge_keywords(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """Inner keywords win, except ``environment``, which is merged as in Ansible."""
    merged = {**outer, **inner}
    if isinstance(outer.get("environment"), dict) and isinstance(inner.get("environment"), dict):
        merged["environment"] = {**outer["environment"], **inner["environment"]}
    return merged


class _PlayContext:
    """What every task of one play (one batch) shares."""

    def __init__(self, play: Play, hosts: list[str], play_result: PlayResult, play_vars: dict[str, Any],
                 inline: bool):
        self.play = play
        self.hosts = hosts
        self.play_result = play_result
        self.play_vars = play_vars
        self.inline = inline
        self.notifications = Notifications(play.handlers)
        self.unreachable: set[str] = set()
        self.failed: set[str] = set()
        self.ended_hosts: set[str] = set()
        self.ended = False
        self.aborted = False
        self.last_failure: dict[str, TaskResult] = {}

    def is_active(self, host: str) -> bool:
        return host not in self.unreachable and host not in self.failed and host not in self.ended_hosts

    def active(self, hosts: list[str]) -> list[str]:
        # called per host per task (magic variables): no Python call per host
        if not (self.unreachable or self.failed or self.ended_hosts):
            return list(hosts)
        gone = self.unreachable | self.failed | self.ended_hosts
        return [host for host in hosts if host not in gone]


class Runner:
    """Runs one playbook against one inventory and returns a RunResult."""

    def __init__(self, playbook: Playbook, inventory: Inventory, options: RunOptions, bus: events.EventBus):
        self.playbook = playbook
        self.inventory = inventory
        self.options = options
        self.bus = bus
        self.templar = Templar()
        self.executor = TaskExecutor(self.templar)
        self.tag_filter = TagFilter.from_options(options.tags, options.skip_tags)
        self.facts = HostFacts()
        self.pool = ConnectionPool(options.connection)
        self.result = RunResult(playbook=playbook.path)
        self.workers = ThreadPoolExecutor(max_workers=max(1, options.forks), thread_name_prefix="titan-worker")
        self.groups = inventory.groups()
        self.hostvars = HostVars(inventory.host_names(), self._host_view)
        self._playbook_dir = playbook.directory  # resolved once: a path lookup per host-task otherwise
        self._lock = threading.RLock()
        self._addresses: dict[str, Any] = {}
        self._inventory_vars: dict[str, dict[str, Any]] = {}
        self._group_names_cache: dict[str, list[str]] = {}
        self._task_files: dict[str, list[TaskItem]] = {}
        self._dead: set[str] = set()

    # -- run ---------------------------------------------------------------------
    def run(self) -> RunResult:
        self._emit(events.PlaybookStarted(self.playbook.path))
        try:
            for play in self.playbook.plays:
                if self.result.interrupted or not self._run_play(play):
                    break
        except KeyboardInterrupt:
            self.result.interrupted = True
            self.pool.interrupt_all()
        finally:
            self.workers.shutdown(wait=True, cancel_futures=True)
            self.pool.close_all()
            self.result.end = datetime.now()
        self._emit(events.RunDone(self.result))
        return self.result

    def _run_play(self, play: Play) -> bool:
        """Run one play; False when the run must stop (every host failed, or aborted)."""
        hosts = [host for host in self.inventory.list_hosts(play.hosts, self.options.limit) if host not in self._dead]
        play_result = PlayResult(name=play.name, hosts=hosts)
        self.result.plays.append(play_result)
        self._emit(events.PlayStarted(play.name, tuple(hosts)))
        if not hosts:
            self._emit(events.NoHostsMatched(play.name))
            return True
        play_vars = {**play.vars, **self._vars_files(play)}
        keep_going = True
        for batch in _batches(play.serial, hosts):
            context = _PlayContext(play, batch, play_result, play_vars, inline=play.strategy == "free")
            if context.inline:
                futures = [self.workers.submit(self._run_sections, context, [host]) for host in batch]
                for future in futures:
                    future.result()
            else:
                self._run_sections(context, batch)
            self._dead |= context.failed | context.unreachable
            if context.aborted:
                keep_going = False
                break
        self._emit(events.PlayDone(play_result))
        return keep_going and any(host not in self._dead for host in hosts)

    def _run_sections(self, context: _PlayContext, hosts: list[str]) -> None:
        play = context.play
        scope = _Scope(keywords=dict(play.keywords), tags=list(play.tags))
        if self._gathers_facts(play):
            facts_task = Task(module="setup", args={}, location=play.location, name="Gathering Facts",
                              tags=["always"])
            self._run_items(context, [facts_task], hosts, scope)
        for section in (play.pre_tasks, play.tasks, play.post_tasks):
            if context.ended:
                break
            self._run_items(context, section, hosts, scope)
            self._flush_handlers(context, hosts, scope)

    def _gathers_facts(self, play: Play) -> bool:
        value = play.gather_facts
        if isinstance(value, str):
            value = self.templar.render(value, ChainMap(self.options.extra_vars, play.vars))
        return to_bool(value)

    def _vars_files(self, play: Play) -> dict[str, Any]:
        loaded: dict[str, Any] = {}
        for name in play.vars_files:
            path = self.templar.render(name, ChainMap(self.options.extra_vars, play.vars))
            full = path if path.startswith("/") else f"{play.base_dir}/{path}"
            document = load_yaml_file(full)
            if document is None:
                continue
            if not isinstance(document, dict):
                raise PlaybookError("a vars file must hold a mapping", Location(full, 1, 1), "vars_files")
            loaded.update(document)
        return loaded

    # -- task lists, blocks, includes ------------------------------------------------
    def _run_items(self, context: _PlayContext, items: list[TaskItem], hosts: list[str], scope: _Scope) -> set[str]:
        """Run ``items`` on ``hosts``; return the hosts that failed in them."""
        failed: set[str] = set()
        for item in items:
            active = [host for host in context.active(hosts) if host not in failed]
            if not active or context.ended or self.result.interrupted:
                break
            if isinstance(item, Block):
                failed |= self._run_block(context, item, active, scope)
            elif isinstance(item, IncludeTasks):
                failed |= self._run_include(context, item, active, scope)
            else:
                failed |= self._run_task(context, item, active, scope)
        return failed

    def _run_block(self, context: _PlayContext, block: Block, hosts: list[str], scope: _Scope) -> set[str]:
        inner = scope.enter(block, rescuable=bool(block.rescue))
        failed = self._run_items(context, block.block, hosts, inner)
        rescuable = {host for host in failed if host not in context.unreachable}
        if rescuable and block.rescue:
            with self._lock:
                for host in rescuable:
                    self.result.stats.setdefault(host, HostStats()).rescued += 1
                    last_failure = context.last_failure.pop(host, None)
                    if last_failure is not None:
                        last_failure.rescued = True
            still_failed = self._run_items(context, block.rescue, [h for h in hosts if h in rescuable],
                                           scope.enter(block))
            failed = (failed - rescuable) | still_failed
        if block.always:
            reachable = [host for host in hosts if host not in context.unreachable and host not in context.ended_hosts]
            for host in failed & set(reachable):
                context.failed.discard(host)
            failed |= self._run_items(context, block.always, reachable, scope.enter(block))
        for host in failed:
            if not scope.rescuable:
                context.failed.add(host)
        return failed

    def _run_include(self, context: _PlayContext, include: IncludeTasks, hosts: list[str], scope: _Scope) -> set[str]:
        groups: dict[str, list[str]] = {}
        overlays: dict[tuple[str, str], list[dict[str, Any]]] = {}
        failed: set[str] = set()
        for host in hosts:
            variables = self._variables(context, host, scope, include.vars)
            try:
                passed, condition = evaluate_conditions(self.templar, scope.when + include.when, variables)
                if not passed:
                    self._record_include(context, include, host, Status.SKIPPED,
                                         {"changed": False, "skipped": True, "false_condition": condition}, scope)
                    continue
                for overlay in self._include_iterations(include, variables):
                    path = self.templar.render(include.file, ChainMap(overlay, variables))
                    full = path if path.startswith("/") else f"{include.base_dir}/{path}"
                    members = groups.setdefault(full, [])
                    if host not in members:
                        members.append(host)
                    overlays.setdefault((full, host), []).append(overlay)
            except TitanOpsError as error:
                failed |= self._record_include(context, include, host, Status.FAILED,
                                               {"failed": True, "changed": False,
                                                "msg": f"{include.location}: {error.message}"}, scope)
        for path, group in groups.items():
            try:
                tasks = self._load_task_file(path)
            except TitanOpsError as error:
                for host in group:
                    failed |= self._record_include(context, include, host, Status.FAILED,
                                                   {"failed": True, "changed": False, "msg": str(error)}, scope)
                continue
            self._emit(events.Included(path, tuple(group)))
            for host in group:
                for overlay in overlays[(path, host)]:
                    self._record_include(context, include, host, Status.OK,
                                         {"changed": False, "include": path, **overlay}, scope)
            iterations = max(len(overlays[(path, host)]) for host in group)
            for index in range(iterations):
                members = [host for host in group if index < len(overlays[(path, host)]) and host not in failed]
                host_vars = {host: {**scope.host_vars.get(host, {}), **overlays[(path, host)][index]}
                             for host in members}
                failed |= self._run_items(context, tasks, members, scope.enter(include, host_vars=host_vars))
        return failed

    def _include_iterations(self, include: IncludeTasks, variables: Any) -> list[dict[str, Any]]:
        if include.loop is None:
            return [{}]
        items = loop_items(self.templar, include.loop, include.loop_lookup, variables, "include_tasks")
        loop_var = include.loop_control.get("loop_var", "item")
        index_var = include.loop_control.get("index_var")
        return [{loop_var: item, **({index_var: index} if index_var else {})} for index, item in enumerate(items)]

    def _load_task_file(self, path: str) -> list[TaskItem]:
        with self._lock:
            tasks = self._task_files.get(path)
            if tasks is None:
                tasks = self._task_files[path] = load_task_file(path, self.templar)
            return tasks

    def _record_include(self, context: _PlayContext, include: IncludeTasks, host: str, status: Status,
                        result: dict[str, Any], scope: _Scope) -> set[str]:
        now = datetime.now()
        outcome = TaskResult(host, include.display_name, "include_tasks", status, now, now, result,
                             location=str(include.location))
        return self._record(context, None, outcome, scope)

    # -- tasks -------------------------------------------------------------------------
    def _run_task(self, context: _PlayContext, task: Task, hosts: list[str], scope: _Scope,
                  handler: bool = False) -> set[str]:
        if not self.tag_filter.selects(scope.tags + task.tags):
            return set()
        keywords = merge_keywords(scope.keywords, task.keywords)
        if task.module == "meta":
            return self._run_meta(context, task, hosts, scope)
        run_once = modules.bypasses_host_loop(task.module) or self._truthy(keywords.get("run_once"), context,
                                                                            hosts[0], scope)
        targets = hosts[:1] if run_once else hosts
        self._emit(events.TaskStarted(task.display_name, task.module, tuple(targets), str(task.location), handler))
        failed: set[str] = set()
        if context.inline:
            for host in targets:
                failed |= self._finish(context, task, self._execute(context, task, host, scope, keywords), scope,
                                       hosts if run_once else None)
            return failed
        futures: dict[Future, str] = {}
        finished: SimpleQueue[Future] = SimpleQueue()
        for host in targets:
            future = self.workers.submit(self._execute, context, task, host, scope, keywords)
            futures[future] = host
            future.add_done_callback(finished.put)
        pending = set(futures)
        order = {host: index for index, host in enumerate(targets)}
        started = datetime.now()
        try:
            while pending:
                done = _take_finished(finished, _PROGRESS_SECONDS)
                pending.difference_update(done)
                for future in sorted(done, key=lambda f: order[futures[f]]):
                    failed |= self._finish(context, task, future.result(), scope, hosts if run_once else None)
                if pending and not done:
                    elapsed = (datetime.now() - started).total_seconds()
                    self._emit(events.TaskProgress(task.display_name, len(targets) - len(pending), len(targets),
                                                   elapsed))
        except KeyboardInterrupt:
            self.result.interrupted = True
            for future in pending:
                future.cancel()
            self.pool.interrupt_all()  # what still runs on the hosts is ended, not waited for
            for future in pending:
                if not future.cancelled():
                    failed |= self._finish(context, task, future.result(), scope, hosts if run_once else None)
        if failed and self._truthy(keywords.get("any_errors_fatal"), context, hosts[0], scope):
            context.ended = True
        self._check_max_fail(context)
        return failed

    def _run_meta(self, context: _PlayContext, task: Task, hosts: list[str], scope: _Scope) -> set[str]:
        action = task.args.get("free_form")
        if action == "flush_handlers":
            self._flush_handlers(context, hosts, scope)
        elif action == "end_play":
            context.ended = True
        elif action == "end_host":
            for host in hosts:
                variables = self._variables(context, host, scope, task.vars)
                if evaluate_conditions(self.templar, scope.when + task.when, variables)[0]:
                    context.ended_hosts.add(host)
        return set()

    def _flush_handlers(self, context: _PlayContext, hosts: list[str], scope: _Scope) -> None:
        for handler in context.play.handlers:
            notified = context.notifications.take(handler, context.active(hosts))
            if notified:
                self._run_task(context, handler, notified, scope, handler=True)

    def _check_max_fail(self, context: _PlayContext) -> None:
        limit = context.play.max_fail_percentage
        if limit is None:
            return
        failed = len(context.failed | context.unreachable)
        if failed and failed * 100.0 / len(context.hosts) > float(limit):
            context.ended = context.aborted = True

    def _truthy(self, value: Any, context: _PlayContext, host: str, scope: _Scope) -> bool:
        if value is None:
            return False
        if isinstance(value, str):
            value = self.templar.render(value, self._variables(context, host, scope, {}))
        return to_bool(value)

    # -- one task on one host (worker thread) -----------------------------------------
    def _execute(self, context: _PlayContext, task: Task, host: str, scope: _Scope,
                 keywords: dict[str, Any]) -> TaskResult:
        start = datetime.now()
        variables = self._variables(context, host, scope, task.vars)
        try:
            passed, condition = evaluate_conditions(self.templar, scope.when, variables)
            settings = self._render_keywords(keywords, variables)
        except TitanOpsError as error:
            return TaskResult(host, task.display_name, task.module, Status.FAILED, start, datetime.now(),
                              {"failed": True, "changed": False, "msg": f"{task.location}: {error.message}"},
                              location=str(task.location))
        if not passed:
            return TaskResult(host, task.display_name, task.module, Status.SKIPPED, start, datetime.now(),
                              {"changed": False, "skipped": True, "false_condition": condition,
                               "skip_reason": "Conditional result was False"}, location=str(task.location))
        check_mode = self.options.check if settings.get("check_mode") is None else settings["check_mode"]
        diff_mode = self.options.diff if settings.get("diff") is None else settings["diff"]
        delegate = settings.get("delegate_to") or host
        host_context = HostContext(
            host=host,
            connection_factory=lambda: self._connection(delegate),
            variables=variables,  # ansible_check_mode and ansible_diff_mode stay the run's, as in Ansible
            templar=self.templar,
            check_mode=check_mode,
            diff_mode=diff_mode,
            become=bool(settings.get("become")),
            become_user=settings.get("become_user"),
            environment=settings.get("environment") or {},
            timeout=settings.get("timeout") or self.options.connection.command_timeout,
            playbook_dir=context.play.base_dir,
        )
        result = self.executor.execute(task, host_context, ignore_errors=bool(settings.get("ignore_errors")))
        result.no_log = bool(settings.get("no_log"))
        if result.status is Status.UNREACHABLE and settings.get("ignore_unreachable"):
            result.ignored = True
        return result

    def _render_keywords(self, keywords: dict[str, Any], variables: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        for key, value in keywords.items():
            value = self.templar.render(value, variables)
            if key in ("become", "check_mode", "diff", "no_log", "ignore_errors", "ignore_unreachable"):
                value = to_bool(value)
            elif key == "timeout":
                value = float(value) if value else None
            elif key == "environment":
                if not isinstance(value, dict):
                    raise TemplateError(f"'environment' must be a mapping, got {type(value).__name__}")
                value = {str(name): str(item) for name, item in value.items()}
            settings[key] = value
        return settings

    # -- results -----------------------------------------------------------------------------
    def _finish(self, context: _PlayContext, task: Task, result: TaskResult, scope: _Scope,
                run_once_hosts: list[str] | None) -> set[str]:
        failed = self._record(context, task, result, scope)
        if run_once_hosts:
            shared = {task.register: result.result} if task.register else {}
            if task.module in ("set_fact", "setup") and result.status is Status.OK:
                shared.update(result.result.get("ansible_facts", {}))
            for other in run_once_hosts[1:]:
                self.facts.update(other, shared)
        return failed

    def _record(self, context: _PlayContext, task: Task | None, result: TaskResult, scope: _Scope) -> set[str]:
        with self._lock:
            stats = self.result.stats.setdefault(result.host, HostStats())
            if task is not None and task.register:
                self.facts.update(result.host, {task.register: result.result})
            if result.status is Status.UNREACHABLE and not result.ignored:
                stats.unreachable += 1
                context.unreachable.add(result.host)
            elif result.status is Status.SKIPPED:
                stats.skipped += 1
            elif result.status is Status.FAILED and not result.ignored:
                if not scope.rescuable:
                    stats.failed += 1
                    context.failed.add(result.host)
                failed_task = {"name": (task.name or "") if task is not None else result.task,
                               "action": task.module if task is not None else result.module}
                self.facts.update(result.host, {"ansible_failed_task": failed_task,
                                                "ansible_failed_result": result.result})
            else:
                stats.ok += 1
                stats.changed += int(result.changed)
                stats.ignored += int(result.ignored)
                if task is not None and task.module in ("set_fact", "setup") and result.status is Status.OK:
                    self.facts.update(result.host, result.result.get("ansible_facts", {}))
            if task is not None and task.notify and result.changed and result.status is not Status.FAILED:
                context.notifications.notify(result.host, task.notify)
            redacted = self._emit(events.HostTaskDone(result))
            context.play_result.add(redacted.result)
            if result.status is Status.FAILED and not result.ignored and scope.rescuable:
                context.last_failure[result.host] = redacted.result
        if result.status in (Status.UNREACHABLE, Status.FAILED) and not result.ignored:
            return {result.host}
        return set()

    def _emit(self, event: events.Event) -> Any:
        with self._lock:
            return self.bus.emit(event)

    # -- variables and connections ---------------------------------------------------
    def _variables(self, context: _PlayContext, host: str, scope: _Scope, task_vars: dict[str, Any]) -> Any:
        active = context.active(context.hosts)
        magic = {
            "inventory_hostname": host,
            "inventory_hostname_short": host.split(".")[0],
            "groups": self.groups,
            "group_names": self._group_names(host),
            "hostvars": self.hostvars,
            "ansible_play_hosts": active,
            "ansible_play_hosts_all": list(context.hosts),
            "ansible_play_batch": active,
            "ansible_check_mode": self.options.check,
            "ansible_diff_mode": self.options.diff,
            "playbook_dir": self._playbook_dir,
            "play_hosts": active,
        }
        return task_scope(
            inventory_vars=self.inventory_vars(host),
            play_vars=context.play_vars,
            block_vars=scope.block_vars,
            task_vars={**task_vars, **scope.host_vars.get(host, {})},
            facts=self.facts.of(host),
            magic=magic,
            extra_vars=self.options.extra_vars,
        )

    def _group_names(self, host: str) -> list[str]:
        """``group_names`` of ``host``, computed once per run (the inventory does not change)."""
        names = self._group_names_cache.get(host)
        if names is None:
            names = self._group_names_cache[host] = self.inventory.group_names(host)
        return names

    def _host_view(self, host: str) -> Any:
        """One host's variables as ``hostvars[host]`` shows them."""
        return ChainMap(self.facts.of(host), self.inventory_vars(host))

    def inventory_vars(self, host: str) -> dict[str, Any]:
        variables = self._inventory_vars.get(host)
        if variables is None:
            variables = self._inventory_vars[host] = self.inventory.host_vars(host)
        return variables

    def _connection(self, host: str) -> Connection:
        address = self._addresses.get(host)
        if address is None:
            if self.inventory.has_host(host):
                host_vars = self.inventory_vars(host)
                host_vars = self.templar.render(host_vars, host_vars)
            elif host in _LOCAL_NAMES:
                host_vars = {"ansible_connection": "local"}
            else:
                host_vars = {"ansible_host": host}
            address = self._addresses[host] = address_from_vars(host, host_vars)
        return self.pool.get(address)


def _take_finished(finished: SimpleQueue[Future], timeout: float) -> list[Future]:
    """The futures finished so far, waiting up to ``timeout`` for the first (none: an empty list).

    A queue fed by done-callbacks: one wake-up per batch of results, not a waiter on every pending future.
    """
    try:
        done = [finished.get(timeout=timeout)]
    except Empty:
        return []
    while not finished.empty():
        done.append(finished.get_nowait())
    return done


def _batches(serial: Any, hosts: list[str]) -> list[list[str]]:
    """Split ``hosts`` by ``serial``: a number, a percentage, or a list of them."""
    if serial in (None, 0, "0", []):
        return [hosts]
    sizes = serial if isinstance(serial, list) else [serial]
    batches, start, index = [], 0, 0
    while start < len(hosts):
        size = _batch_size(sizes[min(index, len(sizes) - 1)], len(hosts))
        batches.append(hosts[start:start + size])
        start += size
        index += 1
    return batches


def _batch_size(value: Any, total: int) -> int:
    text = str(value).strip()
    if text.endswith("%"):
        return max(1, math.floor(total * float(text[:-1]) / 100.0))
    return max(1, int(text))


def run_playbook(playbook: Playbook, inventory: Inventory, options: RunOptions,
                 subscribers: Iterable[events.Subscriber] = ()) -> RunResult:
    """Run ``playbook`` against ``inventory``; emit events to ``subscribers``."""
    redactor = Redactor()
    redactor.collect_from(os.environ)
    redactor.collect_from(options.extra_vars)
    for host in inventory.host_names():
        redactor.collect_from(inventory.host_vars(host))
    for play in playbook.plays:
        redactor.collect_from(play.vars)
    bus = events.EventBus(list(subscribers), redact=redactor.event)
    return Runner(playbook, inventory, options, bus).run()
