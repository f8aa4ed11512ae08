"""The walk of one batch of a play: its sections, blocks, includes, tasks and handlers.

What a task's outcome does to the walk is decided here: a failed host leaves
its block for the ``rescue`` (and always runs ``always``); ``any_errors_fatal``
and an exceeded ``max_fail_percentage`` stop every other host of the batch as
if it had failed where it stands (under the linear strategy: ansible's free
strategy does not use them); handlers run where they are flushed, and a
handler that fails there fails its host there.
"""

from __future__ import annotations

import json
from dataclasses import replace
import os
from collections import ChainMap
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from titan_ops import modules
from titan_ops.conditionals import evaluate_conditions
from titan_ops.engine import events
from titan_ops.engine.handlers import rendered_handler_names
from titan_ops.engine.hostview import search_path
from titan_ops.engine.loop_control import LoopControl
from titan_ops.engine.play_state import PlayState
from titan_ops.engine.recorder import outcomes
from titan_ops.engine.run_keywords import (
    KeywordError, KeywordRenderer, RunFlags, RunSettings, connection_keywords, ignores_errors_as_written,
)
from titan_ops.engine.results import Status, TaskResult, loop_result, skipped_result
from titan_ops.engine.scope import Scope, merge_keywords
from titan_ops.engine.strategy import Strategy
from titan_ops.engine.throttle import Limit
from titan_ops.errors import (
    Location, MetaConditionError, MissingFileError, MissingHandlerError, PlaybookError, RunError, TemplateError,
    ThrottleError, TitanOpsError,
)
from titan_ops.filters import to_bool
from titan_ops.lookups.loops import loop_items
from titan_ops.modules.base import HostContext
from titan_ops.playbook import play_values
from titan_ops.playbook.keywords import as_list, tags_of
from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, Task, TaskItem, nested_block
from titan_ops.playbook.role_blocks import role_scopes
from titan_ops.redaction import CENSORED_ITEM, every_value, is_secret_store, secret_values
from titan_ops.templating import OMIT, is_template

if TYPE_CHECKING:
    from titan_ops.engine.runner import Runner

DISPATCH_KEYWORDS = ("delegate_to", "throttle")
"""Keywords of a task that decide where and when its runs go, not how one run runs: not rendered per run."""


class Walk:
    """One batch of one play walked on its hosts."""

    def __init__(self, runner: Runner, state: PlayState, strategy: Strategy):
        self.runner = runner
        self.state = state
        self.strategy = strategy
        self.templar = runner.templar
        self.recorder = runner.recorder
        self.hosts = runner.hosts
        self.keywords = KeywordRenderer(runner.templar)

    def play(self, hosts: list[str]) -> None:
        """The play's sections on ``hosts``: facts, pre_tasks, tasks, post_tasks, handlers after each."""
        plan = self.state.plan
        scope = Scope(keywords={**self.runner.options.keyword_defaults, **plan.play.keywords}, tags=list(plan.tags),
                      when=list(plan.play.when))
        if plan.gather_facts:
            facts_task = Task(module="setup", args={}, location=plan.play.location, name="Gathering Facts",
                              tags=["always"])
            self.task(facts_task, hosts, scope)
        for section in (plan.play.pre_tasks, plan.play.tasks, plan.play.post_tasks):
            self._place_roles(section, scope)
        for section in (plan.play.pre_tasks, plan.play.tasks, plan.play.post_tasks):
            if self.state.ended:
                break
            self.state.failed |= self.items(section, hosts, scope)
            self.flush_handlers(hosts, scope)

    def _place_roles(self, items: list[TaskItem], scope: Scope) -> None:
        """Where each role the play holds (``roles:``, ``import_role``) is placed last: its handlers see the
        variables around that place until an ``include_role`` of it runs (ansible-core places them when it
        loads the play)."""
        for item in items:
            if isinstance(item, Block):
                inner = scope.enter(item)
                if item.role is not None:
                    self.state.role_entries[item.role.path] = inner
                    self.state.static_roles.add(id(item.role))
                for part in (item.block, item.rescue, item.always):
                    self._place_roles(part, inner)

    # -- task lists, blocks, includes ------------------------------------------------
    def items(self, items: list[TaskItem], hosts: list[str], scope: Scope) -> set[str]:
        """Run ``items`` on ``hosts``; return the hosts that failed in them.

        A host unreachable here that ``meta: clear_host_errors`` brings back lags behind, as under ansible's
        lockstep: once the others are through these items, it runs them from the one after where it was lost.
        """
        failed: set[str] = set()
        lost_at: dict[str, int] = {}
        lagging: dict[str, int] = {}
        for index, item in enumerate(items):
            present = self.state.reachable(hosts) if scope.forced else self.state.active(hosts)
            active = [host for host in present if host not in failed and host not in lagging]
            if not active or self.state.ended or self.runner.result.interrupted:
                break
            if self.runner.start_at.skips(item):
                continue
            clears = self.state.clears
            if isinstance(item, Block):
                failed_here = self.block(item, active, scope)
            elif isinstance(item, (IncludeTasks, IncludeRole)):
                failed_here = self.include(item, active, scope)
            else:
                failed_here = self.task(item, active, scope)
            lost_at.update((host, index) for host in failed_here - failed)
            failed |= failed_here
            if self.state.clears != clears:
                back = [host for host in hosts if host in self.state.rejoined - self.state.unreachable]
                failed -= set(back)
                lagging.update((host, lost_at.get(host, index) + 1) for host in back)
        for start in sorted(set(lagging.values())):
            behind = [host for host in hosts if lagging.get(host) == start]
            failed |= self.items(items[start:], behind, scope)
        return failed

    def block(self, block: Block, hosts: list[str], scope: Scope) -> set[str]:
        state = self.state
        if block.runs_once_as is not None:  # a role runs once per host and play
            hosts = [host for host in hosts if (host, block.runs_once_as) not in state.roles_run]
            state.roles_run.update((host, block.runs_once_as) for host in hosts)
            if not hosts:
                return set()
        # a rescue whose every task the tags leave out is no rescue (ansible drops it before the run)
        rescue = block.rescue if scope.handler or self._selects_any(block.rescue, scope.tags + block.tags) else []
        inner = scope.enter(block, rescuable=bool(rescue), caught=bool(rescue or block.always))
        if block.role is not None and id(block.role) not in state.static_roles:  # an included role
            state.role_entries[block.role.path] = inner
        failed = self.items(block.block, hosts, inner)
        twice = self._failed_twice(failed)  # past the rescue, or without one past the always
        rescuable = {host for host in failed if host not in state.unreachable and host not in twice}
        past_always = set() if rescue else twice
        if rescuable and rescue:
            still_failed = self.items(rescue, [h for h in hosts if h in rescuable],
                                      scope.enter(block, caught=bool(block.always)))
            failed = (failed - rescuable) | still_failed
            past_always = self._failed_twice(still_failed)
        if block.always:
            reachable = [host for host in state.reachable(hosts) if host not in past_always]
            for host in failed & set(reachable):
                state.failed.discard(host)
            clears = state.clears
            failed_in_always = self.items(block.always, reachable, scope.enter(block))
            if state.clears != clears:  # meta: clear_host_errors: the hosts that failed into it go on
                failed = set()
            failed |= failed_in_always
        if not scope.rescuable:
            state.failed |= failed
        return failed

    def _failed_twice(self, failed: set[str]) -> set[str]:
        """The hosts of ``failed`` that a failing ``run_once`` task failed twice (``failed_twice``): the
        second failure takes them one section further in the block they are in. Taken out of the set."""
        twice = failed & self.state.failed_twice
        self.state.failed_twice -= twice
        return twice

    def _selects(self, tags: list[str], hosts: list[str], scope: Scope) -> bool:
        """Whether ``--tags``/``--skip-tags`` select a task with ``tags``; tags given as templates (a block's,
        a role's: ``tags: "{{ t }}"``) are rendered first, with the first host's variables."""
        if hosts and any(is_template(tag) for tag in tags):
            variables = self.hosts.variables(self.state, hosts[0], scope, {})
            rendered: list[str] = []
            for tag in tags:
                try:
                    rendered += tags_of(self.templar.render(tag, variables)) if is_template(tag) else [tag]
                except TemplateError:
                    rendered.append(tag)
            tags = rendered
        return self.runner.tag_filter.selects(tags)

    def _selects_any(self, items: list[TaskItem], tags: list[str]) -> bool:
        """Whether ``--tags``/``--skip-tags`` leave any task of ``items`` (inside ``tags``) to run."""
        for item in items:
            if isinstance(item, Block):
                if self._selects_any(item.block + item.rescue + item.always, tags + item.tags):
                    return True
            elif self.runner.tag_filter.selects(tags + item.tags):
                return True
        return False

    def include(self, include: IncludeTasks | IncludeRole, hosts: list[str], scope: Scope) -> set[str]:
        """``include_tasks`` or ``include_role``: what to include is decided per host (and loop item),
        then run on the hosts that include the same thing, together. Its tags select the include itself."""
        if not scope.handler and not self._selects(scope.tags + include.tags, hosts, scope):
            return set()
        if self._truthy(merge_keywords(scope.keywords, include.keywords).get("run_once"), hosts[0], scope):
            hosts = hosts[:1]  # (the include, and so what it includes, on the first host only, as in ansible)
        self.recorder.emit(events.TaskStarted(include.display_name, _include_module(include), tuple(hosts),
                                              str(include.location), scope.handler))
        groups: dict[str, list[str]] = {}
        overlays: dict[tuple[str, str], list[dict[str, Any]]] = {}
        chosen: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        """Per host, what each loop item includes, in item order."""
        announced: dict[str, dict[str | None, list[str]]] = {}
        """Per target, the hosts that include it, by loop item label (None without a loop)."""
        failed: set[str] = set()
        for host in hosts:
            variables = self.hosts.variables(self.state, host, scope, include.vars)
            try:
                passed, condition = evaluate_conditions(self.templar, scope.when + include.when, variables,
                                                        f"{include.location}: when")
                if not passed:
                    self._record_include(include, host, Status.SKIPPED, skipped_result(condition), scope)
                    continue
                picks = [(self._include_target(include, ChainMap(overlay, variables)), overlay)
                         for overlay in self._include_iterations(include, variables)]
                hidden = include.loop is not None and self._truthy(
                    merge_keywords(scope.keywords, include.keywords).get("no_log"), host, scope)
                labels = [self._item_label(include, overlay, variables, hidden) for _, overlay in picks]
            except TitanOpsError as error:
                ignored = self.keywords.ignores_errors(merge_keywords(scope.keywords, include.keywords), variables)
                failed |= self._record_include(include, host, Status.FAILED,
                                               {"failed": True, "changed": False,
                                                "msg": f"{include.location}: {error.message}"}, scope, ignored)
                continue
            chosen[host] = picks
            for (target, overlay), label in zip(picks, labels):
                for members in (groups.setdefault(target, []), announced.setdefault(target, {}).setdefault(label, [])):
                    if host not in members:
                        members.append(host)
                overlays.setdefault((target, host), []).append(overlay)
        loaded: dict[str, list[TaskItem]] = {}
        errors: dict[str, str] = {}
        for target, group in groups.items():
            try:
                loaded[target] = self._included_tasks(include, target, group)
                shown = target if isinstance(include, IncludeTasks) else str(json.loads(target)["name"])
                for label, members in announced[target].items():
                    self.recorder.emit(events.Included(shown, tuple(members), label))
            except RunError:
                raise
            except TitanOpsError as error:
                errors[target] = str(error)
                continue
            inner = nested_block(loaded[target]) if scope.handler else None
            if inner is not None:  # (ansible-core: a parser error, the run ends)
                raise RunError("a handler cannot be a block inside a block", inner.location, "block")
        for host, picks in chosen.items():  # one result per host, a loop's holding every item's (as ansible)
            items = [{"failed": True, "changed": False, "msg": errors[target]} if target in errors
                     else {"changed": False, **self._include_result(include, target), **overlay}
                     for target, overlay in picks]
            result = items[0] if include.loop is None else loop_result(items)
            status = Status.FAILED if result.get("failed") else Status.SKIPPED if result.get("skipped") else Status.OK
            # (a file that cannot be loaded fails its hosts, ignore_errors or not, as in ansible-core)
            failed |= self._record_include(include, host, status, result, scope)
            if status is Status.OK and len(items) > 1:
                self.recorder.count_ok(host, len(items) - 1)
        # (an include that fails stops the others as a task does, before they run what it includes)
        failed = self._stopped_by(failed, hosts, scope, merge_keywords(scope.keywords, include.keywords))
        for target, group in groups.items():
            if target in errors:
                continue
            iterations = max(len(overlays[(target, host)]) for host in group)
            for index in range(iterations):
                members = [host for host in group if index < len(overlays[(target, host)]) and host not in failed]
                host_vars = {host: {**scope.host_vars.get(host, {}), **overlays[(target, host)][index]}
                             for host in members}
                failed |= self.items(loaded[target], members, scope.enter(include, host_vars=host_vars))
        self._failed_twice(failed)  # the included tasks are a block of their own, as in ansible
        return failed

    @staticmethod
    def _include_result(include: IncludeTasks | IncludeRole, target: str) -> dict[str, Any]:
        """What including ``target`` gives (one loop item's): the file, or the role's options."""
        return _included_file(include, target) if isinstance(include, IncludeTasks) else {
            "include_args": json.loads(target)}

    def _include_target(self, include: IncludeTasks | IncludeRole, variables: Any) -> str:
        """What a host includes: the task file's path, or the role's options (as JSON)."""
        if isinstance(include, IncludeRole):  # (an option given as omit is not given)
            options = self.templar.render(include.options, variables)
            return json.dumps({key: value for key, value in options.items() if value != OMIT}, sort_keys=True)
        path = self.templar.render(include.file, variables)
        return path if path.startswith("/") else f"{include.base_dir}/{path}"

    def _included_tasks(self, include: IncludeTasks | IncludeRole, target: str, hosts: list[str]) -> list[TaskItem]:
        """The tasks ``target`` holds; an included role's handlers become the play's, and a public one's
        variables and defaults too."""
        if isinstance(include, IncludeTasks):
            if not os.path.isfile(target):
                raise PlaybookError(f"could not find or access the task file '{target}'", include.location,
                                    "include_tasks")
            try:
                tasks = self.runner.included.tasks(target, include.role_search, include.play_location)
            except MissingFileError:  # a file or role it names is not there: the include fails
                raise
            except TitanOpsError as error:  # a file that does not parse ends the run (ansible exits 4)
                raise RunError(str(error)) from None
            return _applied(tasks, include.apply, include.location)
        options = json.loads(target)
        role, handlers = self.runner.included.role(include, options)
        variables = self.hosts.variables(self.state, hosts[0], Scope(), {})  # (the play's, as its first host sees them)
        self.state.notifications.add(handlers, rendered_handler_names(self.templar, handlers, variables))
        if to_bool(options.get("public", False)):
            for found in role_scopes(role):
                self.state.role_defaults.update(found.defaults)
                self.state.role_vars.update(found.vars)
        return _applied([role], include.apply, include.location)

    def _item_label(self, include: IncludeTasks | IncludeRole, overlay: dict[str, Any], variables: Any,
                    hidden: bool) -> str | None:
        """How ``included:`` names the loop item an include is for (its ``loop_control.label``, else the item
        as Python prints it, as ansible-core does; censored under ``no_log``); None without a loop."""
        if include.loop is None:
            return None
        if hidden:
            return CENSORED_ITEM
        label = include.loop_control.get("label")
        if label is not None:
            return str(self.templar.render(label, ChainMap(overlay, variables)))
        return str(overlay[overlay["ansible_loop_var"]])

    def _include_iterations(self, include: IncludeTasks | IncludeRole, variables: Any) -> list[dict[str, Any]]:
        if include.loop is None:
            return [{}]
        items = loop_items(self.templar, include.loop, include.loop_lookup, variables, "include_tasks")
        control = LoopControl.of(include.loop_control, self.templar, variables)
        return [control.variables(items, index) for index in range(len(items))]

    def _record_include(self, include: IncludeTasks | IncludeRole, host: str, status: Status, result: dict[str, Any],
                        scope: Scope, ignored: bool = False) -> set[str]:
        now = datetime.now()
        outcome = TaskResult(host, include.display_name, _include_module(include), status, now, now, result,
                             ignored=ignored, location=str(include.location))
        if include.register:
            self.recorder.register(host, include.register, result)
        return {host} if self.recorder.record(self.state, None, outcome, scope.rescuable) else set()

    # -- tasks -------------------------------------------------------------------------
    def task(self, task: Task, hosts: list[str], scope: Scope) -> set[str]:
        if not scope.handler and not self._selects(scope.tags + task.tags, hosts, scope):
            return set()
        keywords = merge_keywords(scope.keywords, task.keywords)
        if task.module == "meta":
            return self._meta(task, hosts, scope)
        self._learn_secrets(task, scope, keywords)
        run_once = modules.bypasses_host_loop(task.module) or self._truthy(keywords.get("run_once"), hosts[0], scope)
        targets = hosts[:1] if run_once else hosts
        self.recorder.emit(events.TaskStarted(task.display_name, task.module, tuple(targets), str(task.location),
                                              scope.handler))
        failed: set[str] = set()
        results = 0

        def finish(result: TaskResult) -> None:
            nonlocal results
            results += 1
            notify = task.notify or scope.notify
            if notify and result.changed and result.status is not Status.FAILED:
                self._notify(task, result, notify, scope)
            if self.recorder.record(self.state, task, result, scope.rescuable):
                failed.add(result.host)
            if run_once:  # (with every host of the batch, not only those here: an include's, say, as in ansible)
                self.recorder.share(task, result, self.state.reachable(self.state.hosts))

        def progress(done: int, total: int, elapsed: float) -> None:
            self.recorder.emit(events.TaskProgress(task.display_name, done, total, elapsed))

        throttle = None if run_once else self._throttle(task, keywords.get("throttle"), hosts[0], scope)
        self.strategy.run_task(targets, lambda host: self._execute(task, host, scope, keywords), finish, progress,
                               throttle)
        return self._stopped_by(failed, hosts, scope, keywords, run_once=run_once, results=results)

    def _stopped_by(self, failed: set[str], hosts: list[str], scope: Scope, keywords: dict[str, Any], *,
                    run_once: bool = False, results: int = 1) -> set[str]:
        """``failed`` (the hosts a task or an include failed on ``hosts``), with the hosts that those failures
        stop: every other host of the batch under ``any_errors_fatal`` or for a failed ``run_once``, and
        the batch when ``max_fail_percentage`` is exceeded."""
        if not self.strategy.lockstep:
            return failed  # ansible's free strategies: every host on its own, no any_errors_fatal, no max_fail
        self.state.final_failures |= self._final_failures(failed, hosts[0], scope)
        # (ansible-core asks the task's ignore_errors as written: a templated one, whatever it renders to, keeps
        # any_errors_fatal from stopping the others; random seed 89880)
        fatal = not ignores_errors_as_written(keywords) and self._truthy(keywords.get("any_errors_fatal"), hosts[0],
                                                                         scope)
        if failed and (run_once or fatal):
            halted = self._halt(hosts, failed, scope)
            if run_once:
                self.state.failed_twice |= halted
            failed |= halted
        if results and self._max_fail_exceeded():
            failed |= self._halt(hosts, failed, scope)
            self.state.aborted = True
        return failed

    def _final_failures(self, failed: set[str], host: str, scope: Scope) -> set[str]:
        """The hosts of ``failed`` whose failure ends their walk of the batch: no ``rescue`` or ``always``
        around it and, under ``force_handlers``, no notified handler left (they go to the flush first).
        Only these count against ``max_fail_percentage``, in ansible-core too: a host that fails into an
        ``always`` that then succeeds is never counted in its batch."""
        if scope.caught:
            return set()
        final = failed & self.state.failed
        if final and not scope.handler and self._forces_handlers(host, scope):
            final = {host for host in final if not self.state.notifications.pending(host)}
        return final

    def _notify(self, task: Task, result: TaskResult, names: list[str], scope: Scope) -> None:
        """A changed result notifies ``names`` (templates rendered for its host, for every item of a loop; one
        that renders to a list names each; one that does not render fails the task). A name no handler of the
        play has ends the run there, before that result is reported (as in ansible-core), or with
        ``error_on_missing_handler`` off is a warning of the task."""
        try:
            if any(is_template(name) for name in names):
                variables = self.hosts.variables(self.state, result.host, scope, task.vars)
                iterations = [{key: outcome[key] for key in (outcome.get("ansible_loop_var"), "ansible_loop_var")
                               if key in outcome} for outcome in result.result.get("results") or [{}]]
                rendered = [self.templar.render(name, ChainMap(values, variables))
                            for values in iterations for name in names]
                names = list(dict.fromkeys(str(name) for value in rendered
                                           for name in (value if isinstance(value, list) else [value])))
        except TitanOpsError as error:
            result.status = Status.FAILED
            result.result = {**result.result, "failed": True, "msg": f"{task.location}: {error}"}
            return
        unknown = [name for name in names if not self.state.notifications.knows(name)]
        if unknown and not self.runner.options.error_on_missing_handler:
            result.result = {**result.result, "warnings": [*result.result.get("warnings", []), *(
                f"The requested handler '{name}' was not found in either the main handlers list nor in the "
                "listening handlers list" for name in unknown)]}
        elif unknown:
            raise MissingHandlerError(f"the handler '{unknown[0]}' is not in this play (no handler has that name "
                                      "or listens to it)", task.key_locations.get("notify", task.location), "notify")
        self.state.notifications.notify(result.host, names)

    def _learn_secrets(self, task: Task, scope: Scope, keywords: dict[str, Any]) -> None:
        """The secret-named values written in the task, its blocks and roles (static ones; what templates
        render to is learnt as they render)."""
        redactor = self.runner.redactor
        for authored in (task.vars, task.args, keywords.get("environment") or {}, *scope.block_vars,
                         *(part for role in scope.roles for part in (role.vars, role.defaults, role.params))):
            redactor.collect_from(authored)

    def _halt(self, hosts: list[str], failed: set[str], scope: Scope) -> set[str]:
        """Stop every other host of the batch as if it had failed here (ansible's ``mark_host_failed``).

        The hosts at this point of the walk leave it as failed hosts (to an enclosing ``rescue``); hosts
        elsewhere in the batch leave the play. None of them counts a failure in the recap, but every one
        of them sits out later plays.
        """
        state = self.state
        here = {host for host in hosts if host not in failed}
        elsewhere = {host for host in state.active(state.hosts) if host not in failed and host not in hosts}
        for host in here | elsewhere:
            state.halted.add(host)
            state.cleared.discard(host)
            state.run.remove(host)
        state.failed |= elsewhere
        if not scope.rescuable:
            state.failed |= here
        return here

    def _max_fail_exceeded(self) -> bool:
        limit = self.state.plan.max_fail_percentage
        if limit is None:
            return False
        state = self.state
        failed = len((state.final_failures | state.halted) - state.cleared)
        return failed * 100.0 / len(state.batch) > limit

    def _meta(self, task: Task, hosts: list[str], scope: Scope) -> set[str]:
        action = task.args.get("free_form")
        if action == "noop":
            return set()  # its condition is not even evaluated, as in ansible
        if action in ("end_play", "end_batch"):  # ansible decides them on the first host, for all
            if self._meta_condition(task, hosts[0], scope):
                self.state.ended = True
                self.state.run.ended = self.state.run.ended or action == "end_play"
            return set()
        if action == "end_host":  # host by host: an ended host leaves the host lists the next one is decided on
            for host in hosts:
                if self._meta_condition(task, host, scope):
                    self.state.ended_hosts.add(host)
            return set()
        if action in ("clear_host_errors", "clear_facts"):  # ansible decides them on the first host, for every host
            if action == "clear_host_errors" and self._meta_condition(task, hosts[0], scope):
                self.runner.clear_host_errors(self.state)
            elif action == "clear_facts" and self._meta_condition(task, hosts[0], scope):
                for host in self.state.run.hosts:
                    self.hosts.clear_gathered_facts(host)
            return set()
        chosen = [host for host in hosts if self._meta_condition(task, host, scope)]
        if action == "flush_handlers":
            return self.flush_handlers(chosen, scope)
        if action == "refresh_inventory" and chosen:
            self.hosts.refresh_inventory(self.runner.playbook.vault)
            inventory = self.hosts.inventory  # a host no longer in it leaves the play, as in ansible
            self.state.ended_hosts.update(host for host in self.state.run.hosts if not inventory.has_host(host))
        elif action == "reset_connection":
            for host in chosen:
                self._reset_connection(task, host, scope)
        return set()

    def _reset_connection(self, task: Task, host: str, scope: Scope) -> None:
        """``meta: reset_connection`` on ``host``: the connection the task would run by there is closed (the
        next command logs in again); none when its variables and keywords make none. A meta task runs on
        its own host (``delegate_to`` is not read, as in ansible-core)."""
        keywords = merge_keywords(scope.keywords, task.keywords)
        keywords.pop("delegate_to", None)
        try:
            settings = self._settle(task, host, scope, keywords, self.hosts.variables(self.state, host, scope,
                                                                                      task.vars))
            connection = settings.context.connection
        except TitanOpsError:
            return
        connection.close()

    def _meta_condition(self, task: Task, host: str, scope: Scope) -> bool:
        """The ``when`` of a meta task on ``host``; one that cannot be evaluated stops the run, as in ansible.
        A false one reports the task skipped there (uncounted in the recap, as ansible-core reports it)."""
        variables = self.hosts.variables(self.state, host, scope, task.vars)
        try:
            passed, condition = evaluate_conditions(self.templar, scope.when + task.when, variables,
                                                    task.origin("when"))
        except TitanOpsError as error:
            raise MetaConditionError(f"{task.location}: {error.message}") from None
        if not passed:
            action = task.args.get("free_form")
            now = datetime.now()
            self.recorder.emit(events.TaskStarted(task.display_name, task.module, (host,), str(task.location),
                                                  scope.handler))
            self.recorder.uncounted(self.state, TaskResult(
                host, task.display_name, task.module, Status.SKIPPED, now, now,
                {"changed": False, "skipped": True, "msg": action, "false_condition": condition,
                 "skip_reason": f"{action} conditional evaluated to False"}, location=str(task.location)))
        return passed

    def flush_handlers(self, hosts: list[str], scope: Scope) -> set[str]:
        """Run the handlers notified on ``hosts`` still in the play (with ``force_handlers``, on hosts that
        failed too); the hosts that failed in them. A handler fails its host where the flush is. After
        ``meta: end_play`` or ``end_batch`` no handler runs, with ``force_handlers`` neither (as ansible), nor
        with ``force_handlers`` once ``max_fail_percentage`` stopped the batch (ansible fails every host at
        the flush before its handlers)."""
        state = self.state
        if not hosts or state.ended:
            return set()
        keywords = {**self.runner.options.keyword_defaults, **state.play.keywords}
        forced = self._forces_handlers(hosts[0], scope)
        if forced and state.aborted:
            return set()
        handler_scope = Scope(keywords=keywords, rescuable=scope.rescuable, handler=True, forced=forced,
                              caught=scope.caught)
        candidates = state.reachable(hosts) if forced else state.active(hosts)
        failed: set[str] = set()
        for handler in list(state.notifications.handlers):
            notified = state.notifications.take(handler, [host for host in candidates if host not in failed])
            if notified:
                failed |= (self.task(handler, notified, self._role_handler_scope(handler, handler_scope))
                           if isinstance(handler, Task) else self.items([handler], notified, handler_scope))
        return failed

    def _role_handler_scope(self, handler: Task, scope: Scope) -> Scope:
        """A role's handler sees its role's variables, defaults and parameters (an included role's too), and
        the variables and conditions of the blocks and the include or import around where the role was
        last entered (as ansible-core, whose role handlers hang below it)."""
        role = handler.handler_role
        if role is None:
            return scope
        entered = self.state.role_entries.get(role.path)
        if entered is None:
            return replace(scope, roles=[role])
        return replace(scope, roles=entered.roles, block_vars=entered.block_vars, when=entered.when)

    def _forces_handlers(self, host: str, scope: Scope) -> bool:
        """``force_handlers``: the play's, when it says one, wins over ``--force-handlers`` (as in ansible-core)."""
        play = self.state.play
        if play.force_handlers is None:
            return self.runner.options.force_handlers
        return self._truthy(play.force_handlers, host, scope)

    def _throttle(self, task: Task, value: Any, host: str, scope: Scope) -> Limit | None:
        """The task's ``throttle`` (rendered with ``host``'s variables): how many hosts may run it at once, None
        for no limit; a value that is no integer ends the run (ansible-playbook exits 1)."""
        if value is None:
            return None
        try:
            if is_template(value):
                value = self.templar.render(value, self.hosts.variables(self.state, host, scope, task.vars))
            hosts = play_values.throttle(value)
        except TemplateError as error:
            raise ThrottleError(f"Failed to convert the throttle value to an integer: {error.message}",
                                task.location, "throttle") from None
        except ValueError as error:
            raise ThrottleError(str(error), task.location, "throttle") from None
        return Limit(str(task.location), hosts) if hosts > 0 else None

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
            passed, condition = evaluate_conditions(self.templar, scope.when, variables,
                                                    f"{task.location}: the when of its block")
        except TitanOpsError as error:  # (before the task's keywords are rendered: see TaskExecutor.execute)
            return TaskResult(host, task.display_name, task.module, Status.FAILED, start, datetime.now(),
                              {"failed": True, "changed": False, "msg": f"{task.location}: {error.message}"},
                              location=str(task.location), ignored=ignores_errors_as_written(keywords))
        if not passed:
            return TaskResult(host, task.display_name, task.module, Status.SKIPPED, start, datetime.now(),
                              skipped_result(condition), location=str(task.location))
        result = self.runner.executor.execute(
            task, host, variables, lambda run_variables: self._settle(task, host, scope, keywords, run_variables),
            ignores_errors_as_written=ignores_errors_as_written(keywords))
        self._learn_facts(task, result)
        return result

    def _settle(self, task: Task, host: str, scope: Scope, keywords: dict[str, Any],
                variables: Mapping[str, Any]) -> RunSettings:
        """One run of ``task`` on ``host`` (the task, or one item of its loop): its keywords rendered with
        that run's ``variables``, and the context they make for its module, on the host and through the
        connection they choose; KeywordError when one of them cannot be rendered."""
        settings = self.keywords.render({key: value for key, value in keywords.items()
                                         if key not in DISPATCH_KEYWORDS}, variables)
        flags = RunFlags.of(settings)
        options = self.runner.options
        try:
            run = self.runner.targets.resolve(host, keywords.get("delegate_to"), variables,
                                              ChainMap(connection_keywords(settings), options.host_defaults),
                                              lambda name: self._delegated_variables(name, scope, task))
        except TemplateError as error:  # (its delegate_to or connection settings: ansible-core renders them before
            # ignore_errors, which goes as written then)
            raise KeywordError(error, replace(flags, ignore_errors=ignores_errors_as_written(keywords))) from None
        except TitanOpsError as error:
            raise KeywordError(error, flags) from None
        context = HostContext(
            host=host,
            connection_factory=run.connect,
            variables=run.variables,  # ansible_check_mode and ansible_diff_mode stay the run's, as in Ansible
            templar=self.templar,
            check_mode=options.check if settings.get("check_mode") is None else settings["check_mode"],
            diff_mode=options.diff if settings.get("diff") is None else settings["diff"],
            verbosity=options.verbosity,
            become=bool(settings.get("become")) if run.become is None else run.become,
            become_user=settings.get("become_user") if run.become_user is None else run.become_user,
            environment=settings.get("environment") or {},
            timeout=settings.get("timeout") or None,
            secrets=self.runner.redactor,
            no_log=bool(settings.get("no_log")),
            playbook_dir=self.state.play.base_dir,
            search_path=tuple(search_path(scope, self.state.play.base_dir)),
            vault=self.runner.playbook.vault,
            delegated_host=run.delegated_host,
            connection_variables=run.connection_variables,
        )
        return RunSettings(context, flags)

    def _delegated_variables(self, host: str, scope: Scope, task: Task) -> Mapping[str, Any]:
        """What a task delegated to ``host`` sees of it (``ansible_delegated_vars``): its variables, the
        task's among them; for a host the inventory does not have (an address), those of ansible-core's
        implicit host: what the inventory gives any host, the play's and the task's, what the run learned of it."""
        return self.hosts.variables(self.state, host, scope, task.vars)

    def _learn_facts(self, task: Task, result: TaskResult) -> None:
        """Facts a task sets that are secrets: every one a ``no_log`` task sets or that ``include_vars``
        loads from a secret store (``secrets.yml``), and the secret-named ones ``include_vars`` loads
        (``set_fact``'s are its arguments, learnt as they render); the stats ``set_stats`` sets, alike."""
        if task.module not in ("set_fact", "include_vars", "set_stats") or result.status not in (Status.OK,
                                                                                               Status.CHANGED):
            return
        loaded = outcomes(result.result)
        if task.module == "set_stats":
            stats = [(outcome.get("ansible_stats") or {}).get("data") or {} for outcome in loaded]
            self.templar.note_secrets(every_value(stats) if result.no_log else secret_values(stats))
            return
        facts = [outcome.get("ansible_facts") or {} for outcome in loaded]
        stores = [path for outcome in loaded for path in outcome.get("ansible_included_var_files") or []
                  if is_secret_store(str(path))]
        self.templar.note_secrets(every_value(facts) if result.no_log or stores else secret_values(facts))


def _applied(tasks: list[TaskItem], apply: dict[str, Any], location: Location) -> list[TaskItem]:
    """An include's tasks with its ``apply:`` (tags, vars, notify and keywords for each of them)."""
    if not apply:
        return tasks
    keywords = {key: value for key, value in apply.items() if key not in ("tags", "vars", "notify")}
    return [Block(block=tasks, location=location, tags=tags_of(apply.get("tags")), vars=dict(apply.get("vars") or {}),
                  keywords=keywords, notify=[str(name) for name in as_list(apply.get("notify"))])]


def _included_file(include: IncludeTasks, path: str) -> dict[str, Any]:
    """An include's result: the file as the playbook names it (rendered), as ansible registers it."""
    prefix = include.base_dir.rstrip("/") + "/"
    return {"include": path[len(prefix):] if path.startswith(prefix) else path, "include_args": {}}


def _include_module(include: IncludeTasks | IncludeRole) -> str:
    return "include_tasks" if isinstance(include, IncludeTasks) else "include_role"
