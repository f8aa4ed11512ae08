"""``blockinfile``: a block of lines between two marker lines kept in a file (or removed).

One remote command reads the file; the edit is computed on the controller, by Ansible's rules; a
change is written like copy writes (one more command).
"""

from __future__ import annotations

import re
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.lineinfile import FileText, edit_decision, read_text, write_edit, write_properties
from titan_ops.modules.files.paths import path_properties

_ALIASES = ("path", "dest", "name", "destfile")
_NEWLINE = b"\n"


class BlockInFile(Module):
    """Insert, update or remove a block of lines between marker lines."""

    name = "blockinfile"
    path_args = ("path", "dest", "name")
    description = ("Insert, update or remove a block of lines surrounded by marker lines in a remote file. A "
                   "symbolic link is followed: the file it leads to is edited.")
    schema = {
        "type": "object",
        "properties": {
            **path_properties("The remote file to edit."),
            "destfile": {"type": "string", "minLength": 1, "description": "Alias of path."},
            "state": {"enum": ["present", "absent"], "default": "present",
                      "description": "Whether the block should be there (absent: the block and its markers are "
                                     "removed)."},
            "block": {"type": "string", "default": "",
                      "description": "The lines between the markers; empty removes the block."},
            "content": {"type": "string", "description": "Alias of block."},
            "marker": {"type": "string", "default": "# {mark} ANSIBLE MANAGED BLOCK",
                       "description": "The marker line; {mark} becomes marker_begin or marker_end."},
            "marker_begin": {"type": "string", "default": "BEGIN", "description": "{mark} of the first marker."},
            "marker_end": {"type": "string", "default": "END", "description": "{mark} of the last marker."},
            "insertafter": {"type": "string",
                            "description": "Where a block not there yet goes: after the last line matching this "
                                           "regular expression, or 'EOF' (the default: at the end)."},
            "insertbefore": {"type": "string",
                             "description": "Where a block not there yet goes: before the last line matching this "
                                            "regular expression, or 'BOF' (at the start)."},
            "append_newline": {"type": "boolean", "default": False,
                               "description": "Add an empty line after the block unless one is there."},
            "prepend_newline": {"type": "boolean", "default": False,
                                "description": "Add an empty line before the block unless one is there."},
            "create": {"type": "boolean", "default": False,
                       "description": "Create the file (and its folders) when it does not exist."},
            **write_properties(reported_as="backup_file"),
        },
        "oneOf": [{"required": [alias]} for alias in _ALIASES],
        "allOf": [{"not": {"required": ["insertafter", "insertbefore"]}},
                  {"not": {"required": ["block", "content"]}}],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> FileText:
        return read_text(host, _path(args))

    def decide(self, args: dict[str, Any], state: FileText, host: HostContext) -> Decision:
        path = _path(args)
        present = args.get("state", "present") == "present"
        if state.stat is not None and state.stat.kind == "directory":
            return Decision(False, {"rc": 256, "msg": f"Path {path} is a directory !"}, failed=True)
        if state.stat is None:
            if not args.get("create", False):
                return Decision(False, {"rc": 257, "msg": f"Path {path} does not exist !"}, failed=True)
            if not present:
                return Decision(False, {"msg": f"File {path} not present"})
        elif state.content is None:
            return Decision(False, {"msg": f"Cannot read {path}"}, failed=True)
        try:
            lines, inserted = _edited(state.content, args, present)
        except re.error as error:
            return Decision(False, {"msg": f"bad regular expression: {error}"}, failed=True)
        after = b"".join(lines)
        if after == state.content:
            msg = ""
        else:
            msg = "File created" if state.content is None else "Block inserted" if inserted else "Block removed"
        return edit_decision(state, path, args, after, {"msg": msg}, header=f"{path} (content)")

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return write_edit(host, decision)


def _path(args: dict[str, Any]) -> str:
    return next(args[alias] for alias in _ALIASES if alias in args)


def _edited(original: bytes | None, args: dict[str, Any], present: bool) -> tuple[list[bytes], bool]:
    """The file's lines with the block put in place (or taken out), and whether a block is in them."""
    lines = original.splitlines(keepends=True) if original is not None else []
    marker = args.get("marker", "# {mark} ANSIBLE MANAGED BLOCK").encode()
    first = re.sub(rb"{mark}", args.get("marker_begin", "BEGIN").encode(), marker) + _NEWLINE
    last = re.sub(rb"{mark}", args.get("marker_end", "END").encode(), marker) + _NEWLINE
    block = (args.get("block") or args.get("content") or "").encode()
    if present and block:
        block = block if block.endswith(_NEWLINE) else block + _NEWLINE
        block_lines = [first, *block.splitlines(keepends=True), last]
    else:
        block_lines = []
    begin = max((i for i, line in enumerate(lines) if line == first), default=None)
    end = max((i for i, line in enumerate(lines) if line == last), default=None)
    if begin is None or end is None:
        position = _insertion_point(original, lines, args)
    else:
        position = min(begin, end)
        lines[position:max(begin, end) + 1] = []
    if position > 0 and not lines[position - 1].endswith(_NEWLINE):
        lines[position - 1] += _NEWLINE
    if present and args.get("prepend_newline") and position != 0 and lines[position - 1] != _NEWLINE:
        lines[position:position] = [_NEWLINE]
        position += 1
    lines[position:position] = block_lines
    following = position + len(block_lines)
    if present and args.get("append_newline") and following < len(lines) and lines[following] != _NEWLINE:
        lines[following:following] = [_NEWLINE]
    return lines, bool(block_lines)


def _insertion_point(original: bytes | None, lines: list[bytes], args: dict[str, Any]) -> int:
    """Where a block not in the file goes: after (before) the last line insertafter (insertbefore)
    matches, else at the end; at the start for insertbefore BOF. A pattern with (?m) is searched in
    the whole file, once."""
    after, before = args.get("insertafter"), args.get("insertbefore")
    if after is None and before is None:
        after = "EOF"
    anchor = after if after not in (None, "EOF") else before if before not in (None, "BOF") else None
    if anchor is None:
        return 0 if before is not None else len(lines)
    pattern = re.compile(anchor.encode())
    found = None
    if pattern.flags & re.MULTILINE:
        match = pattern.search(original or b"")
        if match:
            text = (original or b"").decode(errors="surrogateescape")
            found = text.count("\n", 0, match.end() if after else match.start())
    else:
        found = max((i for i, line in enumerate(lines) if pattern.search(line)), default=None)
    if found is None:
        return len(lines)
    return found + 1 if after is not None else found
