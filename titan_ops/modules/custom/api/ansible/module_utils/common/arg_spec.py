"""Validation of a module's parameters against its argument spec, in ansible-core's order and with its
messages: aliases, unsupported options, mutually exclusive ones, defaults, required ones, types and
elements, choices, the checks between options, then each option's sub-options."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from typing import Any

from . import validation

_CHECKS = (
    ("required_together", validation.check_required_together),
    ("required_one_of", validation.check_required_one_of),
    ("required_if", validation.check_required_if),
    ("required_by", validation.check_required_by),
)


def env_fallback(*names: str, **_: Any) -> str:
    """An option's ``fallback``: the first of these environment variables that is set."""
    for name in names:
        if name in os.environ:
            return os.environ[name]
    raise AnsibleFallbackNotFound


class AnsibleFallbackNotFound(Exception):
    """No fallback value for an option."""


class ValidationResult:
    """What :meth:`ArgumentSpecValidator.validate` found: the validated parameters (defaults set, types
    converted), the values to mask (``no_log`` options) and the first error's message, if any."""

    def __init__(self, parameters: dict[str, Any]):
        self.validated_parameters = parameters
        self.no_log_values: set[str] = set()
        self.unsupported_parameters: set[str] = set()
        self.error_messages: list[str] = []
        self.warnings: list[str] = []

    @property
    def errors(self) -> list[str]:
        return self.error_messages


class _Invalid(Exception):
    """The first problem found: validation stops there."""


class ArgumentSpecValidator:
    """Validates parameters against ``argument_spec`` and the checks between options."""

    def __init__(self, argument_spec: Mapping[str, Any], mutually_exclusive: Any = None,
                 required_together: Any = None, required_one_of: Any = None, required_if: Any = None,
                 required_by: Any = None, module_name: str = "module"):
        self.argument_spec = argument_spec
        self.checks = {"mutually_exclusive": mutually_exclusive, "required_together": required_together,
                       "required_one_of": required_one_of, "required_if": required_if, "required_by": required_by}
        self.module_name = module_name

    def validate(self, parameters: Mapping[str, Any]) -> ValidationResult:
        result = ValidationResult(copy.deepcopy(dict(parameters)))
        try:
            _Level(self, result).validate(self.argument_spec, result.validated_parameters, self.checks, ())
        except _Invalid as problem:
            result.error_messages.append(str(problem))
        return result


class _Level:
    """Validation of one level of options (the top one or an option's sub-options)."""

    def __init__(self, validator: ArgumentSpecValidator, result: ValidationResult):
        self.validator = validator
        self.result = result

    def validate(self, spec: Mapping[str, Any], params: dict[str, Any], checks: Mapping[str, Any],
                 path: tuple[str, ...]) -> None:
        legal = self._apply_aliases(spec, params)
        self._collect_no_log(spec, params)
        self._reject_unsupported(spec, params, legal, path)
        context = list(path) or None
        self._run(validation.check_mutually_exclusive, checks.get("mutually_exclusive"), params, context)
        self._set_defaults(spec, params, with_none=False)
        self._run(validation.check_required_arguments, spec, params, context)
        for name, option in spec.items():
            if params.get(name) is not None:
                params[name] = self._converted(name, option, params[name], context)
        for name, option in spec.items():
            self._check_choices(name, option, params.get(name), context)
        for key, check in _CHECKS:
            self._run(check, checks.get(key), params, context)
        self._set_defaults(spec, params, with_none=True)
        for name, option in spec.items():
            if option.get("options") is not None:
                self._validate_sub_options(name, option, params, path)

    def _run(self, check: Callable[..., Any], terms: Any, params: dict[str, Any], context: list[str] | None) -> None:
        try:
            check(terms, params, options_context=context)
        except TypeError as error:
            raise _Invalid(str(error)) from None

    def _apply_aliases(self, spec: Mapping[str, Any], params: dict[str, Any]) -> set[str]:
        """Copy each alias given to its option; the names that may be given."""
        legal = set(spec)
        for name, option in spec.items():
            for alias in option.get("aliases") or ():
                legal.add(alias)
                if alias in params:
                    params[name] = params[alias]
        return legal

    def _collect_no_log(self, spec: Mapping[str, Any], params: dict[str, Any]) -> None:
        for name, option in spec.items():
            if option.get("no_log") and params.get(name) is not None:
                self.result.no_log_values.update(scalars_of(params[name]))

    def _reject_unsupported(self, spec: Mapping[str, Any], params: dict[str, Any], legal: set[str],
                            path: tuple[str, ...]) -> None:
        unknown = sorted(key for key in params if key not in legal and not (not path and key.startswith("_ansible_")))
        if not unknown:
            return
        self.result.unsupported_parameters.update(unknown)
        prefix = "".join(f"{step}." for step in path)
        supported = ", ".join(sorted(spec))
        aliases = sorted(alias for option in spec.values() for alias in option.get("aliases") or ())
        if aliases:
            supported += f" ({', '.join(aliases)})"
        raise _Invalid(f"Unsupported parameters for ({self.validator.module_name}) module: "
                       f"{', '.join(prefix + key for key in unknown)}. Supported parameters include: {supported}.")

    def _set_defaults(self, spec: Mapping[str, Any], params: dict[str, Any], with_none: bool) -> None:
        for name, option in spec.items():
            if name in params:
                continue
            fallback = option.get("fallback")
            if not with_none and fallback:
                found = _fallback_value(fallback)
                if found is not None:
                    params[name] = found
                    if option.get("no_log"):
                        self.result.no_log_values.update(scalars_of(found))
                    continue
            default = option.get("default")
            if default is not None or with_none:
                params[name] = default

    def _converted(self, name: str, option: Mapping[str, Any], value: Any, context: list[str] | None) -> Any:
        wanted = option.get("type", "str")
        converted = self._convert(value, wanted, f"argument '{name}'", context)
        elements = option.get("elements")
        if elements and wanted == "list":
            if elements == "dict" and option.get("options") is not None:
                return converted
            converted = [self._convert(item, elements, f"Elements value for option '{name}'", context)
                         for item in converted]
        return converted

    def _convert(self, value: Any, wanted: Any, what: str, context: list[str] | None) -> Any:
        checker = wanted if callable(wanted) else validation.CHECKERS.get(wanted)
        if checker is None:
            raise _Invalid(f"implementation error: unknown type {wanted} requested for {what}")
        try:
            converted = checker(value)
        except (TypeError, ValueError) as error:
            name = getattr(wanted, "__name__", wanted)
            raise _Invalid(validation._located(f"{what} is of type {type(value).__name__} and we were unable to "
                                               f"convert to {name}: {error}", context)) from None
        if wanted == "str" and not isinstance(value, str):
            self.result.warnings.append(
                f"The value {value!r} (type {type(value).__name__}) was converted to {converted!r} (type string). "
                "If this does not look like what you expect, quote the entire value to ensure it does not change.")
        return converted

    def _check_choices(self, name: str, option: Mapping[str, Any], value: Any, context: list[str] | None) -> None:
        choices = option.get("choices")
        if not choices or value is None:
            return
        shown = ", ".join(map(str, choices))
        if isinstance(value, list):
            wrong = [item for item in value if item not in choices]
            if wrong:
                raise _Invalid(validation._located(f"value of {name} must be one or more of: {shown}. "
                                                   f"Got no match for: {', '.join(map(str, wrong))}", context))
        elif value not in choices and str(value) not in map(str, choices):
            raise _Invalid(validation._located(f"value of {name} must be one of: {shown}, got: {value}", context))

    def _validate_sub_options(self, name: str, option: Mapping[str, Any], params: dict[str, Any],
                              path: tuple[str, ...]) -> None:
        value = params.get(name)
        if value is None:
            if not option.get("apply_defaults"):
                return
            value = params[name] = {}
        sub_spec = option["options"]
        checks = {key: option.get(key) for key in ("mutually_exclusive", *dict(_CHECKS))}
        if option.get("type", "str") == "dict":
            if not isinstance(value, dict):
                raise _Invalid(f"value of {name} must be a dict, got {type(value).__name__}")
            self.validate(sub_spec, value, checks, (*path, name))
            return
        for item in value:
            if not isinstance(item, dict):
                raise _Invalid(f"Value '{item}' in the sub parameter field '{name}' must be a list, "
                               f"not '{type(item).__name__}'")
            self.validate(sub_spec, item, checks, (*path, name))


def _fallback_value(fallback: Any) -> Any:
    """The value an option's ``fallback`` (a function, then its arguments) gives, or None."""
    function, *rest = fallback
    args: tuple = ()
    kwargs: dict[str, Any] = {}
    for extra in rest:
        if isinstance(extra, dict):
            kwargs = extra
        else:
            args = tuple(extra)
    try:
        return function(*args, **kwargs)
    except AnsibleFallbackNotFound:
        return None


def scalars_of(value: Any) -> set[str]:
    """The text of every scalar in ``value`` (the values a ``no_log`` option hides)."""
    if isinstance(value, dict):
        return set().union(*(scalars_of(item) for item in value.values())) if value else set()
    if isinstance(value, (list, tuple, set)):
        return set().union(*(scalars_of(item) for item in value)) if value else set()
    if value is None or isinstance(value, bool):
        return set()
    text = str(value)
    return {text} if text else set()
