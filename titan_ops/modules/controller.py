"""Modules that run on the controller only: ``debug`` and ``set_fact``."""

from __future__ import annotations

import keyword
import re
from typing import Any

from titan_ops.errors import UndefinedVariableError
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.templating import OMIT, is_template

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONSTANTS = ("true", "false", "none")
"""Names a template reads as constants (any case), never as variables: not a fact's name (as in ansible-core)."""


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
        """As ansible-core 2.19's: skipped above the run's ``-v`` count; ``var`` shows a placeholder and warns
        when its value is undefined or ``omit``; a ``var`` template renders to the expression (an authored
        one: a name from the playbook), and is no ``var`` when it is ``omit``."""
        if args.get("verbosity", 0) > host.verbosity:
            return Decision(False, {"skipped": True, "skipped_reason": "Verbosity threshold not met."})
        if "var" in args:
            expression = args["var"]
            if is_template(expression):  # a name chosen by a template: evaluated when it is authored text
                expression = host.templar.render(expression, host.variables)
                if expression == OMIT:
                    return Decision(False, {"msg": args.get("msg", "Hello world!")})
            try:
                value = host.templar.evaluate(expression, host.variables)
            except UndefinedVariableError as error:
                return Decision(False, {expression: f"<< error 1 - {error.detail} >>",
                                        "warnings": [f"Encountered 1 template error.\nerror 1 - {error.detail}"]})
            if value != OMIT:
                return Decision(False, {expression: value})
            return Decision(False, {expression: "<<Omit>>", "warnings": [
                "The result of the `var` expression could not be omitted; a placeholder was used instead."]})
        return Decision(False, {"msg": args.get("msg", "Hello world!")})


CACHEABLE = "_ansible_facts_cacheable"
"""The key of a ``set_fact`` result whose facts also go to the fact cache (taken out before it is recorded)."""


class SetFact(Module):
    """Set host variables for the rest of the run (Ansible's ``set_fact``)."""

    name = "set_fact"
    description = "Set variables on the host for the rest of the run: every other argument is a variable."
    on_controller = True
    schema = {
        "type": "object",
        "minProperties": 1,
        "properties": {"cacheable": {"type": "boolean",
                                     "description": "The facts also go to the host's fact cache (what "
                                                    "``setup`` gathers), which lasts for the run."}},
        # a name, or a template that renders to one
        "propertyNames": {"anyOf": [{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, {"pattern": "[{][{]"}]},
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        facts = {}
        for key, value in args.items():
            if key == "cacheable":
                continue
            name = host.templar.render(key, host.variables)
            if not isinstance(name, str):
                return Decision(False, {"msg": f"Invalid variable name '{name}' of type '{type(name).__name__}'."},
                                failed=True)
            if not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name) or name.lower() in _CONSTANTS:
                return Decision(False, {"msg": f"Invalid variable name '{name}'."}, failed=True)
            facts[name] = value
        result: dict[str, Any] = {"ansible_facts": facts}
        if args.get("cacheable"):
            result[CACHEABLE] = True
        return Decision(False, result)
