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
    converted), the values to mask (``no_log`` options) and every error's message, in ansible-core's order
    (the unsupported options' one last)."""

    def __init__(self, parameters: dict[str, Any]):
        self.validated_parameters = parameters
        self.no_log_values: set[str] = set()
        self.unsupported_parameters: set[str] = set()
        self.unsupported_error: str | None = None
        """The message naming the unsupported options (also the last of ``error_messages``), if any."""
        self.error_messages: list[str] = []
        self.warnings: list[str] = []

    @property
    def errors(self) -> list[str]:
        return self.error_messages


class ArgumentSpecValidator:
    """Validates parameters against ``argument_spec`` and the checks between options."""

    def __init__(self, argument_spec: Mapping[str, Any], mutually_exclusive: Any = None,
                 required_together: Any = None, required_one_of: Any = None, required_if: Any = None,
                 required_by: Any = None):
        self.argument_spec = argument_spec
        self.checks = {"mutually_exclusive": mutually_exclusive, "required_together": required_together,
                       "required_one_of": required_one_of, "required_if": required_if, "required_by": required_by}

    def validate(self, parameters: Mapping[str, Any]) -> ValidationResult:
        result = ValidationResult(copy.deepcopy(dict(parameters)))
        level = _Level(result)
        level.validate(self.argument_spec, result.validated_parameters, self.checks, ())
        level.report_unsupported()
        return result


class _Level:
    """Validation of one level of options (the top one or an option's sub-options); every problem found is
    added to the result's errors and validation goes on, as in ansible-core."""

    def __init__(self, result: ValidationResult):
        self.result = result
        self._unsupported: list[tuple[str, str]] = []
        """Each unsupported option (dotted from the top) with what its level supports."""

    def validate(self, spec: Mapping[str, Any], params: dict[str, Any], checks: Mapping[str, Any],
                 path: tuple[str, ...]) -> None:
        legal = self._apply_aliases(spec, params)
        self._collect_no_log(spec, params)
        self._note_unsupported(spec, params, legal, path)
        context = list(path) or None
        self._run(validation.check_mutually_exclusive, checks.get("mutually_exclusive"), params, context)
        self._set_defaults(spec, params, with_none=False)
        self._run(validation.check_required_arguments, spec, params, context)
        for name, option in spec.items():
            if name in params and not (params[name] is None and not option.get("required")
                                       and option.get("default") is None):
                params[name] = self._converted(name, option, params[name], context)
        for name, option in spec.items():
            self._check_choices(name, option, params, context)
        for key, check in _CHECKS:
            self._run(check, checks.get(key), params, context)
        self._set_defaults(spec, params, with_none=True)
        for name, option in spec.items():
            if option.get("options") is not None:
                self._validate_sub_options(name, option, params, path)

    def report_unsupported(self) -> None:
        """Add the message naming every unsupported option found, at any level (ansible-core's last error)."""
        if not self._unsupported:
            return
        names = sorted(name for name, _supported in self._unsupported)
        self.result.unsupported_parameters.update(names)
        supported = dict(self._unsupported)[names[-1]]
        self.result.unsupported_error = f"{', '.join(names)}. Supported parameters include: {supported}."
        self.result.error_messages.append(self.result.unsupported_error)

    def _fail(self, message: str) -> None:
        self.result.error_messages.append(message)

    def _run(self, check: Callable[..., Any], terms: Any, params: dict[str, Any], context: list[str] | None) -> None:
        try:
            check(terms, params, options_context=context)
        except TypeError as error:
            self._fail(str(error))

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
        for name, option in spec.items():
            value = params.get(name)
            if option.get("options") is not None and isinstance(value, list):
                wrong = next((item for item in value if not isinstance(item, dict)), None)
                if wrong is not None:  # ansible-core finds it looking for no_log values, and looks no further
                    self._fail(f"Value '{wrong}' in the sub parameter field '{name}' must be a "
                               f"{option.get('type') or 'str'}, not '{type(wrong).__name__}'")
                    return

    def _note_unsupported(self, spec: Mapping[str, Any], params: dict[str, Any], legal: set[str],
                          path: tuple[str, ...]) -> None:
        unknown = sorted(key for key in params if key not in legal and not (not path and key.startswith("_ansible_")))
        supported = ", ".join(sorted(spec))
        aliases = sorted(alias for option in spec.values() for alias in option.get("aliases") or ())
        if aliases:
            supported += f" ({', '.join(aliases)})"
        prefix = "".join(f"{step}." for step in path)
        self._unsupported.extend((prefix + key, supported) for key in unknown)

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
        """``value`` converted to the option's type (and its elements to theirs); as given when it cannot be."""
        wanted = option.get("type") or "str"
        where = f" found in '{' -> '.join(context)}'." if context else ""
        try:
            converted = self._convert(value, wanted)
        except (TypeError, ValueError) as error:
            self._fail(f"argument '{name}' is of type {_native_type_name(value)}{where} and we were unable to convert "
                       f"to {_type_name(wanted)}: {error}")
            return value
        elements = option.get("elements")
        if not elements or not isinstance(converted, list):
            return converted
        where = f" found in '{' -> '.join(context)}'" if context else ""
        items = []
        for item in converted:
            try:
                items.append(self._convert(item, elements))
            except (TypeError, ValueError) as error:
                self._fail(f"Elements value for option '{name}'{where} is of type {_native_type_name(item)} and we "
                           f"were unable to convert to {_type_name(elements)}: {error}")
        return items

    def _convert(self, value: Any, wanted: Any) -> Any:
        checker = wanted if callable(wanted) else validation.CHECKERS.get(wanted)
        if checker is None:
            raise TypeError(f"implementation error: unknown type {wanted} requested")
        converted = checker(value)
        if wanted == "str" and not isinstance(value, str):
            self.result.warnings.append(
                f"The value {value!r} (type {type(value).__name__}) was converted to {converted!r} (type string). "
                "If this does not look like what you expect, quote the entire value to ensure it does not change.")
        return converted

    def _check_choices(self, name: str, option: Mapping[str, Any], params: dict[str, Any],
                       context: list[str] | None) -> None:
        choices = option.get("choices")
        if not choices or name not in params:
            return
        value = params[name]
        shown = ", ".join(map(str, choices))
        if isinstance(value, list):
            wrong = [item for item in value if item not in choices]
            if wrong:
                self._fail(validation._located(f"value of {name} must be one or more of: {shown}. "
                                               f"Got no match for: {', '.join(map(str, wrong))}", context))
        elif value not in choices and str(value) not in map(str, choices):
            self._fail(validation._located(f"value of {name} must be one of: {shown}, got: {value}", context))

    def _validate_sub_options(self, name: str, option: Mapping[str, Any], params: dict[str, Any],
                              path: tuple[str, ...]) -> None:
        value = params.get(name)
        if value is None:
            if not option.get("apply_defaults"):
                return
            value = params[name] = {}
        sub_spec = option["options"]
        checks = {key: option.get(key) for key in ("mutually_exclusive", *dict(_CHECKS))}
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                self._fail(f"value of '{name}' must be of type dict or list of dicts")
                continue
            self.validate(sub_spec, item, checks, (*path, name))


def _type_name(wanted: Any) -> str:
    return getattr(wanted, "__name__", str(wanted))


def _native_type_name(value: Any) -> str:
    """The name of the built-in type ``value`` is (that of a subclass's built-in base), as ansible-core names it."""
    return next(kind.__name__ for kind in type(value).__mro__ if kind.__module__ == "builtins")


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
