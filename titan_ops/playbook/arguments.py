"""Module arguments: free-form and ``key=value`` parsing, schema checks."""

from __future__ import annotations

import re
import shlex
from typing import Any

import jsonschema

from titan_ops.errors import Location, ModuleError
from titan_ops.modules import Module
from titan_ops.templating import is_template

_KEY_VALUE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def _split_preserving_templates(text: str) -> list[str]:
    """Split on white space outside quotes and outside ``{{ }}``."""
    words, current, depth, quote = [], "", 0, ""
    index = 0
    while index < len(text):
        char = text[index]
        pair = text[index:index + 2]
        if quote:
            current += char
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif pair in ("{{", "{%"):
            depth += 1
            current += pair
            index += 1
        elif pair in ("}}", "%}") and depth:
            depth -= 1
            current += pair
            index += 1
        elif char in "'\"" and not depth:
            quote = char
            current += char
        elif char.isspace() and not depth:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
        index += 1
    if current:
        words.append(current)
    return words


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        try:
            return shlex.split(value)[0]
        except ValueError:
            return value[1:-1]
    return value


def _typed(value: str, spec: dict[str, Any]) -> Any:
    """Convert a ``key=value`` string to the type the argument's schema asks for."""
    if is_template(value):
        return value
    types = spec.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "string" in types or not types:
        return value
    if "boolean" in types and value.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return value.lower() in ("true", "yes", "on", "1")
    for kind, convert in (("integer", int), ("number", float)):
        if kind in types:
            try:
                return convert(value)
            except ValueError:
                pass
    return value


def parse_free_form(module: Module, text: str) -> dict[str, Any]:
    """Turn ``command: chdir=/tmp ls -l`` or ``copy: src=a dest=b`` into an argument dict.

    ``key=value`` words whose key is one of the module's arguments become
    arguments; the rest is the free-form text (for command and shell).
    """
    known = set(module.schema.get("properties", {}))
    args: dict[str, Any] = {}
    rest: list[str] = []
    for word in _split_preserving_templates(text):
        match = _KEY_VALUE.match(word)
        if match and (match.group(1) in known or module.free_form is None):
            name = match.group(1)
            args[name] = _typed(_unquote(match.group(2)), module.schema.get("properties", {}).get(name, {}))
        else:
            rest.append(word)
    if rest:
        if module.free_form is None:
            raise ModuleError(f"module '{module.name}' takes key=value arguments, not '{' '.join(rest)}'")
        args[module.free_form] = " ".join(rest)
    return args


_VALIDATORS: dict[str, Any] = {}


def _validator(module: Module) -> Any:
    validator = _VALIDATORS.get(module.name)
    if validator is None:
        cls = jsonschema.validators.validator_for(module.schema, default=jsonschema.Draft202012Validator)
        validator = _VALIDATORS[module.name] = cls(module.schema)
    return validator


def check_arguments(module: Module, args: dict[str, Any], location: Location, *, rendered: bool) -> None:
    """Validate ``args`` against the module's schema.

    Before rendering (``rendered=False``) a value that is still a template is
    not type-checked; unknown and missing arguments are always errors.
    """
    properties = module.schema.get("properties", {})
    if module.schema.get("additionalProperties") is False:
        for key in args:
            if key not in properties:
                known = ", ".join(sorted(properties))
                raise ModuleError(f"unknown argument for module '{module.name}' (known: {known})", location, str(key))
    validator = _validator(module)
    for error in sorted(validator.iter_errors(args), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if not rendered and path and is_template(args.get(path[0])):
            continue
        key = str(path[0]) if path else None
        raise ModuleError(_describe(module, error), location, key)


def _describe(module: Module, error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and not error.absolute_path:
        options = [" or ".join(branch.get("required", [])) for branch in error.validator_value]
        return f"module '{module.name}' needs exactly one of: {', '.join(options)}"
    if error.validator == "required":
        return f"module '{module.name}' is missing a required argument: {error.message}"
    if error.validator == "type":
        return f"must be of type {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    return f"{error.message} (module '{module.name}')"
