"""Modules that run on the controller only: ``debug`` and ``set_fact``."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module


class Debug(Module):
    """Print a message or a variable's value."""

    name = "debug"
    description = "Show a message or the value of a variable."
    on_controller = True
    shows_result = True
    schema = {
        "type": "object",
        "properties": {
            "msg": {"description": "The message to show (any type).", "default": "Hello world!"},
            "var": {"type": "string", "description": "A variable name or expression to show."},
            "verbosity": {"type": "integer", "minimum": 0, "default": 0,
                          "description": "Show only at this -v level or above."},
        },
        "not": {"required": ["msg", "var"]},
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        if "var" in args:
            expression = args["var"]
            value = host.templar.evaluate(expression, host.variables)
            return Decision(False, {expression: value})
        return Decision(False, {"msg": args.get("msg", "Hello world!")})


class SetFact(Module):
    """Set host variables for the rest of the run (Ansible's ``set_fact``)."""

    name = "set_fact"
    description = "Set variables on the host for the rest of the run: every other argument is a variable."
    on_controller = True
    schema = {
        "type": "object",
        "minProperties": 1,
        "properties": {"cacheable": {"type": "boolean",
                                     "description": "Accepted for compatibility; facts last for the run."}},
        "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        facts = {key: value for key, value in args.items() if key != "cacheable"}
        return Decision(False, {"ansible_facts": facts})
