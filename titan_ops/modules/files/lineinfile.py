"""``lineinfile``: make sure one line is in a file (or no line matching a pattern is).

One remote command reads the file's stat and content; the edit is computed on
the controller; a change is written like copy writes (one more command).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files import modes
from titan_ops.modules.files.modes import diff_octal
from titan_ops.modules.files.attributes import GROUP_SCHEMA, OWNER_SCHEMA, Attributes, attribute_diff, \
    default_permissions, parse_umask
from titan_ops.modules.files.paths import PATH_REQUIRED, path_of, path_properties
from titan_ops.modules.files.remote_file import FileStat, assign, content_line, parse_content, parse_stat, \
    run_script, sha1, stat_line
from titan_ops.modules.files.writer import Change, WritePlan, carry_out, validate_refusal


_ATTRIBUTES_CHANGED = "ownership, perms or SE linux context changed"


@dataclass(frozen=True)
class FileText:
    """The file to edit: where a symbolic link at the path leads (the link stays), its stat and bytes."""

    umask: int
    target: str
    stat: FileStat | None
    content: bytes | None


@dataclass(frozen=True)
class Edit:
    """The file's lines after the edit, and what was done."""

    lines: list[bytes]
    msg: str
    found: int | None = None


def write_properties(reported_as: str) -> dict[str, Any]:
    """The schema properties of how an edited file is written: backup, validate, mode, owner, group."""
    return {
        "backup": {"type": "boolean", "default": False,
                   "description": "Keep the file replaced beside it as '<path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~' "
                                  f"(reported as {reported_as})."},
        "validate": {"type": "string",
                     "description": "A command run on the new content before it replaces the file, '%s' "
                                    "standing for the temporary file (without it, writing fails); if it fails, "
                                    "the file is left untouched and the task fails."},
        "mode": modes.mode_schema(),
        "owner": OWNER_SCHEMA,
        "group": GROUP_SCHEMA,
    }


def write_edit(host: HostContext, decision: Decision, backup_key: str = "backup_file",
               with_stat: bool = False) -> dict[str, Any]:
    """Carry out an :func:`edit_decision`: its result with the backup kept under ``backup_key`` (and with
    ``with_stat`` the file's mode, owner, size...), or the failure of validate (Ansible's lineinfile, replace,
    blockinfile and assemble report rc and stderr in msg alone)."""
    refusal = validate_refusal(decision.plan)
    if refusal is not None:
        return refusal
    outcome = carry_out(host, decision.plan)
    if outcome.invalid_status is not None:
        error = outcome.validate_stderr
        return {"failed": True, "changed": False,
                "msg": f"failed to validate: rc:{outcome.invalid_status} error:{error}"}
    result = {**decision.result, **(outcome.stat.attributes() if with_stat and outcome.stat is not None else {})}
    if backup_key == "backup":
        return {**result, "backup": outcome.backup_file or ""}
    return {**result, **({"backup_file": outcome.backup_file} if outcome.backup_file else {})}


def read_text(host: HostContext, path: str) -> FileText:
    """The file at ``path`` (where a symbolic link there leads), in one remote command."""
    return parse_text(run_script(host, text_script(path)))


def text_script(path: str) -> str:
    """The script behind :func:`read_text`: four lines (a script may print more after them)."""
    return "\n".join([assign(p=path), "umask", 'if [ -L "$p" ]; then p=$(readlink -m -- "$p"); fi; echo "$p"',
                      stat_line("p"), content_line("p")])


def parse_text(lines: list[str]) -> FileText:
    """The :class:`FileText` of :func:`text_script`'s first four lines."""
    return FileText(parse_umask(lines[0]), lines[1], parse_stat(lines[2]), parse_content(lines[3]))


class LineInFile(Module):
    """Ensure a line is present (replacing the line a regexp matches) or absent."""

    name = "lineinfile"
    path_args = ("path", "dest", "name")
    description = ("Ensure a particular line is in a file, replacing the last line a regular expression "
                   "matches, or that no line matching it is left.")
    schema = {
        "type": "object",
        "properties": {
            **path_properties("The remote file to edit. A symbolic link is followed: the file it leads to "
                              "is edited (and gets mode and owner) and the link stays."),
            "regexp": {"type": "string", "format": "regex",
                       "description": "A Python regular expression searched in each line. With state present, "
                                      "the last matching line is replaced by line; with state absent, every "
                                      "matching line is removed. With state absent, give regexp or line."},
            "search_string": {"type": "string",
                              "description": "A literal string searched in each line, as regexp is (not with regexp "
                                             "nor backrefs)."},
            "line": {"type": "string",
                     "description": "The line to insert or to replace with; required with state present. With "
                                    "state absent and no regexp, the lines equal to it are removed."},
            "state": {"enum": ["present", "absent"], "default": "present",
                      "description": "Whether the line should be there or not."},
            "insertafter": {"type": "string",
                            "description": "When no line matches regexp (nor equals line): insert after the last "
                                           "line matching this regular expression, or at the end with 'EOF' "
                                           "(default; also when nothing matches). Not with insertbefore. A last "
                                           "line without a newline gets one first (Ansible would merge the two)."},
            "insertbefore": {"type": "string",
                             "description": "When no line matches regexp (nor equals line): insert before the last "
                                            "line matching this regular expression, or at the start with 'BOF'. "
                                            "Not with insertafter."},
            "firstmatch": {"type": "boolean", "default": False,
                           "description": "Use the first line matching insertafter/insertbefore (and regexp) "
                                          "instead of the last."},
            "backrefs": {"type": "boolean", "default": False,
                         "description": "Expand regexp's groups (\\1, \\g<name>) in line; when regexp matches "
                                        "nothing the file is left unchanged. Requires regexp."},
            "create": {"type": "boolean", "default": False,
                       "description": "Create the file when it does not exist (state present)."},
            **write_properties(reported_as="backup"),
        },
        **PATH_REQUIRED,
        "allOf": [
            {"not": {"required": ["insertafter", "insertbefore"]}},
            {"not": {"required": ["regexp", "search_string"]}},
            {"not": {"required": ["backrefs", "search_string"]}},
            {"if": {"properties": {"state": {"const": "absent"}}, "required": ["state"]},
             "then": {"anyOf": [{"required": ["regexp"]}, {"required": ["search_string"]}, {"required": ["line"]}]},
             "else": {"required": ["line"]}},
            {"if": {"properties": {"backrefs": {"const": True}}, "required": ["backrefs"]},
             "then": {"required": ["regexp"]}},
        ],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> FileText:
        return read_text(host, path_of(args))

    def decide(self, args: dict[str, Any], state: FileText, host: HostContext) -> Decision:
        decision = self._decision(args, state)
        warning = _empty_pattern_warning(args)
        if warning is not None:
            decision.result["warnings"] = [warning]
        return decision

    def _decision(self, args: dict[str, Any], state: FileText) -> Decision:
        current, content = state.stat, state.content
        path = path_of(args)
        present = args.get("state", "present") == "present"
        refusal = _refusal(path, present, args.get("create", False), current, content)
        if refusal is not None:
            return refusal
        before = content or b""
        try:
            edit = _present(before, args) if present else _absent(before, args)
        except re.error as error:
            return Decision(False, {"msg": f"bad regular expression or back-reference: {error}"}, failed=True)
        after = b"".join(edit.lines)
        result: dict[str, Any] = {"msg": edit.msg, "backup": ""}
        if edit.found is not None:
            result["found"] = edit.found
        return edit_decision(state, path, args, after, result, header=f"{path} (content)")

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return write_edit(host, decision, backup_key="backup")


def edit_decision(state: FileText, path: str, args: dict[str, Any], after: bytes, result: dict[str, Any],
                  header: str) -> Decision:
    """Give the file of ``state`` the content ``after`` (written as copy writes, when it differs) and the
    mode and owner ``args`` ask for; ``result['msg']`` says what changed (``header`` names the diff)."""
    umask, target, current = state.umask, state.target, state.stat
    before = state.content or b""
    base = current.permissions if current is not None else default_permissions(umask, False)
    requested = Attributes.from_args(args, umask)
    attributes = dataclasses.replace(requested, mode=requested.mode_for(base, False))
    if current is not None:
        old, new = attributes.changes(path, current)
    elif attributes.mode not in (None, base):
        old, new = {"path": path, "mode": diff_octal(base)}, {"path": path, "mode": diff_octal(attributes.mode)}
    else:
        old, new = {}, {}
    if old:
        result["msg"] = f"{result['msg']} and {_ATTRIBUTES_CHANGED}" if result.get("msg") else _ATTRIBUTES_CHANGED
    if current is not None and after == before:
        change = Change(target, attributes=attributes, current=current)
        return Decision(bool(old), result, diff=attribute_diff(old, new), plan=change)
    diff = [{"before": before.decode(errors="replace"), "after": after.decode(errors="replace"),
             "before_header": header, "after_header": header}, *attribute_diff(old, new)]
    plan = WritePlan(path=target, mode=base if attributes.mode is None else attributes.mode, attributes=attributes,
                     keep_ids=None if current is None else (current.uid, current.gid),
                     backup=bool(args.get("backup")) and current is not None, validate=args.get("validate"),
                     make_parent=current is None, checksum=sha1(after), backup_name=path)
    return Decision(True, result, diff=diff, plan=Change(target, plan, after))


def _empty_pattern_warning(args: dict[str, Any]) -> str | None:
    """Ansible's warning when regexp or search_string is empty (it matches every line)."""
    if args.get("regexp") == "":
        return ("The regular expression is an empty string, which will match every line in the file. This may have "
                "unintended consequences, such as replacing the last line in the file rather than appending. If "
                "this is desired, use '^' to match every line in the file and avoid this warning.")
    if args.get("search_string") == "":
        return ("The search string is an empty string, which will match every line in the file. This may have "
                "unintended consequences, such as replacing the last line in the file rather than appending.")
    return None


def _refusal(path: str, present: bool, create: bool, current: FileStat | None,
             content: bytes | None) -> Decision | None:
    """The outcome when the file cannot be edited (or, absent, need not be)."""
    if current is None:
        if not present:
            return Decision(False, {"msg": "file not present", "backup": ""})
        if not create:
            return Decision(False, {"msg": f"Destination {path} does not exist !", "rc": 257}, failed=True)
        return None
    if current.kind != "file":
        return Decision(False, {"msg": f"Path {path} is a {current.kind}", "rc": 256}, failed=True)
    if content is None:
        return Decision(False, {"msg": f"Cannot read {path}"}, failed=True)
    return None


def _present(content: bytes, args: dict[str, Any]) -> Edit:
    """Ansible's rules: replace the last line regexp matches; else leave a line equal to ``line``;
    else insert it after/before the anchor (or at the end)."""
    lines = content.splitlines(keepends=True)
    line = args["line"].encode()
    first = args.get("firstmatch", False)
    target, match = _find(lines, _searched(args), first)
    if target is None:
        target = max((i for i, text in enumerate(lines) if text.rstrip(b"\r\n") == line), default=None)
    if target is not None:
        new = match.expand(line) if args.get("backrefs") and match else line
        replaced = new + b"\n" if not new.endswith(b"\n") else new
        if lines[target] == replaced:
            return Edit(lines, "")
        return Edit(lines[:target] + [replaced] + lines[target + 1:], "line replaced")
    if args.get("backrefs"):
        return Edit(lines, "")
    return Edit(_insert(lines, line + b"\n", args, first), "line added")


def _insert(lines: list[bytes], new: bytes, args: dict[str, Any], first: bool) -> list[bytes]:
    """``lines`` with ``new`` after (before) the last (first) line insertafter (insertbefore)
    matches; at the end when nothing matches. Unlike Ansible, a last line without a newline
    gets one before a line is inserted after it, instead of being merged with it."""
    after, before = args.get("insertafter"), args.get("insertbefore")
    if before == "BOF" or after == "BOF":
        return [new, *lines]
    anchor, offset = (after, 1) if after not in (None, "EOF") else (before, 0)
    position = len(lines)
    if anchor is not None:
        pattern = re.compile(anchor.encode())
        matches = [index for index, text in enumerate(lines) if pattern.search(text)]
        if matches:
            position = (matches[0] if first else matches[-1]) + offset
    if position == len(lines) and lines and not lines[-1].endswith((b"\n", b"\r")):
        lines = [*lines[:-1], lines[-1] + b"\n"]
    return lines[:position] + [new] + lines[position:]


def _absent(content: bytes, args: dict[str, Any]) -> Edit:
    lines = content.splitlines(keepends=True)
    searched = _searched(args)
    regexp = re.compile(searched.encode()) if searched is not None else None
    line = args.get("line", "").encode()
    kept = [text for text in lines if not (regexp.search(text) if regexp else text.rstrip(b"\r\n") == line)]
    removed = len(lines) - len(kept)
    return Edit(kept, f"{removed} line(s) removed" if removed else "", found=removed)


def _searched(args: dict[str, Any]) -> str | None:
    """The regular expression lines are searched with: regexp, or search_string taken literally."""
    if args.get("search_string") is not None:
        return re.escape(args["search_string"])
    return args.get("regexp")


def _find(lines: list[bytes], regexp: str | None, first: bool) -> tuple[int | None, re.Match[bytes] | None]:
    """The index and match of the last (or first) line ``regexp`` matches."""
    if regexp is None:
        return None, None
    pattern = re.compile(regexp.encode())
    found: tuple[int | None, re.Match[bytes] | None] = (None, None)
    for index, text in enumerate(lines):
        match = pattern.search(text)
        if match:
            found = (index, match)
            if first:
                break
    return found
