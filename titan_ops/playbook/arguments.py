"""Module arguments: free-form and ``key=value`` parsing, schema checks."""

from __future__ import annotations

import re
import shlex
from typing import Any

from typing import TYPE_CHECKING

from titan_ops.errors import Location, ModuleError, ReservedParameter, UnsupportedParameters
from titan_ops.modules import Module
from titan_ops.playbook import passed_checks
from titan_ops.templating import is_template
from titan_ops.trust import derived

if TYPE_CHECKING:
    import jsonschema

_KEY_VALUE = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*|\{\{(?:(?!\}\}).)*\}\})+)=(.*)$", re.DOTALL)
"""``key=value``; the key may be (or hold) a template (set_fact's keys are names it renders)."""


def _word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word: split on white space outside quotes and ``{{ }}``."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    depth, quote, index = 0, "", 0
    while index < len(text):
        char, pair = text[index], text[index:index + 2]
        step = 1
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif pair in ("{{", "{%"):
            depth, step = depth + 1, 2
        elif pair in ("}}", "%}") and depth:
            depth, step = depth - 1, 2
        elif char in "'\"" and not depth:
            quote = char
        elif char.isspace() and not depth:
            if start is not None:
                spans.append((start, index))
                start = None
            index += 1
            continue
        if start is None:
            start = index
        index += step
    if start is not None:
        spans.append((start, len(text)))
    return spans


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
    arguments; the rest of the text, kept as written (line breaks included),
    is the free-form argument (for command and shell). The parts are as
    trusted as ``text`` (:func:`titan_ops.trust.derived`).
    """
    known = set(module.schema.get("properties", {}))
    args: dict[str, Any] = {}
    source = text
    text = _join_continued_lines(text)
    rest, cursor = [], 0
    for start, end in _word_spans(text):
        match = _KEY_VALUE.match(text[start:end])
        if match and (match.group(1) in known or module.free_form is None):
            name = derived(source, match.group(1))
            value = derived(source, _unquote(match.group(2)))
            args[name] = _typed(value, module.schema.get("properties", {}).get(name, {}))
            rest.append(text[cursor:start])
            # the word goes with the space or line break after it, else with the space before it
            if text[end:end + 1] in (" ", "\n"):
                end += 1
            elif "".join(rest).endswith(" "):
                rest = ["".join(rest)[:-1]]
            cursor = end
    rest.append(text[cursor:])
    remainder = "".join(rest)
    if remainder.strip():
        if module.free_form is None:
            raise ModuleError(f"module '{module.name}' takes key=value arguments, not '{remainder.strip()}'")
        args[module.free_form] = derived(source, remainder)
    return args


def _join_continued_lines(text: str) -> str:
    """``text`` with its line continuations joined, as Ansible reads a free-form string: a lone ``\\`` word
    outside quotes is dropped with the space before it, and its line goes on with the next one (one space
    between them, the next line's first space dropped); every other space and line break stays."""
    if "\\" not in text:
        return text
    lines = text.split("\n")
    joined, quote, after_continuation = "", "", False
    for number, line in enumerate(lines):
        words, continues = [], False
        for word in line.split(" "):
            if word == "\\" and not quote:
                continues = True
                continue
            words.append(word)
            quote = _quote_after(word, quote)
        part = " ".join(words)
        if after_continuation:
            part = " " + (part[1:] if part.startswith(" ") else part)
        joined += part
        if number < len(lines) - 1 and not continues:
            joined += "\n"
        after_continuation = continues
    return joined


def _quote_after(word: str, quote: str) -> str:
    """The quote still open after ``word``, given the one open before it."""
    for index, char in enumerate(word):
        if quote:
            if char == quote and (index == 0 or word[index - 1] != "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
    return quote


def parse_key_values(text: str) -> dict[str, Any] | None:
    """``name=web tasks_from=x.yml`` as a mapping (values unquoted, as trusted as ``text``); None when a word
    is not ``key=value``."""
    values: dict[str, Any] = {}
    for start, end in _word_spans(text):
        match = _KEY_VALUE.match(text[start:end])
        if not match or not match.group(1).isidentifier():
            return None
        values[match.group(1)] = derived(text, _unquote(match.group(2)))
    return values


_VALIDATORS: dict[str, Any] = {}


def _validator(module: Module) -> Any:
    validator = _VALIDATORS.get(module.name)
    if validator is None:
        import jsonschema  # only for what did not pass before (see passed_checks)

        cls = jsonschema.validators.validator_for(module.schema, default=jsonschema.Draft202012Validator)
        validator = _VALIDATORS[module.name] = cls(module.schema)
    return validator


def check_arguments(module: Module, args: dict[str, Any], location: Location, *, rendered: bool) -> None:
    """Validate ``args`` against the module's schema.

    Before rendering (``rendered=False``) a value that is still a template is
    not type-checked; unknown and missing arguments are always errors.
    Arguments that passed once pass again without a second validation (a
    task on many hosts is usually validated once; see passed_checks).
    """
    for key in args:
        if str(key).startswith("_ansible_"):
            raise ReservedParameter(f"the prefix '_ansible_' is reserved for internal use (module '{module.name}')",
                              location, str(key))
    properties = module.schema.get("properties", {})
    if module.schema.get("additionalProperties") is False:
        unknown = [str(key) for key in args if key not in properties]
        if unknown:
            raise UnsupportedParameters(module.unsupported_parameters(unknown), location, unknown[0])
    digest = passed_checks.digest(module.schema, args, "rendered" if rendered else "static")
    if digest is not None and passed_checks.passed(digest):
        return
    validator = _validator(module)
    for error in sorted(validator.iter_errors(args), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if not rendered and path and is_template(args.get(path[0])):
            continue
        key = str(path[0]) if path else None
        raise ModuleError(_describe(module, error), location, key)
    if digest is not None:
        passed_checks.remember(digest)


_YAML_KINDS = {bool: "bool", dict: "dict", list: "list", str: "str", int: "int", float: "float"}
"""A value's kind by its base type (a located mapping is a dict; a bool before an int)."""


def _describe(module: Module, error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and not error.absolute_path:
        options = [" or ".join(branch.get("required", [])) for branch in error.validator_value]
        given = [branch for branch in error.validator_value
                 if all(key in error.instance for key in branch.get("required", []))]
        if len(given) > 1:  # ansible-core's wordings
            return f"parameters are mutually exclusive: {'|'.join(options)} (module '{module.name}')"
        return f"one of the following is required: {', '.join(options)} (module '{module.name}')"
    if error.validator == "anyOf" and all(set(branch) == {"required"} for branch in error.validator_value):
        options = [name for branch in error.validator_value for name in branch["required"]]
        if error.schema_path[0] == "dependentSchemas":  # (an argument that needs one of others)
            return f"missing parameter(s) required by '{error.schema_path[1]}': {options[0]}"
        return f"one of the following is required: {', '.join(options)} (module '{module.name}')"
    if error.validator == "not" and set(error.validator_value) == {"required"}:  # (arguments given together)
        return f"parameters are mutually exclusive: {'|'.join(error.validator_value['required'])}"
    if error.validator == "required":
        return f"module '{module.name}' is missing a required argument: {error.message}"
    if error.validator == "type":
        kind = next((name for base, name in _YAML_KINDS.items() if isinstance(error.instance, base)),
                    type(error.instance).__name__)
        if error.validator_value == "string" and kind in ("dict", "list"):  # ansible's words for it
            return f"must be of type string, got {kind} {error.instance!r}: '{kind}' is not a string and " \
                   "conversion is not allowed"
        return f"must be of type {error.validator_value}, got {kind} {error.instance!r}"
    return f"{error.message} (module '{module.name}')"
