"""Lookups over controller files: ``file``, ``fileglob``, ``first_found`` and ``template``.

Relative names are searched as Ansible searches them: in each folder of the search path (the
role's, then the playbook's), under its ``files/`` (or ``templates/``) folder first.
"""

from __future__ import annotations

import glob
import os
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

import jinja2

from titan_ops import template_files
from titan_ops.lookups.context import LookupContext, LookupFailed
from titan_ops.trust import trusted


def file(terms: list[Any], context: LookupContext, rstrip: bool = True, lstrip: bool = False) -> list[Any]:
    """The content of each file (trailing whitespace stripped unless ``rstrip=false``)."""
    contents = []
    for name in terms:
        text = _read(_locate(context, str(name), "files"))
        text = text.rstrip() if rstrip else text
        contents.append(text.lstrip() if lstrip else text)
    return contents


def template(terms: list[Any], context: LookupContext, template_vars: Mapping[str, Any] | None = None,
             convert_data: bool = True) -> list[Any]:
    """Each template file rendered with the task's variables (and ``template_vars`` over them); a template
    file on the controller is authored text, what it renders to is data. A template that loads others
    (``{% include %}``, ``import``, ``from``, ``extends``) finds them beside it, then in the search path's
    ``templates/`` folders and the search path itself, as the ``template`` module does."""
    variables = ChainMap(dict(template_vars or {}), context.variables)
    rendered = []
    for name in terms:
        path = _locate(context, str(name), "templates")
        source = _read(path)
        if not _LOADS_TEMPLATES.search(source):
            rendered.append(context.templar.render(trusted(source), variables, from_file=True))
            continue
        environment = template_files.environment(context.templar.environment,
                                                 template_files.search_path(path, context.search_path()))
        try:
            compiled = template_files.compiled(environment, source)
        except jinja2.TemplateSyntaxError as error:
            raise LookupFailed(f"template syntax error in {path}:{error.lineno}: {error.message}") from None
        rendered.append(context.templar.render_file(compiled, variables, path))
    return rendered


_LOADS_TEMPLATES = re.compile(r"{%[-+]?\s*(include|import|from|extends)\b")


def fileglob(terms: list[Any], context: LookupContext) -> list[Any]:
    """The files (not folders) matching each shell pattern, sorted."""
    matches: list[str] = []
    for pattern in terms:
        pattern = os.path.expanduser(str(pattern))
        folder, base = os.path.split(pattern)
        if os.path.isabs(pattern):
            places = [folder]
        else:
            places = [os.path.join(directory, sub, folder)
                      for directory in context.search_path() for sub in ("files", "")]
        for place in places:
            if os.path.isdir(place):
                matches.extend(sorted(path for path in glob.glob(os.path.join(glob.escape(place), base))
                                      if os.path.isfile(path)))
                break
    return matches


def first_found(terms: list[Any], context: LookupContext, files: list[Any] | str | None = None,
                paths: list[Any] | str | None = None, skip: bool = False) -> list[Any]:
    """The path of the first file that exists among the candidates (``files`` under each of
    ``paths``); none: an error, or nothing with ``skip``."""
    candidates: list[str] = []
    for term in terms or [{"files": files or [], "paths": paths or []}]:
        if isinstance(term, Mapping):
            unknown = set(term) - {"files", "paths", "skip"}
            if unknown:
                raise LookupFailed(f"unknown keys in a first_found term: {sorted(unknown)}")
            skip = bool(term.get("skip", skip))
            candidates.extend(_joined(_names(term.get("files", [])), _names(term.get("paths", []))))
        else:
            candidates.extend(_joined(_names(term), _names(paths or [])))
    folder = _folder_of(context.action) if context.as_loop else None
    for candidate in candidates:
        found = context.find(candidate, folder)
        if found is not None:
            return [found]
    if skip:
        return []
    raise LookupFailed("No file was found when using first_found.")


def _names(value: Any) -> list[str]:
    """A list of names from a list, or from a string split on commas and semicolons."""
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return [name for name in re.split(r"[,;]", str(value)) if name] if value is not None else []


def _joined(files: list[str], paths: list[str]) -> list[str]:
    return [os.path.join(path, name) for path in paths for name in files] if paths else files


def _folder_of(action: str) -> str:
    """The folder ``with_first_found`` searches for a task running ``action``."""
    for word, folder in (("template", "templates"), ("var", "vars")):
        if word in action:
            return folder
    return "files"


def _locate(context: LookupContext, name: str, folder: str) -> str:
    path = context.find(name, folder)
    if path is None or os.path.isdir(path):
        raise LookupFailed(f"could not locate file in lookup: {name}")
    return path


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except OSError as error:
        raise LookupFailed(f"could not read {path}: {error.strerror}") from None


FUNCTIONS: dict[str, Callable[..., list[Any]]] = {
    "file": file, "template": template, "fileglob": fileglob, "first_found": first_found,
}
