"""``template``: render a jinja2 file on the controller with the host's variables, then copy it."""

from __future__ import annotations

import ast
import datetime
import os
import posixpath
import pwd
import socket
from collections import ChainMap
from typing import Any

import jinja2

from titan_ops import template_files
from titan_ops.errors import TemplateError
from titan_ops.modules.base import HostContext
from titan_ops.modules.files.copy import WRITE_PROPERTIES, Copy, Source
from titan_ops.modules.files.local import find_local, read_local

NEWLINES = ("\n", "\r", "\r\n")
DELIMITERS = {
    "block_start_string": ("{%", "opens a block"),
    "block_end_string": ("%}", "closes a block"),
    "variable_start_string": ("{{", "opens an expression"),
    "variable_end_string": ("}}", "closes an expression"),
    "comment_start_string": ("{#", "opens a comment"),
    "comment_end_string": ("#}", "closes a comment"),
}
"""The template's delimiters: an argument, or a first line ``#jinja2: name: 'value', ...`` in the template
(which wins, as in Ansible)."""
HEADER = "#jinja2:"
_HEADER_SETTINGS = frozenset({*DELIMITERS, "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline",
                              "line_statement_prefix", "line_comment_prefix"})
_ESCAPED_NEWLINES = {"\\n": "\n", "\\r": "\r", "\\r\\n": "\r\n"}


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
            "newline_sequence": {"enum": [*NEWLINES, *_ESCAPED_NEWLINES], "default": "\n",
                                 "description": "The line ending written in the result ('\\\\n', '\\\\r' "
                                                "and '\\\\r\\\\n' as written in single quotes too)."},
            **{name: {"type": "string", "minLength": 1, "default": default,
                      "description": f"The string that {what} in the template (jinja2's {name})."}
               for name, (default, what) in DELIMITERS.items()},
            "output_encoding": {"type": "string", "default": "utf-8",
                                "description": "The encoding the result is written in (a Python codec name: "
                                               "utf-8, cp1252, utf-16, ...; empty: utf-8); the template itself "
                                               "is UTF-8."},
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
        encoding = args.get("output_encoding") or "utf-8"
        try:
            data = text.encode(encoding)
        except LookupError:
            raise TemplateError(f"unknown output_encoding '{encoding}'") from None
        except UnicodeEncodeError as error:
            raise TemplateError(f"the rendered {path} cannot be written in {encoding}: {error.reason}") from None
        return Source(data, header=path, name=posixpath.basename(path), mode=mode)


def render(host: HostContext, source: str, path: str, args: dict[str, Any]) -> str:
    """``source`` rendered with the host's variables and Ansible's template variables."""
    settings = {"trim_blocks": args.get("trim_blocks", True), "lstrip_blocks": args.get("lstrip_blocks", False),
                "newline_sequence": _ESCAPED_NEWLINES.get(args.get("newline_sequence", "\n"),
                                                          args.get("newline_sequence", "\n")),
                **{name: args.get(name, default) for name, (default, _) in DELIMITERS.items()}}
    source, header = _header(source, path)
    settings.update(header)
    newline = settings.pop("newline_sequence")
    environment = template_files.environment(host.templar.environment,
                                             template_files.search_path(path, host.local_folders),
                                             tuple(sorted(settings.items())))
    try:
        template = template_files.compiled(environment, source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"template syntax error in {path}:{error.lineno}: {error.message}") from None
    extra = {
        "template_path": path,
        "template_fullpath": os.path.abspath(path),
        "template_destpath": args["dest"],
        "template_host": socket.gethostname(),
        "template_mtime": datetime.datetime.fromtimestamp(os.path.getmtime(path)),
        "template_uid": _owner(path),
        "template_run_date": datetime.datetime.now(),
    }
    # ansible_managed: the play's own value when it sets one, as in Ansible
    text = host.templar.render_file(template, ChainMap(extra, host.variables, {"ansible_managed": "Ansible managed"}),
                                    path)
    text += "\n" * (_trailing_newlines(source) - _trailing_newlines(text))
    return text if newline == "\n" else text.replace("\n", newline)


def _owner(path: str) -> str:
    """The name of the template file's owner on the controller (its uid when it has no name)."""
    uid = os.stat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _header(source: str, path: str) -> tuple[str, dict[str, Any]]:
    """The template without its ``#jinja2: name: value, ...`` first line, and the settings that line gives."""
    if not source.startswith(HEADER):
        return source, {}
    line, newline, rest = source.partition("\n")
    if not newline:
        raise TemplateError(f"{path}: the {HEADER} line must be followed by a newline")
    settings = {}
    for pair in line[len(HEADER):].split(","):
        name, colon, value = pair.partition(":")
        name = name.strip()
        if not colon:
            raise TemplateError(f"{path}: Missing key-value separator ':' in the {HEADER} setting {pair.strip()!r}")
        if name not in _HEADER_SETTINGS:
            raise TemplateError(f"{path}: unknown {HEADER} setting {name!r}")
        try:
            settings[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise TemplateError(f"{path}: the {HEADER} setting {name} is not a Python literal: {value.strip()}") \
                from None
    return rest, settings


def _trailing_newlines(text: str) -> int:
    return len(text) - len(text.rstrip("\n"))
