"""``template``: render a jinja2 file on the controller with the host's variables, then copy it."""

from __future__ import annotations

import functools
import os
import posixpath
import socket
from collections import ChainMap
from typing import Any

import jinja2

from titan_ops.errors import TemplateError
from titan_ops.modules.base import HostContext
from titan_ops.modules.files.copy import WRITE_PROPERTIES, Copy, Source
from titan_ops.modules.files.local import find_local, read_local

NEWLINES = ("\n", "\r", "\r\n")


class Template(Copy):
    """Render a template and copy the result (everything after rendering is copy's)."""

    name = "template"
    description = ("Render a jinja2 template on the controller with the host's variables and write the result "
                   "to the host like copy (atomic, mode, owner, backup, validate).")
    schema = {
        "type": "object",
        "properties": {
            "src": {"type": "string", "minLength": 1,
                    "description": "The jinja2 template on the controller: absolute, or relative to the "
                                   "playbook's templates/ folder, then to the playbook's folder."},
            **WRITE_PROPERTIES,
            "trim_blocks": {"type": "boolean", "default": True,
                            "description": "Remove the first newline after a block tag ({% ... %})."},
            "lstrip_blocks": {"type": "boolean", "default": False,
                              "description": "Strip spaces and tabs before a block tag at the start of a line."},
            "newline_sequence": {"enum": list(NEWLINES), "default": "\n",
                                 "description": "The line ending written in the result."},
        },
        "required": ["src", "dest"],
        "additionalProperties": False,
    }

    def source(self, host: HostContext, args: dict[str, Any]) -> Source:
        path = find_local(host.local_folders, args["src"], "templates")
        data, mode = read_local(path)
        try:
            source = data.decode()
        except UnicodeDecodeError as error:
            raise TemplateError(f"{path} is not UTF-8 text: {error}") from None
        text = render(host, source, path, args)
        return Source(text.encode(), header=path, name=posixpath.basename(path), mode=mode)


def render(host: HostContext, source: str, path: str, args: dict[str, Any]) -> str:
    """``source`` rendered with the host's variables and Ansible's template variables."""
    searchpath = (os.path.dirname(path),
                  *(place for folder in host.local_folders for place in (os.path.join(folder, "templates"), folder)))
    environment = _environment(host.templar.environment, args.get("trim_blocks", True),
                               args.get("lstrip_blocks", False), searchpath)
    try:
        template = _compile(environment, source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"template syntax error in {path}:{error.lineno}: {error.message}") from None
    extra = {
        "template_path": path,
        "template_fullpath": os.path.abspath(path),
        "template_destpath": args["dest"],
        "template_host": socket.gethostname(),
        "ansible_managed": "Ansible managed",
    }
    text = host.templar.render_file(template, ChainMap(extra, host.variables), path)
    text += "\n" * (_trailing_newlines(source) - _trailing_newlines(text))
    newline = args.get("newline_sequence", "\n")
    return text if newline == "\n" else text.replace("\n", newline)


def _trailing_newlines(text: str) -> int:
    return len(text) - len(text.rstrip("\n"))


@functools.lru_cache(maxsize=16)
def _environment(base: jinja2.Environment, trim_blocks: bool, lstrip_blocks: bool,
                 searchpath: tuple[str, ...]) -> jinja2.Environment:
    """The run's environment (filters, tests, undefined handling) with the template module's whitespace
    options, finding ``{% include %}``-d templates beside the template, then in templates/ and the
    playbook's folder. As in Ansible, an included template loses its final newline; the template's
    own final newlines are put back after rendering."""
    return base.overlay(trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks, keep_trailing_newline=False,
                        loader=jinja2.FileSystemLoader(list(searchpath)))


@functools.lru_cache(maxsize=64)
def _compile(environment: jinja2.Environment, source: str) -> jinja2.Template:
    """Compiled once per run and source, not once per host."""
    return environment.from_string(source)
