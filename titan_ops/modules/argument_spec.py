"""``validate_argument_spec``: check variables against an argument spec, as a role's entry point does.

The values come from the task's variables named in the spec, then ``provided_arguments`` (a role's
parameters); they are checked by the validator custom modules use
(:class:`~titan_ops.modules.custom.api.ansible.module_utils.common.arg_spec.ArgumentSpecValidator`),
with ansible-core's types, choices, sub-options and messages. Nothing is set: a spec's defaults are not
variables, as in ansible-core.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.custom.api.ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from titan_ops.modules.custom.api.ansible.module_utils.common.validation import CHECKERS

PASSED = "The arg spec validation passed"
FAILED = "Validation of arguments failed:"

_LISTS = ("choices", "aliases", "mutually_exclusive", "required_together", "required_one_of", "required_if")


def spec_problems(spec: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """What is wrong with an argument spec (option name -> its mapping): the key path of each problem and
    what it is. An option's ``type`` and ``elements`` must be types ansible-core knows."""
    if not isinstance(spec, Mapping):
        yield path, f"must be a mapping of option names to their specs, got {type(spec).__name__}"
        return
    for name, option in spec.items():
        where = (*path, str(name))
        if not isinstance(option, Mapping):
            yield where, f"an option's spec must be a mapping, got {type(option).__name__}"
            continue
        for key in ("type", "elements"):
            if key in option and option[key] not in CHECKERS:
                yield (*where, key), f"unknown type '{option[key]}' (known: {', '.join(CHECKERS)})"
        if "required" in option and not isinstance(option["required"], bool):
            yield (*where, "required"), "must be true or false"
        for key in _LISTS:
            if option.get(key) is not None and not isinstance(option[key], list):
                yield (*where, key), "must be a list"
        if option.get("options") is not None:
            yield from spec_problems(option["options"], (*where, "options"))


class ValidateArgumentSpec(Module):
    """Fail the host when its variables (or the arguments given) do not match an argument spec."""

    name = "validate_argument_spec"
    description = ("Check the variables an argument spec names (and `provided_arguments`, which win) against "
                   "it: required options, types (with ansible's conversions), elements, choices and "
                   "sub-options. Fails listing every problem in `argument_errors`; sets no variable. What a "
                   "role's entry point with an argument spec runs first.")
    on_controller = True
    schema = {
        "type": "object",
        "properties": {
            "argument_spec": {"type": "object", "description": "Option names and their specs (type, required, "
                                                              "default, choices, elements, options, aliases)."},
            "provided_arguments": {"type": "object", "description": "Values to check instead of the variables "
                                                                    "of the same names."},
            "validate_args_context": {"type": "object", "description": "What is validated (reported as is)."},
        },
        "required": ["argument_spec"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        spec = args["argument_spec"]
        context = args.get("validate_args_context", {})
        problems = [f"{'.'.join(path)}: {problem}" for path, problem in spec_problems(spec)]
        if problems:
            return Decision(False, {"msg": f"argument_spec is malformed: {problems[0]}"}, failed=True)
        given = {name: host.templar.render(host.variables[name], host.variables)
                 for name in spec if name in host.variables}
        given.update(args.get("provided_arguments") or {})
        errors = ArgumentSpecValidator(spec).validate(given).error_messages
        if errors:
            return Decision(False, {"msg": "\n".join([FAILED, *errors]), "argument_errors": errors,
                                    "argument_spec_data": spec, "validate_args_context": context}, failed=True)
        return Decision(False, {"msg": PASSED, "validate_args_context": context})
