"""``copy``: put a file on the host from the controller (``src``), from text
(``content``) or from another path on the host (``remote_src``).

Unchanged file: one remote command (stat, checksum and, in diff mode, the old
content, together). Changed file: one more, which writes, sets mode and owner,
validates, backs up and renames in one go. A new file in an existing folder (the
guess, outside check mode): one command, which writes behind a test that the
file is still not there, and otherwise only inspects.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import posixpath
import shlex
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

from titan_ops.connection.base import InputOnRequest
from titan_ops.connection.payload import Payload, size_of
from titan_ops.modules.base import Attempt, Decision, Guess, HostContext, Module
from titan_ops.modules.files import modes
from titan_ops.modules.files.attributes import GROUP_SCHEMA, OWNER_SCHEMA, Attributes, attribute_diff, \
    default_permissions, parse_umask
from titan_ops.modules.files.local import find_local, read_local, read_source
from titan_ops.vault import is_encrypted, open_file
from titan_ops.modules.files.remote_file import ACTED, GUESSED_UMASK, UMASK_TEST, FileStat, act_or_inspect_script, \
    assign, checksum_line, md5, parse_content, parse_stat, run_script, script_lines, sha1, stat_line
from titan_ops.modules.files.writer import Change, WriteOutcome, WritePlan, carry_out, write_failure, write_outcome, \
    write_script

DIFF_LIMIT = 104448
"""Files larger than this get no content diff (Ansible's limit)."""

WRITE_PROPERTIES: dict[str, Any] = {
    "dest": {"type": "string", "minLength": 1,
             "description": "Remote path to write. A path ending in '/' or naming an existing directory "
                            "receives the file under the source's name (a missing directory ending in '/' "
                            "is created)."},
    "mode": modes.mode_schema(preserve=True),
    "owner": OWNER_SCHEMA,
    "group": GROUP_SCHEMA,
    "backup": {"type": "boolean", "default": False,
               "description": "Keep the file replaced beside it as '<dest>.<pid>.<YYYY-MM-DD@HH:MM:SS>~' "
                              "(reported as backup_file)."},
    "validate": {"type": "string", "pattern": "%s",
                 "description": "A command run on the new content before it replaces dest, '%s' standing for "
                                "the temporary file (e.g. 'visudo -cf %s'); if it fails, dest is left "
                                "untouched and the task fails."},
    "follow": {"type": "boolean", "default": False,
               "description": "When dest is a symbolic link, write to the file it points to; by default the "
                              "link itself is replaced by a regular file."},
    "force": {"type": "boolean", "default": True,
              "description": "Replace dest when its content differs. With false, an existing dest is left "
                             "alone whatever its content."},
}
"""The arguments copy and template share."""


@dataclass(frozen=True)
class Source:
    """What is to be written: its content (None when it is a path on the host; a :class:`LocalFile`
    for a large controller file, read as it is sent), its names, and its digests when already known."""

    data: Payload | None
    header: str
    name: str | None = None
    mode: int | None = None
    remote_path: str | None = None
    digests: tuple[str, str] | None = None
    """(SHA-1, MD5) of ``data``, when computed beforehand."""

    @functools.cached_property
    def checksum(self) -> str | None:
        """SHA-1 of the data, computed once (None for a path on the host)."""
        if self.digests is not None:
            return self.digests[0]
        return None if not isinstance(self.data, bytes) else sha1(self.data)

    @functools.cached_property
    def md5sum(self) -> str | None:
        """MD5 of the data (None for a path on the host)."""
        if self.digests is not None:
            return self.digests[1]
        return None if not isinstance(self.data, bytes) else md5(self.data)


@dataclass(frozen=True)
class CopyState:
    """Where the file goes and what is there now: ``folder`` (dest's folder) is dir, missing or
    other; ``stat`` follows a link at the target, which ``replaces_link`` says the write replaces."""

    source: Source
    target: str
    folder: str
    stat: FileStat | None
    checksum: str | None
    umask: int
    replaces_link: bool = False
    before: bytes | None = None
    source_stat: FileStat | None = None
    source_checksum: str | None = None


class Copy(Module):
    """Copy a file to the host."""

    name = "copy"
    path_args = ("dest",)
    description = ("Copy a file from the controller, from inline content, or from another path on the host; "
                   "atomically, with mode, owner, backup and validation.")
    schema = {
        "type": "object",
        "properties": {
            "src": {"type": "string", "minLength": 1,
                    "description": "The file to copy: a controller path, absolute or relative to the playbook's "
                                   "files/ folder, then to the playbook's folder; with remote_src, a path on "
                                   "the host. Directories are not supported."},
            "content": {"type": ["string", "number", "boolean", "object", "array"],
                        "description": "Text written to dest as is, instead of src (a list or mapping is "
                                       "written as JSON)."},
            "decrypt": {"type": "boolean", "default": True,
                        "description": "Decrypt a vault-encrypted src with the run's vault passwords."},
            "remote_src": {"type": "boolean", "default": False,
                           "description": "src is a path on the host, copied there without passing through "
                                          "the controller."},
            **WRITE_PROPERTIES,
        },
        "required": ["dest"],
        "oneOf": [{"required": ["src"]}, {"required": ["content"]}],
        "additionalProperties": False,
    }

    def source(self, host: HostContext, args: dict[str, Any]) -> Source:
        """The content to write (read or rendered on the controller)."""
        if "content" in args:
            content = args["content"]
            text = content if isinstance(content, str) else json.dumps(content)
            return Source(text.encode(), header=args["dest"])
        if args.get("remote_src"):
            return Source(None, header=args["src"], name=posixpath.basename(args["src"]), remote_path=args["src"])
        path = find_local(host.local_folders, args["src"], "files")
        local = read_source(path)
        if args.get("decrypt", True) and is_encrypted(local.head):
            return Source(open_file(read_local(path)[0], path, host.vault), header=path,
                          name=posixpath.basename(path), mode=local.mode)
        return Source(local.content, header=path, name=posixpath.basename(path), mode=local.mode,
                      digests=(local.sha1, local.md5))

    def inspect(self, host: HostContext, args: dict[str, Any]) -> CopyState:
        source = self.source(host, args)
        with_before = host.diff_mode and source.data is not None
        return _inspected(run_script(host, _inspect_script(args, source, with_before)), source, with_before)

    def guess(self, host: HostContext, args: dict[str, Any]) -> Guess | None:
        """dest not there yet, in an existing folder (under the usual umask, if the mode depends on it)."""
        dest = args["dest"]
        if args.get("remote_src") or dest.endswith("/"):
            return None
        source = self.source(host, args)
        state = CopyState(source, dest, "dir", None, None, GUESSED_UMASK)
        test = [f"[ ! -e {shlex.quote(dest)} ]", f"[ ! -L {shlex.quote(dest)} ]",
                f"[ -d {shlex.quote(posixpath.dirname(dest) or '.')} ]"]
        mode = args.get("mode")
        if mode is None or mode == "preserve" or modes.is_symbolic(mode):
            test.append(UMASK_TEST)
        return Guess(state, " && ".join(test))

    def act_or_inspect(self, host: HostContext, args: dict[str, Any], decision: Decision,
                       guess: Guess) -> Attempt:
        change: Change = decision.plan
        assert change.write is not None and change.data is not None
        source = guess.state.source
        with_before = host.diff_mode
        script = act_or_inspect_script(guess.test, write_script(change.write, change.data, on_request=True),
                                       _inspect_script(args, source, with_before))
        result = host.run(script, stdin=InputOnRequest(change.data))
        acted, _, rest = result.stdout.partition("\n")
        if acted == ACTED:
            outcome = write_outcome(change.write, dataclasses.replace(result, stdout=rest))
            return Attempt(True, result=_written(decision, outcome))
        return Attempt(False, state=_inspected(script_lines(result)[1:], source, with_before))

    def decide(self, args: dict[str, Any], state: CopyState, host: HostContext) -> Decision:
        problem = _problem(args, state, host.check_mode)
        if problem:
            return Decision(False, {"msg": problem, "dest": args["dest"]}, failed=True)
        target, current = state.target, state.stat
        if current is not None and not args.get("force", True):
            return Decision(False, {"dest": target, "src": state.source.header, "msg": "file already exists"})
        data = state.source.data
        checksum = state.source.checksum or state.source_checksum
        writing = current is None or state.replaces_link or state.checksum != checksum
        base = _base_permissions(state, writing)
        attributes = dataclasses.replace(Attributes.from_args(args), mode=_mode(args.get("mode"), base, state))
        result: dict[str, Any] = {"dest": target, "checksum": checksum, "diff": []}  # Ansible's keys
        if writing:
            result["src"] = state.source.header
            if data is not None:
                result.update(md5sum=state.source.md5sum, size=size_of(data))
            plan = WritePlan(path=target, mode=attributes.mode, attributes=attributes,
                             keep_ids=None if current is None else (current.uid, current.gid),
                             backup=bool(args.get("backup")) and current is not None,
                             validate=args.get("validate"), make_parent=state.folder == "missing",
                             remote_source=state.source.remote_path, checksum=checksum)
            return Decision(True, result, diff=self._diff(state), plan=Change(target, plan, data))
        before, after = attributes.changes(target, current)
        result.update(current.attributes(), path=target)
        if before:
            change = Change(target, attributes=attributes, current=current)
            return Decision(True, result, diff=attribute_diff(before, after), plan=change)
        return Decision(False, result)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return _written(decision, carry_out(host, decision.plan))

    def _diff(self, state: CopyState) -> list[dict[str, Any]]:
        """The content diff of a write (none for remote sources and files too large to show)."""
        data, before = state.source.data, state.before or b""
        if not isinstance(data, bytes) or len(data) > DIFF_LIMIT or len(before) > DIFF_LIMIT:
            return []
        entry = {"before": before.decode(errors="replace"), "after": data.decode(errors="replace"),
                 "after_header": state.source.header}
        if state.stat is not None:
            entry["before_header"] = state.target
        return [entry]


def _written(decision: Decision, outcome: WriteOutcome) -> dict[str, Any]:
    """The result of carrying out ``decision``: the file's new attributes, or validation's failure."""
    result = dict(decision.result)
    if outcome.invalid_status is not None:
        return {**result, **write_failure(outcome)}
    result.update(outcome.stat.attributes())
    result.pop("path", None)  # a written file's result names it dest, as Ansible's
    if outcome.backup_file:
        result["backup_file"] = outcome.backup_file
    return result


def _inspected(output: list[str], source: Source, with_before: bool) -> CopyState:
    """The state printed by :func:`_inspect_script`."""
    lines: Iterator[str] = iter(output)
    umask, folder, link = parse_umask(next(lines)), next(lines), next(lines) == "1"
    state = CopyState(source, next(lines), folder, parse_stat(next(lines)), _checksum(next(lines)), umask,
                      replaces_link=link)
    if with_before:
        state = dataclasses.replace(state, before=parse_content(next(lines)))
    if source.remote_path is not None:
        state = dataclasses.replace(state, source_stat=parse_stat(next(lines)),
                                    source_checksum=_checksum(next(lines)))
    return state


def _inspect_script(args: dict[str, Any], source: Source, with_before: bool) -> str:
    """One script printing: umask, what dest's folder is (dir, missing, other), whether a link at the
    target is to be replaced, the target (dest, or the file in it), its stat and checksum, [its content],
    [src's stat and checksum]."""
    dest = args["dest"]
    if dest.endswith("/") and source.name:
        target, parent = dest + source.name, dest.rstrip("/") or "/"
    else:
        target, parent = dest, posixpath.dirname(dest.rstrip("/")) or "."
    script = [assign(d=target, w=source.checksum or "-"), "umask",
              f"{assign(f=parent)}; if [ -d \"$f\" ]; then echo dir; elif [ -e \"$f\" ]; then echo other; "
              "else echo missing; fi"]
    if source.name and not dest.endswith("/"):
        script.append(f'if [ -d "$d" ]; then d="$d"/{shlex.quote(source.name)}; fi')
    resolve = 'if [ -e "$d" ]; then d=$(readlink -f -- "$d"); echo 0; else echo 1; fi' if args.get("follow") \
        else "echo 1"
    script += [f'if [ -L "$d" ]; then {resolve}; else echo 0; fi', 'echo "$d"', stat_line("d", follow=True),
               checksum_line("d")]
    if with_before:
        script.append(f'if {{ [ "$h" != "$w" ] || [ -L "$d" ]; }} && [ -f "$d" ] && [ -r "$d" ]; then printf +; '
                      f'head -c {DIFF_LIMIT + 1} -- "$d" | base64 -w0; echo; else echo -; fi')
    if source.remote_path is not None:
        script += [assign(s=source.remote_path), stat_line("s", follow=True), checksum_line("s")]
    return "\n".join(script)


def _problem(args: dict[str, Any], state: CopyState, check_mode: bool) -> str | None:
    """Why the copy cannot be done, if it cannot. A missing folder is no reason in check mode:
    an earlier task, not run in check mode, may be what creates it (Ansible reports a change)."""
    dest = args["dest"]
    if "content" in args and (dest.endswith("/") or (state.stat is not None and state.stat.kind == "directory")):
        return "can not use content with a dir as dest"
    if state.source.remote_path is not None:
        if state.source_stat is None:
            return f"Source {state.source.remote_path} not found"
        if state.source_stat.kind != "file":
            return f"Source {state.source.remote_path} is not a regular file (directories are not supported)"
    if state.stat is not None and state.stat.kind == "directory":
        return f"Destination {state.target} is a directory"
    if state.folder == "other":
        return f"Destination {posixpath.dirname(state.target)} is not a directory"
    if state.folder == "missing" and not dest.endswith("/") and not check_mode:
        return f"Destination directory {posixpath.dirname(dest)} does not exist"
    return None


def _base_permissions(state: CopyState, writing: bool) -> int:
    """The mode the file gets when no mode is asked: the umask's default for a new file; when a file
    is replaced by one copied on the host, that one's (Ansible's remote_src); else the current mode."""
    if state.stat is None:
        return default_permissions(state.umask, False)
    if writing and state.source_stat is not None:
        return state.source_stat.permissions
    return state.stat.permissions


def _mode(mode: int | str | None, base: int, state: CopyState) -> int:
    """The exact permission bits to give the file."""
    if mode is None:
        return base
    if mode == "preserve":
        source_mode = state.source_stat.permissions if state.source_stat is not None else state.source.mode
        return base if source_mode is None else source_mode
    return modes.resolve(mode, base, False, state.umask)


def _checksum(line: str) -> str | None:
    return None if line == "-" else line
