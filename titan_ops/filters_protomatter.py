"""The plugins of ``ansible._protomatter`` that mean something in titan-ops.

ansible-core 2.19 ships ``ansible._protomatter``, a collection of its internals for its own tests. Two
of its plugins have a meaning here, given by titan-ops's own rules:

- the filter ``finalize``: a value as a finished template gives it, plain data (mappings as dicts,
  sequences as lists, ``omit`` left out of them);
- the test ``tagged_with('TrustedAsTemplate')``: whether a value is authored text, the only text
  titan-ops renders as a template (see :mod:`titan_ops.trust`); a value from a host, a lookup, a
  rendered template or ``!unsafe`` is not.

Every other plugin of the collection (``origin``, ``dump_object``, ``apply_trust``, ``tag_names``,
``true_type``, ``unmask``, ``python_literal_eval``, the test ``tagged``, ...) names an internal of
ansible-core's Python classes, or tags titan-ops does not track: none is defined, so validation refuses
it by name (``No filter named 'ansible._protomatter.origin'``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jinja2

from titan_ops.errors import TemplateError
from titan_ops.trust import is_authored

PREFIX = "ansible._protomatter."
_ANSIBLE_TAGS = frozenset({"Origin", "VaultedValue", "SourceWasEncrypted", "Deprecated"})
"""ansible-core's other data tags: known to it, not tracked by titan-ops."""
_SCALARS = (str, bool, int, float, type(None), datetime.datetime, datetime.date, datetime.time)


def finalize(value: Any) -> Any:
    """``value`` as the end of a template gives it: mappings as dicts, lists, tuples, sets and iterators as
    lists (an item or entry that is ``omit`` left out), recursively; an undefined value fails."""
    from titan_ops.templating import OMIT

    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {finalize(key): finalize(item) for key, item in value.items() if item != OMIT}
    if isinstance(value, range) or not isinstance(value, (Iterable, Iterator)):
        raise TemplateError(f"finalize: a value of type '{type(value).__name__}' is not a variable's value")
    return [finalize(item) for item in value if item != OMIT]


def tagged_with(value: Any, tag_name: str) -> bool:
    """``value is ansible._protomatter.tagged_with(tag_name)``: for ``TrustedAsTemplate``, whether
    ``value`` is authored text (titan-ops's only template); other tags of ansible-core are refused."""
    if tag_name == "TrustedAsTemplate":
        return is_authored(value)
    if tag_name in _ANSIBLE_TAGS:
        raise TemplateError(f"tagged_with: titan-ops does not track ansible-core's data tag {tag_name!r} "
                            "(only 'TrustedAsTemplate', its trust of authored text)")
    raise TemplateError(f"Unknown tag name {tag_name!r}.")


FILTERS = {PREFIX + "finalize": finalize}
TESTS = {PREFIX + "tagged_with": tagged_with}
