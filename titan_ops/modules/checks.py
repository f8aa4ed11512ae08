"""``assert`` and ``fail``: controller-side checks that stop a host on purpose."""

from __future__ import annotations

from typing import Any

from titan_ops.conditionals import condition_result
from titan_ops.errors import TemplateError
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.templating import is_single_expression

_MESSAGE = {"type": ["string", "array"], "items": {"type": "string"}}

ALL_PASSED = "All assertions passed"
ASSERTION_FAILED = "Assertion failed"
FAILED_AS_REQUESTED = "Failed as requested from task"


class Assert(Module):
    """Evaluate conditions in order; fail the host at the first that is false.

    Like ansible-core 2.19, a condition must evaluate to a boolean: any other
    value fails the task with the value's type in the message.
    """

    name = "assert"
    description = "Check that expressions hold on the host; fail it with a message when one does not."
    on_controller = True
    expression_args = ("that",)
    shows_result = True
    schema = {
        "type": "object",
        "properties": {
            "that": {
                "type": ["string", "boolean", "array"],
                "items": {"type": ["string", "boolean"]},
                "minItems": 1,
                "description": "A bare jinja2 expression, or a list of them; all must be true.",
            },
            "fail_msg": {**_MESSAGE, "description": "The message of the failure (default: 'Assertion failed')."},
            "msg": {**_MESSAGE, "description": "Alias of fail_msg."},
            "success_msg": {**_MESSAGE, "description": "The message when every assertion holds "
                                                      "(default: 'All assertions passed')."},
            "quiet": {"type": "boolean", "default": False,
                      "description": "Do not show the result on the console when every assertion holds."},
        },
        "required": ["that"],
        "not": {"required": ["fail_msg", "msg"]},
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        for condition in self._conditions(args["that"], host):
            value = condition_result(host.templar, condition, host.variables, "that")
            if not value:
                message = args.get("fail_msg", args.get("msg", ASSERTION_FAILED))
                return Decision(False, {"msg": message, "assertion": condition, "evaluated_to": False},
                                failed=True)
        return Decision(False, {"msg": args.get("success_msg", ALL_PASSED)})

    @staticmethod
    def _conditions(that: Any, host: HostContext) -> list[Any]:
        """The conditions ``that`` holds, as ansible-core 2.19 reads them: a list as it is; a string that is one
        ``{{ }}`` rendering to a list, that list (its items are conditions); any other string, one condition."""
        if isinstance(that, list):
            return that
        if is_single_expression(that):
            try:
                listed = host.templar.render(that, host.variables)
            except TemplateError:
                listed = None
            if isinstance(listed, list):
                return listed
        return [that]


class Fail(Module):
    """Fail the host with a message."""

    name = "fail"
    description = "Fail the host with a custom message (usually under a `when`)."
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "msg": {"description": "The failure message (any type; default: 'Failed as requested from task')."},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        return Decision(False, {"msg": args.get("msg", FAILED_AS_REQUESTED)}, failed=True)
