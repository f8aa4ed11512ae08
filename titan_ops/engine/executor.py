"""Runs one task on one host: when, arguments, the module's three steps,
register and ignore_errors. The executor, not the module, owns these keywords."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from titan_ops import modules
from titan_ops.errors import CommandTimeout, HostUnreachable, ModuleError, TemplateError, TitanOpsError
from titan_ops.engine.results import Status, TaskResult
from titan_ops.modules.base import HostContext, Module
from titan_ops.playbook.arguments import check_arguments
from titan_ops.playbook.model import Task
from titan_ops.templating import Templar


def evaluate_conditions(templar: Templar, conditions: list[Any], variables: Mapping[str, Any]) -> tuple[bool, Any]:
    """All of ``conditions`` true? Returns (verdict, the first false condition)."""
    for condition in conditions:
        if isinstance(condition, bool):
            value = condition
        else:
            text = str(condition).strip()
            if text.startswith("{{") and text.endswith("}}"):
                text = text[2:-2]
            value = templar.evaluate(text, variables)
        if not value:
            return False, condition
    return True, None


def _is_true(value: Any) -> bool:
    from titan_ops.filters import to_bool

    return to_bool(value)


class TaskExecutor:
    """Executes tasks on hosts; one instance per run, shared by the workers."""

    def __init__(self, templar: Templar, check_mode: bool = False, diff_mode: bool = False):
        self.templar = templar
        self.check_mode = check_mode
        self.diff_mode = diff_mode

    def execute(self, task: Task, host: HostContext) -> TaskResult:
        """Run ``task`` on one host and return its result (never raises TitanOpsError)."""
        start = datetime.now()
        module = modules.lookup(task.module)
        assert module is not None, task.module
        try:
            status, result = self._execute(task, module, host)
        except HostUnreachable as error:
            status, result = Status.UNREACHABLE, {"unreachable": True, "changed": False, "msg": error.message}
        except CommandTimeout as error:
            status, result = Status.FAILED, {"failed": True, "changed": False, "msg": error.message}
        except TitanOpsError as error:
            status, result = Status.FAILED, {"failed": True, "changed": False,
                                             "msg": f"{task.location}: {error.message}"}
        ignored = status is Status.FAILED and self._ignore_errors(task, host)
        return TaskResult(host=host.host, task=task.display_name, module=task.module, status=status, start=start,
                          end=datetime.now(), result=result, ignored=ignored, location=str(task.location))

    def _ignore_errors(self, task: Task, host: HostContext) -> bool:
        value = task.ignore_errors
        if isinstance(value, str):
            try:
                value = self.templar.render(value, host.variables)
            except TemplateError:
                return False
        return _is_true(value)

    def _execute(self, task: Task, module: Module, host: HostContext) -> tuple[Status, dict[str, Any]]:
        passed, false_condition = evaluate_conditions(self.templar, task.when, host.variables)
        if not passed:
            return Status.SKIPPED, {"changed": False, "skipped": True, "skip_reason": "Conditional result was False",
                                    "false_condition": false_condition}
        args = self._render_args(task, module, host)
        result = self._run_module(module, args, host)
        failed = bool(result.get("failed"))
        changed = bool(result.get("changed"))
        result["changed"] = changed
        if failed:
            result["failed"] = True
        if result.get("skipped"):
            return Status.SKIPPED, result
        return (Status.FAILED if failed else Status.CHANGED if changed else Status.OK), result

    def _render_args(self, task: Task, module: Module, host: HostContext) -> dict[str, Any]:
        if module.name == "debug" and "var" in task.args:
            args = dict(task.args)
        else:
            args = self.templar.render(task.args, host.variables)
        try:
            check_arguments(module, args, task.location, rendered=True)
        except ModuleError as error:
            raise ModuleError(error.message, None, error.key) from None
        return args

    def _run_module(self, module: Module, args: dict[str, Any], host: HostContext) -> dict[str, Any]:
        state = module.inspect(host, args)
        decision = module.decide(args, state, host)
        result = dict(decision.result)
        if decision.diff and self.diff_mode:
            result["diff"] = decision.diff
        if decision.failed:
            result["failed"] = True
            return result
        if not decision.changed:
            result.setdefault("changed", False)
            return result
        if self.check_mode:
            if getattr(module, "skip_in_check_mode", False) or not module.supports_check_mode:
                return {"changed": False, "skipped": True, "msg": result.get("msg", "skipped in check mode")}
            result["changed"] = True
            return result
        acted = module.act(host, args, decision)
        if decision.diff and self.diff_mode:
            acted.setdefault("diff", decision.diff)
        acted.setdefault("changed", True)
        return acted
