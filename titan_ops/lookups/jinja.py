"""``lookup()``, ``query()``, ``q()`` and ``now()`` in templates, and the check that finds unknown lookups in
a template before it runs."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes

from titan_ops import lookups
from titan_ops.errors import TemplateError

FUNCTION_NAMES = ("lookup", "query", "q")


class _ContextVariables(Mapping):
    """The variables a jinja2 context sees (its template's locals first), as a mapping."""

    def __init__(self, context: jinja2.runtime.Context):
        self._context = context

    def __getitem__(self, key: str) -> Any:
        if key in self._context.vars:
            return self._context.vars[key]
        return self._context.parent[key]

    def __contains__(self, key: object) -> bool:
        return key in self._context.vars or key in self._context.parent

    def __iter__(self) -> Iterator[str]:
        yield from self._context.vars
        yield from (key for key in self._context.parent if key not in self._context.vars)

    def __len__(self) -> int:
        return len(set(self._context.vars) | set(self._context.parent))


def _call(context: jinja2.runtime.Context, name: str, terms: tuple[Any, ...], options: dict[str, Any],
          wantlist: bool) -> Any:
    errors = options.pop("errors", "strict")
    if errors not in ("strict", "warn", "ignore"):
        raise TemplateError(f"lookup '{name}': errors must be strict, warn or ignore, got {errors!r}")
    templar = context.environment.templar  # type: ignore[attr-defined]
    lookup_context = lookups.LookupContext(_ContextVariables(context), templar,
                                           on_secret=getattr(templar, "on_secret", None))
    try:
        values = lookups.run(str(name), list(terms), options, lookup_context)
    except TemplateError:
        if errors == "strict":
            raise
        return [] if wantlist else None
    return values if wantlist else lookups.fold(values)


@jinja2.pass_context
def lookup(context: jinja2.runtime.Context, name: str, *terms: Any, wantlist: bool = False,
           **options: Any) -> Any:
    """``lookup(name, *terms, **options)``: the lookup's values, folded unless ``wantlist=True``."""
    return _call(context, name, terms, options, wantlist=bool(wantlist))


@jinja2.pass_context
def query(context: jinja2.runtime.Context, name: str, *terms: Any, **options: Any) -> Any:
    """``query(name, *terms, **options)`` (also ``q``): the lookup's values as a list."""
    options.pop("wantlist", None)
    return _call(context, name, terms, options, wantlist=True)


def now(utc: bool = False, fmt: str | None = None) -> Any:
    """``now(utc=False, fmt=None)``: the controller's time (UTC when ``utc``), formatted by ``fmt`` (strftime)
    when given, as ansible-core's function."""
    moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) if utc else datetime.datetime.now()
    return moment.strftime(fmt) if fmt is not None else moment


@jinja2.pass_environment
def undef(environment: jinja2.Environment, hint: str | None = None) -> jinja2.Undefined:
    """``undef(hint=None)``: an undefined value, for a variable that must be overridden (using it fails with
    ``hint``, or says that the variable has not been overridden), as ansible-core's function."""
    return environment.undefined(hint=hint or "Mandatory variable has not been overridden")


GLOBALS = {"lookup": lookup, "query": query, "q": query, "now": now, "undef": undef}
"""The template functions, by name."""


def unsupported_lookups(tree: nodes.Template) -> list[str]:
    """The names of lookups a parsed template calls that titan-ops does not have (literal names of a plugin's
    shape only: another name fails when the template runs, as in ansible-core)."""
    unknown = []
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in FUNCTION_NAMES and call.args:
            first = call.args[0]
            if isinstance(first, nodes.Const) and isinstance(first.value, str) \
                    and lookups.is_plugin_name(first.value) and not lookups.is_lookup(first.value):
                unknown.append(first.value)
    return unknown

