"""Atomic remote writes in one command: data on stdin -> temp file beside the target (0600) ->
attributes -> size check -> ``validate`` -> backup -> rename; then the new file's stat.

One script does it all, so a changed file costs one remote command whatever
the options, and ``become`` applies to the write as to any command. It spends
few processes: ``cat`` into the temp file, ``cp --attributes-only`` of the
replaced file's ACLs and extended attributes, ``chmod`` (and ``chown`` if asked),
one ``stat`` that both checks that all the data arrived and is reported, and
``mv``. An interrupted write leaves no temp file (see connection.transfer).
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field

from titan_ops.connection.base import REQUEST_INPUT, CommandResult
from titan_ops.connection.payload import Payload, size_of
from titan_ops.connection.transfer import size_check, temp_file
from titan_ops.modules.base import HostContext
from titan_ops.modules.files.attributes import Attributes, apply
from titan_ops.modules.files.remote_file import MARK, FileStat, RemoteFileError, assign, parse_stat, stat_command

BACKUP_SUFFIX = '.$$.$(date +%Y-%m-%d@%H:%M:%S)~'
"""Ansible's backup name: ``<dest>.<pid>.<YYYY-MM-DD@HH:MM:SS>~`` (shell syntax)."""


@dataclass(frozen=True)
class WritePlan:
    """Where and how to write.

    ``mode`` is the exact permission bits of the result; ``keep_ids`` the
    (uid, gid) of the file replaced, kept where the remote user may;
    ``attributes`` the owner and group asked for, which override them;
    ``remote_source`` a path on the host to copy instead of stdin, and
    ``checksum`` the SHA-1 its copy must have before it replaces anything (so
    a source changed since it was inspected never lands; data sent on stdin is
    checked by its size, so a transfer cut short never lands);
    ``backup_name`` the path the backup is named after (default: ``path``).
    """

    path: str
    mode: int
    attributes: Attributes = field(default_factory=Attributes)
    keep_ids: tuple[int, int] | None = None
    backup: bool = False
    validate: str | None = None
    make_parent: bool = False
    remote_source: str | None = None
    checksum: str | None = None
    backup_name: str | None = None


@dataclass(frozen=True)
class WriteOutcome:
    """The written file's stat and backup, or why ``validate`` refused it."""

    stat: FileStat | None = None
    backup_file: str | None = None
    invalid_status: int | None = None
    validate_stdout: str = ""
    validate_stderr: str = ""


@dataclass(frozen=True)
class Change:
    """What act does to a file: write new content (``write``), or else set ``attributes`` on it."""

    path: str
    write: WritePlan | None = None
    data: Payload | None = None
    attributes: Attributes = field(default_factory=Attributes)
    current: FileStat | None = None


def carry_out(host: HostContext, change: Change) -> WriteOutcome:
    """Do ``change`` (one remote command)."""
    if change.write is None:
        assert change.current is not None
        return WriteOutcome(stat=apply(host, change.path, change.attributes, change.current))
    return write(host, change.write, change.data)


def write(host: HostContext, plan: WritePlan, data: Payload | None) -> WriteOutcome:
    """Write ``data`` to ``plan.path`` atomically (one remote command)."""
    return write_outcome(plan, host.run(write_script(plan, data), stdin=data))


def write_outcome(plan: WritePlan, result: CommandResult) -> WriteOutcome:
    """What :func:`write_script` did, from its command's result (RemoteFileError when it failed)."""
    printed, found, lines = result.stdout.rpartition(f"{MARK}\n")
    if result.rc != 0 or not found:
        message = result.stderr.strip().splitlines()
        raise RemoteFileError(f"cannot write {plan.path}: " + (message[-1] if message else f"rc={result.rc}"))
    status, *rest = lines.split("\n")
    if status != "ok":
        return WriteOutcome(invalid_status=int(status.split()[1]), validate_stdout=printed,
                            validate_stderr=result.stderr)
    return WriteOutcome(stat=parse_stat(rest[0]), backup_file=rest[1] or None)


def write_script(plan: WritePlan, data: Payload | None, *, on_request: bool = False) -> str:
    """The shell script behind :func:`write`, for ``data`` (None: ``plan.remote_source``), asking
    for it just before reading it when it is given as :class:`InputOnRequest` (``on_request``)."""
    steps = []
    if plan.make_parent and posixpath.dirname(plan.path):
        parent = shlex.quote(posixpath.dirname(plan.path))
        steps.append(f"{{ [ -d {parent} ] || mkdir -p -- {parent}; }}")
    if data is None:
        steps.append(f'(umask 077; set -C; cat -- {shlex.quote(plan.remote_source or "")} > "$t")')
    else:  # input left unread (the temp file cannot be created) is read here, as the connection needs
        ask = f"{REQUEST_INPUT}; " if on_request else ""
        steps.append(f'{{ {ask}(umask 077; set -C; cat > "$t") || {{ s=$?; cat >/dev/null; exit $s; }}; }}')
    if plan.keep_ids is not None:
        steps.append(f'{{ chown {plan.keep_ids[0]}:{plan.keep_ids[1]} -- "$t" 2>/dev/null || :; }}')
        # the replaced file's ACLs and other extended attributes carry over, as Ansible's atomic move keeps them
        # (where cp cannot, the file is written without them); the mode is set again below
        steps.append('{ [ ! -f "$d" ] || cp --attributes-only --preserve=mode,xattr -- "$d" "$t" 2>/dev/null || :; }')
    steps.extend(plan.attributes.commands('"$t"', None if plan.mode == 0o600 and plan.keep_ids is None
                                          else plan.mode))
    if data is None and plan.checksum is not None:
        steps.append(f'{{ s=$(sha1sum < "$t") && [ "${{s%% *}}" = {plan.checksum} ] || '
                     '{ echo "the source changed while it was copied (checksum mismatch)" >&2; false; }; }')
    steps.append(f'n=$({stat_command("t")})')
    if data is not None:
        steps.append(f'set -- $n && {size_check(size_of(data), "$4")}')
    lines = [f"{assign(d=plan.path)}; b=; {temp_file(plan.path)}", _guarded(steps)]
    if plan.validate is not None:
        check = plan.validate.replace("%s", '"$t"')
        lines.append(f"{{ {check}\n}} </dev/null; s=$?; "
                     f'if [ $s -ne 0 ]; then rm -f -- "$t"; echo; echo {MARK}; echo "invalid $s"; exit 0; fi')
    finish = []
    if plan.backup:  # a hard link keeps the very file replaced; a symbolic link's target is copied
        name = '"$d"' if plan.backup_name is None else shlex.quote(plan.backup_name)
        keep = f'b={name}{BACKUP_SUFFIX}; {{ [ ! -L "$d" ] && ln -- "$d" "$b" 2>/dev/null; }} || cp -p -- "$d" "$b"'
        finish.append(f'{{ [ ! -e "$d" ] || {{ {keep}; }}; }}')
    finish.append('mv -f -- "$t" "$d"')
    lines.append(_guarded(finish))
    lines.append(f'echo {MARK}; echo ok; echo "$n"; echo "$b"')
    return "\n".join(lines)


def validate_refusal(change: Change) -> dict[str, object] | None:
    """The failed result of writing with a ``validate`` command that does not name the file (``%s``),
    as Ansible's file-editing modules fail when they come to write; None when there is nothing to refuse."""
    validate = change.write.validate if change.write is not None else None
    if validate is None or "%s" in validate:
        return None
    return {"failed": True, "changed": False, "msg": f"validate must contain %s: {validate}"}


def write_failure(outcome: WriteOutcome) -> dict[str, object]:
    """The failed result of a write that ``validate`` refused (Ansible's fields)."""
    stdout, stderr = outcome.validate_stdout.rstrip("\n"), outcome.validate_stderr.rstrip("\n")
    return {"failed": True, "changed": False, "msg": "failed to validate", "exit_status": outcome.invalid_status,
            "stdout": stdout, "stderr": stderr, "stdout_lines": stdout.splitlines(),
            "stderr_lines": stderr.splitlines()}


def _guarded(steps: list[str]) -> str:
    """Run ``steps`` in order; on the first failure remove the temp file and exit with its status."""
    return "{ " + " && ".join(steps) + '; } || { s=$?; rm -f -- "$t"; exit $s; }'
