"""Runs one task on one host. The executor, not the module, owns ``when``,
``loop``, ``until``/``retries``, ``changed_when``, ``failed_when``,
``ignore_errors`` and check mode."""

from __future__ import annotations

import functools
import time
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from titan_ops import modules
from titan_ops.conditionals import ConditionalError, evaluate_conditions
from titan_ops.errors import (CommandTimeout, HostUnreachable, ModuleError, TemplateError, TitanOpsError,
                               UnsupportedParameters)
from titan_ops.engine.loop_control import LoopControl
from titan_ops.engine.run_keywords import KeywordError, RunFlags, RunSettings
from titan_ops.engine.results import Status, TaskResult, loop_result, skipped_result
from titan_ops.lookups.loops import loop_items
from titan_ops.modules import custom
from titan_ops.modules.base import Attempt, Decision, HostContext, Module
from titan_ops.modules.home import with_home_expanded
from titan_ops.modules.jobs import DEFAULT_POLL, run_as_job
from titan_ops.playbook.arguments import check_arguments, parse_free_form
from titan_ops.playbook.model import Task
from titan_ops.redaction import secret_values
from titan_ops.templating import OMIT, Templar, without_omitted


# Modules whose results the engine acts on (facts, inventory, the play): a template cannot choose them.
ENGINE_MODULES = frozenset({"meta", "set_fact", "include_vars", "add_host", "group_by"}) | modules.GATHERS_FACTS
# What a failed module result holds under ``exception`` (titan-ops modules raise no Python traceback).
NO_TRACEBACK = "(traceback unavailable)"
# Where a run of a task records the host ``delegate_to`` chose, until the TaskResult takes it out.
_DELEGATED_HOST = "_titan_delegated_host"
# The settings of one run of a task (the task, or a loop item) from that run's variables: its keywords, the host
# and the connection they choose (KeywordError when one cannot be rendered).
Settle = Callable[[Mapping[str, Any]], RunSettings]


class _BeforeKeywords(Exception):
    """The task failed before any run rendered its keywords: its ``when`` or its loop cannot be evaluated."""

    def __init__(self, error: TitanOpsError):
        super().__init__(str(error))
        self.error = error


def status_of(result: Mapping[str, Any]) -> Status:
    """The status a module result stands for (a loop's with a failed and an unreachable item: failed, as in
    ansible-core)."""
    if result.get("failed"):
        return Status.FAILED
    if result.get("unreachable"):
        return Status.UNREACHABLE
    if result.get("skipped"):
        return Status.SKIPPED
    return Status.CHANGED if result.get("changed") else Status.OK


class TaskExecutor:
    """Executes tasks on hosts; one instance per run, shared by the workers."""

    def __init__(self, templar: Templar):
        self.templar = templar

    def execute(self, task: Task, host: str, variables: Mapping[str, Any], settle: Settle, *,
                ignores_errors_as_written: bool) -> TaskResult:
        """Run ``task`` on ``host``, whose variables are ``variables``; ``settle`` renders the task's keywords for
        each run of it (the task, or each item of its loop). A task whose ``when`` or loop cannot be evaluated
        fails before any run renders its ``ignore_errors``: as in ansible-core, it is ignored as the keyword is
        written (``ignores_errors_as_written``). Never raises TitanOpsError."""
        start = datetime.now()
        runs: list[tuple[dict[str, Any], RunFlags]] = []
        try:
            if task.chosen_action is not None:
                task = self._chosen(task, variables)
            module = task_module(task)
            result = self._execute(task, module, variables, settle, runs)
        except _BeforeKeywords as failure:
            result = _failure(task, failure.error)
            runs = [(result, replace(self._flags(settle, variables), ignore_errors=ignores_errors_as_written))]
        except TitanOpsError as error:  # before any run (the module): the task's own keywords count
            result = _failure(task, error)
            runs = [(result, self._flags(settle, variables))]
        status = status_of(result)
        own = functools.cache(lambda: self._flags(settle, variables))  # (the task's own keywords, once at most)
        no_log = any(flags.no_log for _, flags in runs)
        if not no_log and len(runs) < len(result.get("results") or [result]):  # (what did not run: the task's)
            no_log = own().no_log
        return TaskResult(host=host, task=task.display_name, module=task.module, status=status, start=start,
                          end=datetime.now(), result=result, ignored=_ignored(status, result, runs, own),
                          location=str(task.location), delegated_to=_delegated_hosts(result), no_log=no_log,
                          delegate_facts=any(flags.delegate_facts for _, flags in runs))

    def _chosen(self, task: Task, variables: Mapping[str, Any]) -> Task:
        """The task of an ``action:`` whose module name is a template, with the module it names for
        ``variables`` and the arguments given after the name."""
        name = self.templar.render(task.module, variables)
        found = custom.find_module(name, task.library) if isinstance(name, str) else None
        if found is None:
            raise ModuleError(f"unknown module {name!r}", key="action")
        module, path = found
        if module.name in ENGINE_MODULES or module.once_per_batch:
            raise ModuleError(f"the module '{module.name}' cannot be named by a template (it acts on the run, "
                              "not on a host)", key="action")
        raw = task.chosen_action
        args = dict(raw) if isinstance(raw, Mapping) else parse_free_form(module, raw) if raw else {}
        return replace(task, module=module.name, args={**task.args, **args}, chosen_action=None, module_path=path)

    @staticmethod
    def _flags(settle: Settle, variables: Mapping[str, Any]) -> RunFlags:
        """The task's flags with ``variables`` (those of a keyword that cannot be rendered: its error's)."""
        try:
            return settle(variables).flags
        except KeywordError as error:
            return error.flags

    def _execute(self, task: Task, module: Module, variables: Mapping[str, Any], settle: Settle,
                 runs: list[tuple[dict[str, Any], RunFlags]]) -> dict[str, Any]:
        if task.refusal is not None and task.refusal.key == "when":  # (the condition itself cannot be decided)
            raise _BeforeKeywords(task.refusal)
        if task.loop is None:
            passed, false_condition = self._when(task, variables)
            if not passed:
                return skipped_result(false_condition)
            result, flags = self._run(task, module, variables, settle)
            runs.append((result, flags))
            return result
        return self._run_loop(task, module, variables, settle, runs)

    def _run(self, task: Task, module: Module, variables: Mapping[str, Any],
             settle: Settle) -> tuple[dict[str, Any], RunFlags]:
        """One run of ``task`` (or of a loop item) with ``variables``: its keywords rendered with them, on the
        host its ``delegate_to`` chooses (both by ``settle``); its result and flags. An unreachable host fails
        this run only."""
        try:
            settings = settle(variables)
        except KeywordError as error:
            return _failure(task, error.cause), error.flags
        try:
            return self._run_on_target(task, module, settings.context), settings.flags
        except HostUnreachable as error:
            unreachable = {"unreachable": True, "changed": False, "msg": error.message, "exception": NO_TRACEBACK}
            return unreachable, settings.flags
        except TitanOpsError as error:
            return _failure(task, error), settings.flags

    def _run_on_target(self, task: Task, module: Module, host: HostContext) -> dict[str, Any]:
        """One run of ``task`` (or of a loop item) on the host its ``delegate_to`` chose for it, through the
        connection its variables chose."""
        result = self._run_with_retries(task, module, host)
        if host.delegated_host is not None:
            result[_DELEGATED_HOST] = host.delegated_host
        return result

    # -- loops ---------------------------------------------------------------
    def _run_loop(self, task: Task, module: Module, variables: Mapping[str, Any], settle: Settle,
                  runs: list[tuple[dict[str, Any], RunFlags]]) -> dict[str, Any]:
        try:
            items = loop_items(self.templar, task.loop, task.loop_lookup, variables, task.module)
        except TemplateError as error:
            # As Ansible: a loop that cannot be rendered is no error when ``when`` (without the item) is false.
            passed, false_condition = self._when(task, variables)
            if not passed:
                return skipped_result(false_condition)
            raise _BeforeKeywords(error) from None
        control = LoopControl.of(task.loop_control, self.templar, variables)
        results = []
        # As ansible: what set_fact/include_vars set so far, and the last item's result under the task's
        # ``register``, are seen by the label and the next items
        carried: dict[str, Any] = {}
        for index, item in enumerate(items):
            item_variables = ChainMap(control.variables(items, index), carried, variables)
            passed, false_condition = self._when(task, item_variables)
            if passed:
                outcome, flags = self._run(task, module, item_variables, settle)
                runs.append((outcome, flags))
            else:
                outcome = skipped_result(false_condition)
            if not outcome.get("failed") and not outcome.get("unreachable"):
                carried.update(outcome.get("ansible_facts") or {})
            if task.register:
                carried[task.register] = outcome
            outcome.update({control.loop_var: item, "ansible_loop_var": control.loop_var})
            if control.index_var:
                outcome[control.index_var] = index
            if control.label is not None:
                try:
                    outcome["_ansible_item_label"] = self.templar.render(control.label, item_variables)
                except TitanOpsError as error:  # the item fails, as in ansible
                    outcome.update({"failed": True, "msg": _message(task, error)})
            results.append(outcome)
            if control.break_when is not None and evaluate_conditions(
                    self.templar, control.break_when, ChainMap(carried, item_variables),
                    task.origin("loop_control"))[0]:
                break
            if control.pause and index < len(items) - 1:
                time.sleep(control.pause)
        return loop_result(results)

    def _when(self, task: Task, variables: Mapping[str, Any]) -> tuple[bool, Any]:
        """``evaluate_conditions`` of the task's ``when``; one that cannot be evaluated fails the task before any
        run of it renders its keywords."""
        try:
            return evaluate_conditions(self.templar, task.when, variables, task.origin("when"))
        except TitanOpsError as error:
            raise _BeforeKeywords(error) from None

    # -- one attempt cycle ------------------------------------------------------
    def _run_with_retries(self, task: Task, module: Module, host: HostContext) -> dict[str, Any]:
        if task.until is None:
            return self._run_once(task, module, host)
        retries = int(self.templar.render(task.retries, host.variables)) if task.retries is not None else 3
        delay = float(self.templar.render(task.delay, host.variables)) if task.delay is not None else 5.0
        if retries <= 0:
            return self._run_once(task, module, host)
        result: dict[str, Any] = {}
        for attempt in range(1, retries + 2):
            result = self._run_once(task, module, host, attempt)
            if result.get("unreachable") or result.get("skipped"):
                return result
            scope = self._with_result(task, host, result)
            done, _ = evaluate_conditions(self.templar, task.until, scope, task.origin("until"))
            if done:
                return result
            if attempt <= retries:
                time.sleep(delay)
        # As Ansible: after the last attempt, ``attempts`` counts the retries; the task failed, unless its
        # failed_when (which saw the last attempt) says otherwise.
        result["attempts"] = retries
        if task.failed_when is None:
            result["failed"] = True
            result["msg"] = result.get("msg") or f"Retried {retries} times; the 'until' condition never held"
        return result

    def _run_once(self, task: Task, module: Module, host: HostContext, attempt: int | None = None) -> dict[str, Any]:
        """One run of the module, judged by changed_when and failed_when (which see ``attempts`` under
        ``until``)."""
        if task.refusal is not None:  # (the module's failure, which failed_when may overrule, as in ansible-core)
            result = {"failed": True, "changed": False, "msg": _message(task, task.refusal)}
        else:
            try:
                args = self._render_args(task, module, host)
                seconds = self._rendered_number(task.async_seconds, host, "async")
                if seconds > 0 and not host.check_mode:
                    poll = self._rendered_number(task.poll, host, "poll", DEFAULT_POLL)
                    result = run_as_job(host, module, with_home_expanded(module, args, host), seconds, poll)
                else:
                    result = run_module(module, args, host)
            except CommandTimeout as error:
                result = _timed_out(host.timeout) if host.timeout else \
                    {"failed": True, "changed": False, "msg": error.message}
        result["changed"] = bool(result.get("changed"))
        result["failed"] = bool(result.get("failed"))
        if attempt is not None:
            result["attempts"] = attempt
        if result["failed"]:
            result.setdefault("exception", NO_TRACEBACK)  # ansible-core 2.19's key of a module's failure
        if result.get("skipped"):  # (in check mode): nothing ran, nothing to judge
            return result
        scope = self._with_result(task, host, result)
        for keyword, conditions in (("changed", task.changed_when), ("failed", task.failed_when)):
            if conditions is None:
                continue
            try:
                verdict, _ = evaluate_conditions(self.templar, conditions, scope, task.origin(f"{keyword}_when"))
            except TitanOpsError as error:
                # As Ansible: the task fails, and keeps what the module returned.
                result[f"{keyword}_when_result"] = error.message if isinstance(error, ConditionalError) \
                    else f"Error while evaluating conditional: {error.message}"
                result["failed"] = True
                return result
            result[keyword] = verdict
            if keyword == "failed":
                result["failed_when_result"] = verdict
                if not verdict and "exception" in result:  # the module's failure, overruled
                    result["failed_when_suppressed_exception"] = result.pop("exception")
        return result

    def _with_result(self, task: Task, host: HostContext, result: dict[str, Any]) -> Mapping[str, Any]:
        if not task.register:
            return host.variables
        return ChainMap({task.register: result}, host.variables)

    def _render_args(self, task: Task, module: Module, host: HostContext) -> dict[str, Any]:
        if module.name == "debug" and "var" in task.args:
            args = dict(task.args)
        else:  # (expressions are the module's to evaluate, not text to render first)
            rendered = {key: value for key, value in task.args.items() if key not in module.expression_args}
            args = {**without_omitted(self.templar.render(rendered, host.variables)),
                    **{key: task.args[key] for key in module.expression_args if key in task.args}}
        if task.args_template is not None:
            args = {**args, **self._rendered_mapping(task.args_template, host, task.module, task.module)}
        if task.args_keyword_template is not None:  # (below the module's own arguments)
            args = {**self._rendered_mapping(task.args_keyword_template, host, "args", task.module), **args}
        self.templar.note_secrets(secret_values(args))  # login_password: "{{ x }}": x is a secret
        try:
            check_arguments(module, args, task.location, rendered=True)
        except ModuleError as error:
            raise type(error)(error.message, None, error.key) from None
        return args


    def _rendered_number(self, value: Any, host: HostContext, key: str, default: int = 0) -> int:
        """A task keyword's whole number of seconds (``async``, ``poll``), rendered."""
        rendered = self.templar.render(value, host.variables) if value is not None else default
        try:
            return int(rendered)
        except (TypeError, ValueError):
            raise TemplateError(f"must be a whole number of seconds, got {rendered!r}", key=key) from None

    def _rendered_mapping(self, template: str, host: HostContext, key: str, module: str) -> dict[str, Any]:
        """Arguments given as one template: a mapping (``omit``: none), its omitted values left out."""
        given = self.templar.render(template, host.variables)
        if given == OMIT:
            return {}
        if not isinstance(given, Mapping):
            raise TemplateError(f"Finalization of task args for '{module}' failed: Task args must resolve to a "
                                f"'dict' not '{type(given).__name__}'.", key=key)
        return without_omitted(dict(given))


def task_module(task: Task) -> Module:
    """The module a task runs: a built-in one, or the custom module of its ``module_path``."""
    if task.module_path is not None:
        return custom.module_at(task.module_path, task.module)
    module = modules.lookup(task.module)
    assert module is not None, task.module
    return module


def run_module(module: Module, args: dict[str, Any], host: HostContext) -> dict[str, Any]:
    """One module on one host with rendered ``args``: inspect, decide and (unless in check mode) act;
    the result fields."""
    if module.runs_whole:
        return module.run(host, args)
    if host.check_mode and not module.supports_check_mode:
        message = module.check_mode_message or f"remote module ({module.name}) does not support check mode"
        return {"changed": False, "skipped": True, "msg": message}
    args = with_home_expanded(module, args, host)
    attempt = None if host.check_mode else _act_on_guess(module, args, host)
    if attempt is not None and attempt.acted:
        return attempt.result
    state = module.inspect(host, args) if attempt is None else attempt.state
    decision = module.decide(args, state, host)
    result = _with_diff(dict(decision.result), decision, host)
    if decision.failed:
        result["failed"] = True
        return result
    if not decision.changed:
        result.setdefault("changed", False)
        return result
    if host.check_mode:
        if getattr(module, "skip_in_check_mode", False) or not module.supports_check_mode:
            return {"changed": False, "skipped": True, "msg": result.get("msg", "skipped in check mode")}
        result["changed"] = True
        return result
    return _acted(module.act(host, args, decision), decision, host)


def _act_on_guess(module: Module, args: dict[str, Any], host: HostContext) -> Attempt | None:
    """Act in the command that inspects when the module guesses a state with work to do (see
    modules.base); None when it guesses nothing of the kind."""
    guess = module.guess(host, args)
    if guess is None:
        return None
    decision = module.decide(args, guess.state, host)
    if not decision.changed or decision.failed:
        return None
    attempt = module.act_or_inspect(host, args, decision, guess)
    return replace(attempt, result=_acted(attempt.result, decision, host)) if attempt.acted else attempt


def _acted(result: dict[str, Any], decision: Decision, host: HostContext) -> dict[str, Any]:
    """The result of acting on ``decision``: changed, with the decision's diff in diff mode."""
    result = _with_diff(result, decision, host)
    result.setdefault("changed", True)
    return result


def _with_diff(result: dict[str, Any], decision: Decision, host: HostContext) -> dict[str, Any]:
    """``result`` with the decision's diff in diff mode (over a module's empty ``diff: []``, as copy's)."""
    if decision.diff and host.diff_mode:
        result["diff"] = decision.diff
    return result


def _delegated_hosts(result: dict[str, Any]) -> tuple[str | None, ...]:
    """The hosts ``delegate_to`` chose, one a loop item (else one), taken out of ``result``; () when none."""
    runs = result["results"] if isinstance(result.get("results"), list) else [result]
    hosts = tuple(run.pop(_DELEGATED_HOST, None) if isinstance(run, dict) else None for run in runs)
    return hosts if any(host is not None for host in hosts) else ()


def _ignored(status: Status, result: dict[str, Any], runs: list[tuple[dict[str, Any], RunFlags]],
             own: Callable[[], RunFlags]) -> bool:
    """Whether a task's failure is ignored: as in ansible-core, when every run (a loop's item) that failed, or
    for an unreachable host every one that found it unreachable, says to ignore it; an item that failed
    without a run of its own (its label, after ``when`` skipped it) goes by the task's own keywords (``own``)."""
    if status not in (Status.FAILED, Status.UNREACHABLE):
        return False
    key, flag = ("failed", "ignore_errors") if status is Status.FAILED else ("unreachable", "ignore_unreachable")
    counted = [flags for outcome, flags in runs if outcome.get(key)]
    ran = {id(outcome) for outcome, _ in runs}
    unrun = any(outcome.get(key) and id(outcome) not in ran for outcome in result.get("results") or [result])
    if unrun or not counted:
        counted.append(own())
    return all(getattr(flags, flag) for flags in counted)


def _timed_out(seconds: float) -> dict[str, Any]:
    """The result of a task its ``timeout`` keyword ended, in ansible-core 2.19's words."""
    return {"failed": True, "changed": False, "msg": f"Task failed: Timed out after {seconds:g} second(s).",
            "timedout": {"period": int(seconds) if seconds == int(seconds) else seconds}}


def _failure(task: Task, error: TitanOpsError) -> dict[str, Any]:
    """The result of a task (or loop item) that failed before or without its module: as ansible-core 2.19's,
    it has an ``exception``."""
    return {"failed": True, "changed": False, "msg": _message(task, error), "exception": NO_TRACEBACK}


def _message(task: Task, error: TitanOpsError) -> str:
    if isinstance(error, UnsupportedParameters):  # the module's own words
        return error.message
    where = error.location or task.location
    key = f"'{error.key}': " if error.key else ""
    return f"{where}: {key}{error.message}"
