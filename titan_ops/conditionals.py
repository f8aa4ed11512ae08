"""What a conditional's result is, decided here and nowhere else.

``when``, ``changed_when``, ``failed_when``, ``until``, ``assert``'s ``that`` and the conditions of
blocks, includes and meta tasks are conditionals. As in ansible-core 2.19, a conditional is a YAML
boolean or a jinja2 expression whose result is a boolean: a string (``"yes"``), a number, a list or
``None`` is no verdict, and the task fails saying so (write ``x | bool`` or ``x | length > 0``).
A condition written as one ``{{ template }}`` is rendered first, and authored text it renders to is
evaluated as the expression.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from titan_ops.errors import TemplateError
from titan_ops.filters import type_debug
from titan_ops.templating import Templar, is_single_expression, is_template


class ConditionalError(TemplateError):
    """A conditional that is not one (not a string, empty) or whose result is not a boolean."""


def condition_result(templar: Templar, condition: Any, variables: Mapping[str, Any], origin: str) -> bool:
    """The boolean result of one conditional; ConditionalError when it has none. The message has
    ansible's words, with ``origin`` (``file:line:column: key``, where the condition is written) for where
    the value came from."""
    if isinstance(condition, bool):
        return condition
    if not isinstance(condition, str):
        raise ConditionalError("Conditional expressions must be strings.")
    if not condition.strip():
        raise ConditionalError("Empty conditional expressions are not allowed.")
    value = templar.evaluate(condition, variables, conditional=True)
    if isinstance(value, str) and value.strip() and is_single_expression(condition):
        # As ansible-core: a condition that is one template is rendered, and the text it renders to is the
        # expression, evaluated only when it is authored text (a host's text or a template's constant is
        # refused as untrusted, never evaluated).
        value = templar.evaluate(value, variables, conditional=True)
    if isinstance(value, bool):
        return value
    if is_template(condition) and value in ("", None):  # (a template renders None as empty text)
        raise ConditionalError("Empty conditional expressions are not allowed.")
    raise ConditionalError(f"Conditional result ({bool(value)}) was derived from value of type "
                           f"'{type_debug(value)}' at '{origin}'. Conditionals must have a boolean result.")


def evaluate_conditions(templar: Templar, conditions: list[Any], variables: Mapping[str, Any],
                        origin: str) -> tuple[bool, Any]:
    """All of ``conditions`` (written at ``origin``, ``file:line:column: key``) true, in order? Returns
    (verdict, the first false condition)."""
    for condition in conditions:
        if not condition_result(templar, condition, variables, origin):
            return False, condition
    return True, None
