"""The linear strategy: each task on every active host, a worker per host up
to ``forks``, before the next task starts."""

from __future__ import annotations

from collections import ChainMap
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from titan_ops.connection import ConnectionPool, address_from_vars
from titan_ops.connection.base import Connection
from titan_ops.engine import events
from titan_ops.engine.executor import TaskExecutor, evaluate_conditions
from titan_ops.engine.options import RunOptions
from titan_ops.engine.results import HostStats, PlayResult, RunResult, Status, TaskResult
from titan_ops.errors import TemplateError
from titan_ops.inventory import Inventory
from titan_ops.modules.base import HostContext
from titan_ops.redaction import Redactor
from titan_ops.playbook.model import Block, Play, Playbook, Task, TaskItem
from titan_ops.templating import Templar
from titan_ops.vars import HostFacts, HostVars, task_scope


@dataclass
class _Scope:
    """The block context a task runs in: variables of the enclosing blocks."""

    block_vars: list[dict[str, Any]] = field(default_factory=list)
    when: list[Any] = field(default_factory=list)
    in_rescuable_block: bool = False

    def enter(self, block: Block, rescuable: bool) -> "_Scope":
        return _Scope(self.block_vars + [block.vars], self.when + block.when,
                      self.in_rescuable_block or rescuable)


class Runner:
    """Runs one playbook against one inventory and returns a RunResult."""

    def __init__(self, playbook: Playbook, inventory: Inventory, options: RunOptions, bus: events.EventBus):
        self.playbook = playbook
        self.inventory = inventory
        self.options = options
        self.bus = bus
        self.templar = Templar()
        self.executor = TaskExecutor(self.templar, check_mode=options.check, diff_mode=options.diff)
        self.facts = HostFacts()
        self.pool = ConnectionPool(options.connection)
        self.result = RunResult(playbook=playbook.path)
        self._addresses: dict[str, Any] = {}
        self._inventory_vars: dict[str, dict[str, Any]] = {}
        self.groups = inventory.groups()
        self.hostvars = HostVars(inventory.host_names(), self._host_view)

    def _host_view(self, host: str) -> Any:
        """One host's variables as ``hostvars[host]`` shows them."""
        return ChainMap(self.facts.of(host), self.inventory_vars(host))

    def inventory_vars(self, host: str) -> dict[str, Any]:
        variables = self._inventory_vars.get(host)
        if variables is None:
            variables = self._inventory_vars[host] = self.inventory.host_vars(host)
        return variables

    # -- run ---------------------------------------------------------------
    def run(self) -> RunResult:
        self.bus.emit(events.PlaybookStarted(self.playbook.path))
        workers = ThreadPoolExecutor(max_workers=max(1, self.options.forks), thread_name_prefix="titan-worker")
        try:
            for play in self.playbook.plays:
                if self.result.interrupted:
                    break
                self._run_play(play, workers)
        finally:
            workers.shutdown(wait=True, cancel_futures=True)
            self.pool.close_all()
            self.result.end = datetime.now()
        self.bus.emit(events.RunDone(self.result))
        return self.result

    def _run_play(self, play: Play, workers: ThreadPoolExecutor) -> None:
        hosts = self.inventory.list_hosts(play.hosts, self.options.limit)
        play_result = PlayResult(name=play.name, hosts=hosts)
        self.result.plays.append(play_result)
        self.bus.emit(events.PlayStarted(play.name, tuple(hosts)))
        if not hosts:
            self.bus.emit(events.NoHostsMatched(play.name))
            return
        for host in hosts:
            self.result.stats.setdefault(host, HostStats())
        context = _PlayContext(play, hosts, play_result, workers)
        self._run_items(context, play.tasks, list(hosts), _Scope())
        self.bus.emit(events.PlayDone(play_result))

    # -- task lists and blocks -------------------------------------------------
    def _run_items(self, context: "_PlayContext", items: list[TaskItem], hosts: list[str], scope: _Scope) -> set[str]:
        """Run ``items`` on ``hosts``; return the hosts that failed in them."""
        failed: set[str] = set()
        for item in items:
            active = [host for host in hosts if host not in failed and context.is_active(host)]
            if not active or self.result.interrupted:
                break
            if isinstance(item, Block):
                failed |= self._run_block(context, item, active, scope)
            else:
                failed |= self._run_task(context, item, active, scope)
        return failed

    def _run_block(self, context: "_PlayContext", block: Block, hosts: list[str], scope: _Scope) -> set[str]:
        inner = scope.enter(block, rescuable=bool(block.rescue))
        failed = self._run_items(context, block.block, hosts, inner)
        rescuable = failed - context.unreachable
        if rescuable and block.rescue:
            still_failed = self._run_items(context, block.rescue, sorted(rescuable, key=hosts.index),
                                           scope.enter(block, rescuable=False))
            for host in rescuable - still_failed:
                self.result.stats[host].rescued += 1
            failed = (failed - rescuable) | still_failed
        if block.always:
            reachable = [host for host in hosts if host not in context.unreachable]
            failed |= self._run_items(context, block.always, reachable, scope)
        return failed

    def _run_task(self, context: "_PlayContext", task: Task, hosts: list[str], scope: _Scope) -> set[str]:
        self.bus.emit(events.TaskStarted(task.display_name, task.module, tuple(hosts), str(task.location)))
        futures: dict[Future, str] = {}
        for host in hosts:
            futures[context.workers.submit(self._execute, context, task, host, scope)] = host
        failed: set[str] = set()
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when="FIRST_COMPLETED")
                for future in sorted(done, key=lambda f: hosts.index(futures[f])):
                    failed |= self._record(context, task, future.result(), scope)
        except KeyboardInterrupt:
            self.result.interrupted = True
            for future in pending:
                future.cancel()
            for future in pending:
                if not future.cancelled():
                    failed |= self._record(context, task, future.result(), scope)
        return failed

    def _record(self, context: "_PlayContext", task: Task, result: TaskResult, scope: _Scope) -> set[str]:
        stats = self.result.stats[result.host]
        if task.register:
            self.facts.update(result.host, {task.register: result.result})
        if result.status is Status.UNREACHABLE:
            stats.unreachable += 1
            context.unreachable.add(result.host)
        elif result.status is Status.SKIPPED:
            stats.skipped += 1
        elif result.status is Status.FAILED and result.ignored:
            stats.ignored += 1
            stats.ok += 1
            stats.changed += int(result.changed)
        elif result.status is Status.FAILED:
            if not scope.in_rescuable_block:
                stats.failed += 1
        else:
            stats.ok += 1
            if result.status is Status.CHANGED:
                stats.changed += 1
            if task.module == "set_fact":
                self.facts.update(result.host, result.result.get("ansible_facts", {}))
        redacted = self.bus.emit(events.HostTaskDone(result))
        context.play_result.add(redacted.result)
        if result.status is Status.UNREACHABLE or (result.status is Status.FAILED and not result.ignored):
            if result.status is Status.FAILED:
                self.facts.update(result.host, {"ansible_failed_task": {"name": task.display_name},
                                                "ansible_failed_result": result.result})
            return {result.host}
        return set()

    # -- one task on one host (worker thread) ----------------------------------
    def _execute(self, context: "_PlayContext", task: Task, host: str, scope: _Scope) -> TaskResult:
        variables = self._variables(context, task, host, scope)
        start = datetime.now()
        try:
            passed, condition = evaluate_conditions(self.templar, scope.when, variables)
        except TemplateError as error:
            return TaskResult(host, task.display_name, task.module, Status.FAILED, start, datetime.now(),
                              {"failed": True, "changed": False, "msg": f"{task.location}: {error.message}"},
                              location=str(task.location))
        if not passed:
            return TaskResult(host, task.display_name, task.module, Status.SKIPPED, start, datetime.now(),
                              {"changed": False, "skipped": True, "false_condition": condition,
                               "skip_reason": "Conditional result was False"}, location=str(task.location))
        host_context = HostContext(
            host=host,
            connection_factory=lambda: self._connection(host),
            variables=variables,
            templar=self.templar,
            check_mode=self.options.check,
            diff_mode=self.options.diff,
            timeout=self.options.connection.command_timeout,
            playbook_dir=self.playbook.directory,
        )
        return self.executor.execute(task, host_context)

    def _variables(self, context: "_PlayContext", task: Task, host: str, scope: _Scope) -> Any:
        magic = {
            "inventory_hostname": host,
            "inventory_hostname_short": host.split(".")[0],
            "groups": self.groups,
            "group_names": self.inventory.group_names(host),
            "hostvars": self.hostvars,
            "ansible_play_hosts": [h for h in context.hosts if context.is_active(h)],
            "ansible_play_batch": [h for h in context.hosts if context.is_active(h)],
            "ansible_check_mode": self.options.check,
            "ansible_diff_mode": self.options.diff,
            "playbook_dir": self.playbook.directory,
        }
        return task_scope(
            inventory_vars=self.inventory_vars(host),
            play_vars=context.play.vars,
            block_vars=scope.block_vars,
            task_vars=task.vars,
            facts=self.facts.of(host),
            magic=magic,
            extra_vars=self.options.extra_vars,
        )

    def _connection(self, host: str) -> Connection:
        address = self._addresses.get(host)
        if address is None:
            host_vars = self.inventory_vars(host)
            host_vars = self.templar.render(host_vars, host_vars)
            address = self._addresses[host] = address_from_vars(host, host_vars)
        return self.pool.get(address)


class _PlayContext:
    """What every task of one play shares."""

    def __init__(self, play: Play, hosts: list[str], play_result: PlayResult, workers: ThreadPoolExecutor):
        self.play = play
        self.hosts = hosts
        self.play_result = play_result
        self.workers = workers
        self.unreachable: set[str] = set()

    def is_active(self, host: str) -> bool:
        return host not in self.unreachable


def run_playbook(playbook: Playbook, inventory: Inventory, options: RunOptions,
                 subscribers: Iterable[events.Subscriber] = ()) -> RunResult:
    """Run ``playbook`` against ``inventory``; emit events to ``subscribers``."""
    redactor = Redactor()
    redactor.collect_from(options.extra_vars)
    for host in inventory.host_names():
        redactor.collect_from(inventory.host_vars(host))
    for play in playbook.plays:
        redactor.collect_from(play.vars)
    bus = events.EventBus(list(subscribers), redact=redactor.event)
    return Runner(playbook, inventory, options, bus).run()
