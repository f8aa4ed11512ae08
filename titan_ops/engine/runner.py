"""The runner: walks a playbook's plays, batches, blocks, includes and tasks.

It decides what a task's outcome does to the walk (a failed host leaves its
block for the ``rescue``, ``any_errors_fatal`` ends the play, handlers run when
flushed); the strategy decides which host runs what next, the dispatcher where;
the recorder records every result and emits every event; the host view gives
each host's variables.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections import ChainMap
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from titan_ops import modules
from titan_ops.connection.address import SSH_ARGS_VARIABLES, ssh_options
from titan_ops.connection.base import Connection
from titan_ops.engine import events
from titan_ops.engine.dispatch import Dispatcher, ThreadDispatcher, open_dispatcher
from titan_ops.engine.executor import TaskExecutor, evaluate_conditions
from titan_ops.engine.hostview import HostView, search_path
from titan_ops.engine.options import RunOptions
from titan_ops.engine.prompts import answer_prompts
from titan_ops.engine.plan import batches, gathers_facts, load_vars_files
from titan_ops.engine.play_state import PlayState
from titan_ops.engine.recorder import Recorder, outcomes
from titan_ops.engine.results import PlayResult, RunResult, Status, TaskResult
from titan_ops.engine.scope import Scope, merge_keywords
from titan_ops.engine.start_at import StartAt
from titan_ops.engine.strategy import Free, Linear, Strategy
from titan_ops.engine.tags import TagFilter
from titan_ops.errors import InventoryError, TemplateError, TitanOpsError
from titan_ops.filters import to_bool
from titan_ops.inventory import Inventory
from titan_ops.lookups.loops import loop_items
from titan_ops.modules.base import HostContext
from titan_ops.playbook.keywords import tags_of
from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, Play, Playbook, Task, TaskItem
from titan_ops.playbook.parser import load_role, load_task_file
from titan_ops.playbook.role_blocks import role_scopes
from titan_ops.redaction import Redactor, every_value, is_secret_store, secret_values
from titan_ops.templating import Templar, is_template
from titan_ops.vars import HostFacts

_BOOLEAN_KEYWORDS = ("become", "check_mode", "diff", "no_log", "ignore_errors", "ignore_unreachable")


class Runner:
    """Runs one playbook against one inventory and returns a RunResult."""

    def __init__(self, playbook: Playbook, inventory: Inventory, options: RunOptions, bus: events.EventBus,
                 dispatcher: Dispatcher | None = None, prompted: list[dict[str, Any]] | None = None,
                 redactor: Redactor | None = None):
        self.playbook = playbook
        self.options = options
        self.redactor = redactor or Redactor()
        """The run's secrets: every value found to be secret during the run is added (see redaction)."""
        self.templar = Templar()
        self.templar.on_secret = self.redactor.add_secrets
        self.executor = TaskExecutor(self.templar)
        self.tag_filter = TagFilter.from_options(options.tags, options.skip_tags)
        self.result = RunResult(playbook=playbook.path)
        self.dispatcher = dispatcher or ThreadDispatcher(options.forks, options.connection)
        self.connections = self.dispatcher.connections
        self.hosts = HostView(inventory, options, HostFacts(), self.templar, playbook.directory)
        self.recorder = Recorder(self.result, self.hosts, bus)
        self._task_files: dict[str, list[TaskItem]] = {}
        self._roles: dict[tuple[str, str], tuple[Block, list[Task]]] = {}
        self._task_files_lock = threading.Lock()
        self._dead: set[str] = set()
        self.start_at = StartAt(options.start_at_task)
        self.prompted = prompted or [{} for _ in playbook.plays]
        """The answers to each play's vars_prompt (see engine.prompts)."""

    # -- run ---------------------------------------------------------------------
    def run(self) -> RunResult:
        self.recorder.emit(events.PlaybookStarted(self.playbook.path))
        try:
            for play, prompted in zip(self.playbook.plays, self.prompted):
                if self.result.interrupted or not self._run_play(play, prompted):
                    break
        except KeyboardInterrupt:
            self._interrupt()
        finally:
            self.dispatcher.shutdown()
            self.result.end = datetime.now()
        self.recorder.emit(events.RunDone(self.result))
        return self.result

    def _interrupt(self) -> None:
        """Ctrl-C: the run stops, and what still runs on the hosts is ended, not waited for."""
        self.result.interrupted = True
        self.connections.interrupt_all()

    def _run_play(self, play: Play, prompted: dict[str, Any]) -> bool:
        """Run one play; False when the run must stop (every host failed, or aborted)."""
        inventory = self.hosts.inventory  # add_host and group_by change the run's inventory
        hosts = [host for host in inventory.list_hosts(play.hosts, self.options.limit) if host not in self._dead]
        play_result = PlayResult(name=play.name, hosts=hosts)
        self.result.plays.append(play_result)
        self.recorder.emit(events.PlayStarted(play.name, tuple(hosts)))
        if not hosts:
            self.recorder.emit(events.NoHostsMatched(play.name))
            return True
        play_vars = {**play.vars, **prompted,
                     **load_vars_files(play, self.templar, self.options.extra_vars, self.playbook.vault)}
        for authored in (play_vars, play.role_vars, play.role_defaults):
            self.redactor.collect_from(authored)
        strategy: Strategy = (Free(self.dispatcher) if play.strategy == "free"
                              else Linear(self.dispatcher, self._interrupt))
        keep_going = True
        for batch in batches(play.serial, hosts):
            state = PlayState(play, batch, play_result, play_vars)
            strategy.run_batch(functools.partial(self._run_sections, state, strategy), batch)
            self._dead |= state.failed | state.unreachable
            if state.aborted:
                keep_going = False
                break
        self.recorder.emit(events.PlayDone(play_result))
        return keep_going and any(host not in self._dead for host in hosts)

    def _run_sections(self, state: PlayState, strategy: Strategy, hosts: list[str]) -> None:
        play = state.play
        if self.start_at.pending and not self.start_at.in_play(play):
            return  # --start-at-task: the plays before the start run nothing
        walk = _Walk(self, state, strategy)
        scope = Scope(keywords={**self.options.keyword_defaults, **play.keywords}, tags=list(play.tags))
        if gathers_facts(play, self.templar, self.options.extra_vars, self.options.gather_facts):
            facts_task = Task(module="setup", args={}, location=play.location, name="Gathering Facts",
                              tags=["always"])
            walk.task(facts_task, hosts, scope)
        for section in (play.pre_tasks, play.tasks, play.post_tasks):
            if state.ended:
                break
            walk.items(section, hosts, scope)
            walk.flush_handlers(hosts, scope)

    def load_task_file(self, path: str) -> list[TaskItem]:
        """An included task file, loaded and validated once per run."""
        with self._task_files_lock:
            tasks = self._task_files.get(path)
            if tasks is None:
                tasks = self._task_files[path] = load_task_file(path, self.templar, self.playbook.roles_path,
                                                                self.playbook.vault)
            return tasks

    def load_role(self, include: IncludeRole, options: dict[str, Any]) -> tuple[Block, list[Task]]:
        """An included role's block and handlers, loaded and validated once per run."""
        key = (include.base_dir, json.dumps(options, sort_keys=True))
        with self._task_files_lock:
            loaded = self._roles.get(key)
            if loaded is None:
                loaded = self._roles[key] = load_role(include, options, self.playbook.roles_path, self.templar,
                                                      self.playbook.vault)
            return loaded

    def connection(self, host: str) -> Connection:
        return self.connections.get(self.hosts.address(host))


class _Walk:
    """One batch of one play walked on its hosts: blocks, includes, tasks, handlers."""

    def __init__(self, runner: Runner, state: PlayState, strategy: Strategy):
        self.runner = runner
        self.state = state
        self.strategy = strategy
        self.templar = runner.templar
        self.recorder = runner.recorder
        self.hosts = runner.hosts

    # -- task lists, blocks, includes ------------------------------------------------
    def items(self, items: list[TaskItem], hosts: list[str], scope: Scope) -> set[str]:
        """Run ``items`` on ``hosts``; return the hosts that failed in them."""
        failed: set[str] = set()
        for item in items:
            active = [host for host in self.state.active(hosts) if host not in failed]
            if not active or self.state.ended or self.runner.result.interrupted:
                break
            if self.runner.start_at.skips(item):
                continue
            if isinstance(item, Block):
                failed |= self.block(item, active, scope)
            elif isinstance(item, (IncludeTasks, IncludeRole)):
                failed |= self.include(item, active, scope)
            else:
                failed |= self.task(item, active, scope)
        return failed

    def block(self, block: Block, hosts: list[str], scope: Scope) -> set[str]:
        state = self.state
        if block.runs_once_as is not None:  # a role runs once per host and play
            hosts = [host for host in hosts if (host, block.runs_once_as) not in state.roles_run]
            state.roles_run.update((host, block.runs_once_as) for host in hosts)
            if not hosts:
                return set()
        failed = self.items(block.block, hosts, scope.enter(block, rescuable=bool(block.rescue)))
        rescuable = {host for host in failed if host not in state.unreachable}
        if rescuable and block.rescue:
            self.recorder.count_rescued(rescuable)
            still_failed = self.items(block.rescue, [h for h in hosts if h in rescuable], scope.enter(block))
            failed = (failed - rescuable) | still_failed
        if block.always:
            reachable = [host for host in hosts if host not in state.unreachable and host not in state.ended_hosts]
            for host in failed & set(reachable):
                state.failed.discard(host)
            failed |= self.items(block.always, reachable, scope.enter(block))
        if not scope.rescuable:
            state.failed |= failed
        return failed

    def include(self, include: IncludeTasks | IncludeRole, hosts: list[str], scope: Scope) -> set[str]:
        """``include_tasks`` or ``include_role``: what to include is decided per host (and loop item),
        then run on the hosts that include the same thing, together."""
        groups: dict[str, list[str]] = {}
        overlays: dict[tuple[str, str], list[dict[str, Any]]] = {}
        failed: set[str] = set()
        for host in hosts:
            variables = self.hosts.variables(self.state, host, scope, include.vars)
            try:
                passed, condition = evaluate_conditions(self.templar, scope.when + include.when, variables)
                if not passed:
                    self._record_include(include, host, Status.SKIPPED,
                                         {"changed": False, "skipped": True, "false_condition": condition}, scope)
                    continue
                for overlay in self._include_iterations(include, variables):
                    target = self._include_target(include, ChainMap(overlay, variables))
                    members = groups.setdefault(target, [])
                    if host not in members:
                        members.append(host)
                    overlays.setdefault((target, host), []).append(overlay)
            except TitanOpsError as error:
                failed |= self._record_include(include, host, Status.FAILED,
                                               {"failed": True, "changed": False,
                                                "msg": f"{include.location}: {error.message}"}, scope)
        for target, group in groups.items():
            try:
                tasks = self._included_tasks(include, target, group)
            except TitanOpsError as error:
                for host in group:
                    failed |= self._record_include(include, host, Status.FAILED,
                                                   {"failed": True, "changed": False, "msg": str(error)}, scope)
                continue
            for host in group:
                for overlay in overlays[(target, host)]:
                    what = ({"include": target} if isinstance(include, IncludeTasks)
                            else {"include_args": json.loads(target)})
                    self._record_include(include, host, Status.OK, {"changed": False, **what, **overlay}, scope)
            iterations = max(len(overlays[(target, host)]) for host in group)
            for index in range(iterations):
                members = [host for host in group if index < len(overlays[(target, host)]) and host not in failed]
                host_vars = {host: {**scope.host_vars.get(host, {}), **overlays[(target, host)][index]}
                             for host in members}
                failed |= self.items(tasks, members, scope.enter(include, host_vars=host_vars))
        return failed

    def _include_target(self, include: IncludeTasks | IncludeRole, variables: Any) -> str:
        """What a host includes: the task file's path, or the role's options (as JSON)."""
        if isinstance(include, IncludeRole):
            return json.dumps(self.templar.render(include.options, variables), sort_keys=True)
        path = self.templar.render(include.file, variables)
        return path if path.startswith("/") else f"{include.base_dir}/{path}"

    def _included_tasks(self, include: IncludeTasks | IncludeRole, target: str, hosts: list[str]) -> list[TaskItem]:
        """The tasks ``target`` holds; an included role's handlers become the play's, and a public one's
        variables and defaults too."""
        if isinstance(include, IncludeTasks):
            tasks = self.runner.load_task_file(target)
            self.recorder.emit(events.Included(target, tuple(hosts)))
            return tasks
        options = json.loads(target)
        role, handlers = self.runner.load_role(include, options)
        self.state.notifications.add(handlers)
        if to_bool(options.get("public", False)):
            for found in role_scopes(role):
                self.state.role_defaults.update(found.defaults)
                self.state.role_vars.update(found.vars)
        applied = include.apply
        return [Block(block=[role], location=include.location, tags=tags_of(applied.get("tags")),
                      keywords={key: value for key, value in applied.items() if key != "tags"})]

    def _include_iterations(self, include: IncludeTasks | IncludeRole, variables: Any) -> list[dict[str, Any]]:
        if include.loop is None:
            return [{}]
        items = loop_items(self.templar, include.loop, include.loop_lookup, variables, "include_tasks")
        loop_var = include.loop_control.get("loop_var", "item")
        index_var = include.loop_control.get("index_var")
        return [{loop_var: item, **({index_var: index} if index_var else {})} for index, item in enumerate(items)]

    def _record_include(self, include: IncludeTasks | IncludeRole, host: str, status: Status, result: dict[str, Any],
                        scope: Scope) -> set[str]:
        now = datetime.now()
        module = "include_tasks" if isinstance(include, IncludeTasks) else "include_role"
        outcome = TaskResult(host, include.display_name, module, status, now, now, result,
                             location=str(include.location))
        return {host} if self.recorder.record(self.state, None, outcome, scope.rescuable) else set()

    # -- tasks -------------------------------------------------------------------------
    def task(self, task: Task, hosts: list[str], scope: Scope, handler: bool = False) -> set[str]:
        if not self.runner.tag_filter.selects(scope.tags + task.tags):
            return set()
        keywords = merge_keywords(scope.keywords, task.keywords)
        if task.module == "meta":
            return self._meta(task, hosts, scope)
        self._learn_secrets(task, scope, keywords)
        run_once = modules.bypasses_host_loop(task.module) or self._truthy(keywords.get("run_once"), hosts[0], scope)
        targets = hosts[:1] if run_once else hosts
        self.recorder.emit(events.TaskStarted(task.display_name, task.module, tuple(targets), str(task.location),
                                              handler))
        failed: set[str] = set()

        def finish(result: TaskResult) -> None:
            if self.recorder.record(self.state, task, result, scope.rescuable):
                failed.add(result.host)
            if run_once:
                self.recorder.share(task, result, hosts)

        def progress(done: int, total: int, elapsed: float) -> None:
            self.recorder.emit(events.TaskProgress(task.display_name, done, total, elapsed))

        self.strategy.run_task(targets, lambda host: self._execute(task, host, scope, keywords), finish, progress)
        if failed and self._truthy(keywords.get("any_errors_fatal"), hosts[0], scope):
            self.state.ended = True
        self._check_max_fail()
        return failed

    def _learn_secrets(self, task: Task, scope: Scope, keywords: dict[str, Any]) -> None:
        """The secret-named values written in the task, its blocks and roles (static ones; what templates
        render to is learnt as they render)."""
        redactor = self.runner.redactor
        for authored in (task.vars, task.args, keywords.get("environment") or {}, *scope.block_vars,
                         *(part for role in scope.roles for part in (role.vars, role.defaults, role.params))):
            redactor.collect_from(authored)

    def _meta(self, task: Task, hosts: list[str], scope: Scope) -> set[str]:
        action = task.args.get("free_form")
        if action == "flush_handlers":
            self.flush_handlers(hosts, scope)
        elif action == "end_play":
            self.state.ended = True
        elif action == "end_host":
            for host in hosts:
                variables = self.hosts.variables(self.state, host, scope, task.vars)
                if evaluate_conditions(self.templar, scope.when + task.when, variables)[0]:
                    self.state.ended_hosts.add(host)
        return set()

    def flush_handlers(self, hosts: list[str], scope: Scope) -> None:
        """Run the handlers notified on ``hosts`` still in the play (with ``force_handlers``, on hosts that
        failed too)."""
        state = self.state
        if self.runner.options.force_handlers:
            candidates = [host for host in hosts if host not in state.unreachable and host not in state.ended_hosts]
        else:
            candidates = state.active(hosts)
        for handler in list(state.notifications.handlers):
            notified = state.notifications.take(handler, candidates)
            if notified:
                self.task(handler, notified, scope, handler=True)

    def _check_max_fail(self) -> None:
        limit = self.state.play.max_fail_percentage
        if limit is None:
            return
        failed = len(self.state.failed | self.state.unreachable)
        if failed and failed * 100.0 / len(self.state.hosts) > float(limit):
            self.state.ended = self.state.aborted = True

    def _truthy(self, value: Any, host: str, scope: Scope) -> bool:
        if value is None:
            return False
        if isinstance(value, str):
            value = self.templar.render(value, self.hosts.variables(self.state, host, scope, {}))
        return to_bool(value)

    # -- one task on one host (a dispatcher's worker) ----------------------------------
    def _execute(self, task: Task, host: str, scope: Scope, keywords: dict[str, Any]) -> TaskResult:
        start = datetime.now()
        variables = self.hosts.variables(self.state, host, scope, task.vars)
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
        options = self.runner.options
        check_mode = options.check if settings.get("check_mode") is None else settings["check_mode"]
        diff_mode = options.diff if settings.get("diff") is None else settings["diff"]
        delegate = settings.get("delegate_to") or host
        host_context = HostContext(
            host=host,
            connection_factory=lambda: self.runner.connection(delegate),
            variables=variables,  # ansible_check_mode and ansible_diff_mode stay the run's, as in Ansible
            templar=self.templar,
            check_mode=check_mode,
            diff_mode=diff_mode,
            become=bool(settings.get("become")),
            become_user=settings.get("become_user"),
            environment=settings.get("environment") or {},
            timeout=settings.get("timeout") or options.connection.command_timeout,
            secrets=self.runner.redactor,
            playbook_dir=self.state.play.base_dir,
            search_path=tuple(search_path(scope, self.state.play.base_dir)),
            vault=self.runner.playbook.vault,
        )
        result = self.runner.executor.execute(task, host_context, ignore_errors=bool(settings.get("ignore_errors")))
        result.no_log = bool(settings.get("no_log"))
        self._learn_facts(task, result)
        if result.status is Status.UNREACHABLE and settings.get("ignore_unreachable"):
            result.ignored = True
        return result

    def _learn_facts(self, task: Task, result: TaskResult) -> None:
        """Facts a task sets that are secrets: every one a ``no_log`` task sets or that ``include_vars``
        loads from a secret store (``secrets.yml``), and the secret-named ones ``include_vars`` loads
        (``set_fact``'s are its arguments, learnt as they render)."""
        if task.module not in ("set_fact", "include_vars") or result.status not in (Status.OK, Status.CHANGED):
            return
        loaded = outcomes(result.result)
        facts = [outcome.get("ansible_facts") or {} for outcome in loaded]
        stores = [path for outcome in loaded for path in outcome.get("ansible_included_var_files") or []
                  if is_secret_store(str(path))]
        self.templar.note_secrets(every_value(facts) if result.no_log or stores else secret_values(facts))

    def _render_keywords(self, keywords: dict[str, Any], variables: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        for key, value in keywords.items():
            value = self.templar.render(value, variables)
            if key in _BOOLEAN_KEYWORDS:
                value = to_bool(value)
            elif key == "timeout":
                value = float(value) if value else None
            elif key == "environment":
                if not isinstance(value, dict):
                    raise TemplateError(f"'environment' must be a mapping, got {type(value).__name__}")
                value = {str(name): str(item) for name, item in value.items()}
                self.templar.note_secrets(secret_values(value))  # PGPASSWORD: "{{ x }}": x is a secret
            settings[key] = value
        return settings


def check_ssh_args(host: str, host_vars: dict[str, Any]) -> None:
    """InventoryError, before any host is touched, for ssh options in a host's ansible_ssh_common_args or
    ansible_ssh_extra_args that titan-ops cannot honour (templated ones are checked when used)."""
    if any(is_template(host_vars.get(variable)) for variable in SSH_ARGS_VARIABLES):
        return
    try:
        ssh_options(host, host_vars)
    except TitanOpsError as error:
        raise InventoryError(error.message) from None


def run_playbook(playbook: Playbook, inventory: Inventory, options: RunOptions,
                 subscribers: Iterable[events.Subscriber] = ()) -> RunResult:
    """Run ``playbook`` against ``inventory``; emit events to ``subscribers``."""
    redactor = Redactor(options.secrets)
    redactor.collect_from(os.environ)
    redactor.collect_from(options.extra_vars)
    redactor.collect_from(options.host_defaults)
    for host in inventory.host_names():
        host_vars = inventory.host_vars(host)
        redactor.collect_from(host_vars)
        check_ssh_args(host, host_vars)
    for play in playbook.plays:
        redactor.collect_from(play.vars)
    vaults = [vault for vault in {id(v): v for v in (options.vault, playbook.vault) if v is not None}.values()]
    for vault in vaults:  # what a vault opened is a secret, before and during the run
        redactor.add_secrets(vault.revealed)
        vault.on_reveal.append(redactor.add_secrets)
    StartAt(options.start_at_task).check(playbook)
    prompted = answer_prompts(playbook, options.extra_vars, options.ask, redactor.add_secrets)
    bus = events.EventBus(list(subscribers), redact=redactor.event)
    dispatcher = open_dispatcher(options)  # a cluster that cannot be used fails here, before any event
    try:
        return Runner(playbook, inventory, options, bus, dispatcher, prompted, redactor).run()
    finally:
        for vault in vaults:
            vault.on_reveal.remove(redactor.add_secrets)
