"""``replace``: every match of a regular expression in a file replaced, in the whole file or the section
between ``after`` and ``before``.

One remote command reads the file; the replacement is computed on the controller (Python's regular
expressions, as Ansible's); a change is written like copy writes (one more command).
"""

from __future__ import annotations

import re
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.lineinfile import FileText, edit_decision, read_text, write_edit, write_properties
from titan_ops.modules.files.paths import path_properties


class Replace(Module):
    """Replace what a regular expression matches in a file."""

    name = "replace"
    path_args = ("path", "dest", "name")
    description = ("Replace every match of a regular expression in a remote file (in the part between after and "
                   "before when given). A symbolic link is followed: the file it leads to is edited.")
    schema = {
        "type": "object",
        "properties": {
            **path_properties("The remote file to edit."),
            "destfile": {"type": "string", "minLength": 1, "description": "Alias of path."},
            "regexp": {"type": "string", "format": "regex",
                       "description": "A Python regular expression, matched with MULTILINE (^ and $ at each line)."},
            "replace": {"type": "string", "default": "",
                        "description": "What each match becomes; \\1 and \\g<name> stand for its groups."},
            "after": {"type": "string",
                      "description": "Only replace after the first match of this regular expression "
                                     "(DOTALL: '.' matches newlines)."},
            "before": {"type": "string",
                       "description": "Only replace before the last match of this regular expression (with after: "
                                      "the first match after it)."},
            "encoding": {"type": "string", "default": "utf-8", "description": "The file's character encoding."},
            **write_properties(reported_as="backup_file"),
        },
        "oneOf": [{"required": [alias]} for alias in ("path", "dest", "name", "destfile")],
        "required": ["regexp"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> FileText:
        return read_text(host, _path(args))

    def decide(self, args: dict[str, Any], state: FileText, host: HostContext) -> Decision:
        path = _path(args)
        if state.stat is not None and state.stat.kind == "directory":
            return Decision(False, {"rc": 256, "msg": f"Path {path} is a directory !"}, failed=True)
        if state.stat is None:
            return Decision(False, {"rc": 257, "msg": f"Path {path} does not exist !"}, failed=True)
        if state.content is None:
            return Decision(False, {"msg": f"Unable to read the contents of {path!r}."}, failed=True)
        encoding = args.get("encoding", "utf-8")
        try:
            contents = state.content.decode(encoding, errors="surrogateescape")
            replaced = _replaced(contents, args)
        except (LookupError, re.error) as error:
            return Decision(False, {"msg": f"Unable to process replace due to error: {error}"}, failed=True)
        if isinstance(replaced, str):
            return Decision(False, {"rc": 0, "msg": replaced})
        after, count = replaced
        result: dict[str, Any] = {"rc": 0, "msg": f"{count} replacements made" if after != contents else ""}
        return edit_decision(state, path, args, after.encode(encoding, errors="surrogateescape"), result,
                             header=path)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return write_edit(host, decision)


def _path(args: dict[str, Any]) -> str:
    return next(args[alias] for alias in ("path", "dest", "name", "destfile") if alias in args)


def _replaced(contents: str, args: dict[str, Any]) -> tuple[str, int] | str:
    """The contents with the replacements made and their number, or why the section was not found."""
    after, before = args.get("after"), args.get("before")
    if after and before:
        pattern = f"{after}(?P<subsection>.*?){before}"
    elif after:
        pattern = f"{after}(?P<subsection>.*)"
    elif before:
        pattern = f"(?P<subsection>.*){before}"
    else:
        pattern = ""
    start, end = 0, len(contents)
    if pattern:
        match = re.search(pattern, contents, re.DOTALL)
        if match is None:
            return f"Pattern for before/after params did not match the given file: {pattern}"
        start, end = match.start("subsection"), match.end("subsection")
    section, count = re.subn(re.compile(args["regexp"], re.MULTILINE), args.get("replace", ""),
                             contents[start:end])
    return contents[:start] + section + contents[end:], count
