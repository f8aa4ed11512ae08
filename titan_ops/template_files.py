"""Template files on the controller (the ``template`` module and the ``template`` lookup): compiled once
per environment and text, finding the templates they load (``{% include %}``, ...) beside them, then in
the search path's ``templates/`` folders and the search path itself."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from typing import Any

import jinja2

from titan_ops.errors import TemplateError


def search_path(path: str, folders: Iterable[str]) -> tuple[str, ...]:
    """Where the template file ``path`` finds the templates it loads: its own folder, then each of
    ``folders``' ``templates/`` and the folder itself."""
    return (os.path.dirname(path),
            *(place for folder in folders for place in (os.path.join(folder, "templates"), folder)))


@functools.lru_cache(maxsize=16)
def environment(base: jinja2.Environment, searchpath: tuple[str, ...],
                settings: tuple[tuple[str, Any], ...] = ()) -> jinja2.Environment:
    """The run's environment (filters, tests, undefined handling) with jinja2 ``settings`` (whitespace,
    delimiters), loading templates from ``searchpath``. As in Ansible, an included template loses its final
    newline (the template module puts the template's own final newlines back after rendering)."""
    options = {"keep_trailing_newline": False, **dict(settings)}
    try:
        return base.overlay(**options, loader=jinja2.FileSystemLoader(list(searchpath)))
    except (TypeError, ValueError) as error:
        raise TemplateError(f"invalid template settings: {error}") from None


@functools.lru_cache(maxsize=64)
def compiled(environment: jinja2.Environment, source: str) -> jinja2.Template:
    """A template file compiled once per environment and text, not once per host."""
    return environment.from_string(source)
