"""``unarchive``: unpack a tar (plain, gzip, bzip2, xz, zstd) or zip archive into a folder of the host.

inspect sends the archive (from the controller, on the command's input; or ``remote_src``: already on the
host) to one shell command that lists it and unpacks it into a temporary folder outside ``dest``, then
compares every entry with what ``dest`` holds: missing, another type, other content, another modification
time, another link target, and (when the task does not set them) other permissions or owner, as ansible-core's
``tar --diff`` and zip comparison do. decide reports a change when anything differs or ``mode``/``owner``/
``group`` would change a file. act unpacks again, into a temporary folder inside ``dest`` (the same file
system), and renames each file that differs into place, so that a file of ``dest`` is either the old one or
the new one, never half-written; then it applies ``mode``/``owner``/``group``. Temporary folders are removed
whatever happens. Check mode stops after decide (ansible-core skips a tar archive in check mode instead).
"""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass, field
from typing import Any

from titan_ops.connection.payload import LocalFile
from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.local import find_local
from titan_ops.modules.files.modes import ModeError, mode_schema, resolve

# $1 act (inspect/extract) $2 src as given $3 dest $4 keep_newer $5 compare owners $6 compare modes $7 archive on
# stdin; @TAR@, @UNZIP_OPTIONS@ and @UNZIP_MEMBERS@ are the task's options, quoted (see _script). Prints
# "handler NAME", "file NAME" per archive entry, "change PATH" per difference, "error<TAB>MESSAGE" when it
# cannot go on (_STAT prints "stat<TAB>PATH<TAB>MODE USER GROUP<TAB>TYPE" per path).
_SCRIPT = r"""
set -u
export LC_ALL=C
act=$1 src=$2 dest=$3 keep_newer=$4 owners=$5 modes=$6 piped=$7; shift 7
fail() { printf 'error\t%s\n' "$1"; exit 0; }
work=$(mktemp -d "${TMPDIR:-/tmp}/titan-unarchive.XXXXXX") || fail "cannot make a temporary folder"
stage=""
trap 'rm -rf "$work" ${stage:+"$stage"}' EXIT
trap 'exit 1' INT TERM HUP
archive=$src
if [ "$piped" = 1 ]; then archive=$work/archive; cat > "$archive" || fail "Source '$src' failed to transfer"
else
  [ -e "$src" ] || fail "Source '$src' does not exist"
  [ -r "$src" ] || fail "Source '$src' not readable"
fi
[ -s "$archive" ] || fail "Invalid archive '$src', the file is 0 bytes"
{ [ -d "$dest" ] && cd "$dest"; } || fail "dest '$dest' must be an existing dir"
dest=$(pwd -P)
magic=$(od -An -tx1 -N6 "$archive" | tr -d ' \n')
case $magic in  # (ansible-core's tar without -z reads bzip2, xz and zstd too: TarArchive)
  504b0304*|504b0506*) handler=ZipArchive ;; 1f8b*) handler=TgzArchive ;; *) handler=TarArchive ;;
esac
no_handler="Failed to find handler for \"$src\". Make sure the required command to extract the file is installed."
listing=$work/listing
if [ "$handler" = ZipArchive ]; then
  command -v unzip >/dev/null 2>&1 || fail "$no_handler"
  unzip -Z1 "$archive" > "$listing" 2>/dev/null || fail "$no_handler"
else
  command -v tar >/dev/null 2>&1 || fail "$no_handler"
  tar --list -f "$archive" @TAR@ > "$listing" 2>/dev/null || fail "$no_handler"
fi
[ -s "$listing" ] || fail "$no_handler"
echo "handler $handler"
trap 'printf "dest %s\n" "$(stat -c "%a %u %g %U %G %s" "$dest")"; rm -rf "$work" ${stage:+"$stage"}' EXIT
sed 's/^/file /' "$listing"
if [ "$act" = extract ]; then stage=$(mktemp -d "$dest/.titan-unarchive.XXXXXX") || fail "cannot write in '$dest'"
else stage=$work/tree; mkdir "$stage"; fi
if [ "$handler" = ZipArchive ]; then
  out=$(unzip -q -o @UNZIP_OPTIONS@ "$archive" @UNZIP_MEMBERS@ -d "$stage" 2>&1) \
    || fail "failed to unpack $src to $dest: $out"
else
  out=$(tar --extract -C "$stage" -f "$archive" @TAR@ 2>&1) || fail "failed to unpack $src to $dest: $out"
fi
kind() {
  if [ -L "$1" ]; then echo link; elif [ -d "$1" ]; then echo dir; elif [ -e "$1" ]; then echo file; else echo none; fi
}
(cd "$stage" && find . -mindepth 1) > "$work/entries"
while IFS= read -r entry; do
  path=${entry#./} new=$stage/${entry#./} old=$dest/${entry#./}
  new_kind=$(kind "$new") old_kind=$(kind "$old") differs=""
  if [ "$old_kind" != "$new_kind" ]; then differs=1
  elif [ "$new_kind" = link ]; then [ "$(readlink "$new")" = "$(readlink "$old")" ] || differs=1
  elif [ "$new_kind" = file ]; then
    new_time=$(stat -c %Y "$new") old_time=$(stat -c %Y "$old")
    if [ "$keep_newer" = 1 ] && [ "$old_time" -gt "$new_time" ]; then continue; fi
    { [ "$new_time" = "$old_time" ] && cmp -s "$new" "$old"; } || differs=1
  fi
  if [ -z "$differs" ] && [ "$new_kind" != link ]; then
    [ "$modes" = 0 ] || [ "$(stat -c %a "$new")" = "$(stat -c %a "$old")" ] || differs=1
    [ "$owners" = 0 ] || [ "$(stat -c %u:%g "$new")" = "$(stat -c %u:%g "$old")" ] || differs=1
  fi
  [ -n "$differs" ] || continue
  printf 'change %s\n' "$path"
  [ "$act" = extract ] || continue
  if [ "$new_kind" = dir ]; then
    [ "$old_kind" = dir ] || { rm -f "$old" && mkdir "$old"; } || fail "cannot replace '$old'"
    chmod "$(stat -c %a "$new")" "$old" && { [ "$owners" = 0 ] || chown "$(stat -c %u:%g "$new")" "$old"; } \
      || fail "cannot set the attributes of '$old'"
  else
    [ "$old_kind" != dir ] || fail "cannot replace the folder '$old' with a file"
    mv -fT "$new" "$old" || fail "cannot move '$path' into place"
  fi
done < "$work/entries"
"""
_STAT = r"""
cd "$1" || exit 0; shift
for path in "$@"; do
  [ -e "$path" ] || [ -L "$path" ] || continue
  if [ -d "$path" ]; then kind=dir; else kind=file; fi
  printf 'stat\t%s\t%s\t%s\n' "$path" "$(stat -c '%a %U %G' "$path")" "$kind"
done
"""
_ATTRIBUTES = r"""
cd "$1" && mode=$2 owner=$3; shift 3
for path in "$@"; do
  [ -e "$path" ] || continue
  [ -z "$mode" ] || chmod "$mode" "$path" || exit 1
  [ -z "$owner" ] || chown "$owner" "$path" || exit 1
done
"""


@dataclass
class Archive:
    """What inspect (or act) found: the handler, the archive's entries, the paths that differ, and the
    listed paths' current attributes (path -> (mode, user, group, is_dir))."""

    handler: str = ""
    files: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    stats: dict[str, tuple[int, str, str, bool]] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None
    dest: dict[str, Any] = field(default_factory=dict)
    """What ansible-core reports of ``dest`` (mode, owner, group, ids, size, state), as the command left it."""


def _parse(output: str) -> Archive:
    found = Archive()
    for line in output.splitlines():
        kind, _, rest = line.partition(" ") if not line.startswith(("stat\t", "error\t")) else line.partition("\t")
        if kind == "handler":
            found.handler = rest
        elif kind == "file":
            found.files.append(rest.lstrip("/"))
        elif kind == "change":
            found.changes.append(rest)
        elif kind == "error":
            found.error = rest
        elif kind == "dest":
            mode, uid, gid, user, group, size = rest.split(" ")
            found.dest = {"gid": int(gid), "group": group, "mode": f"0{mode:>03}", "owner": user,
                          "size": int(size), "state": "directory", "uid": int(uid)}
        elif kind == "stat":
            path, attributes, what = rest.split("\t")
            mode, user, group = attributes.split(" ")
            found.stats[path] = (int(mode, 8), user, group, what == "dir")
    return found


class Unarchive(Module):
    """Unpack a tar or zip archive into a folder of the host, only when what it holds differs."""

    name = "unarchive"
    path_args = ("dest", "creates")
    description = ("Unpack a tar (gzip, bzip2, xz, zstd) or zip archive from the controller or the host "
                   "(`remote_src`) into a folder of the host; changed only when a file differs, each file "
                   "replaced atomically, nothing written in check mode.")
    schema = {
        "type": "object",
        "properties": {
            "src": {"type": "string", "description": "The archive: a controller path (searched in files/ as "
                                                     "copy's), or with `remote_src` a path on the host."},
            "dest": {"type": "string", "description": "The existing folder to unpack into."},
            "remote_src": {"type": "boolean", "default": False, "description": "The archive is on the host."},
            "copy": {"type": "boolean", "description": "Deprecated opposite of `remote_src` (as in Ansible)."},
            "creates": {"type": "string", "description": "Skip the task when this path exists on the host."},
            "list_files": {"type": "boolean", "default": False,
                           "description": "Return the archive's entries as `files`."},
            "keep_newer": {"type": "boolean", "default": False,
                           "description": "Keep files of `dest` that are newer than the archive's."},
            "exclude": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Entries (shell patterns) not to unpack."},
            "include": {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "The only entries to unpack."},
            "extra_opts": {"type": "array", "items": {"type": "string"}, "default": [],
                           "description": "More options for tar or unzip, one a list item."},
            "mode": mode_schema(),
            "owner": {"type": "string", "description": "The owner of every unpacked entry."},
            "group": {"type": "string", "description": "The group of every unpacked entry."},
            "decrypt": {"type": "boolean", "default": True,
                        "description": "Accepted for compatibility; a vault-encrypted archive is not decrypted."},
            "io_buffer_size": {"type": "integer", "description": "Accepted for compatibility (unused)."},
            "validate_certs": {"type": "boolean", "description": "Accepted for compatibility (a URL `src` is "
                                                                 "not supported: download it with get_url)."},
        },
        "required": ["src", "dest"],
        "not": {"anyOf": [{"required": ["include", "exclude"]}, {"required": ["copy", "remote_src"]}]},
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Archive:
        creates = args.get("creates")
        if creates and host.run(["test", "-e", str(creates)]).rc == 0:
            return Archive(skipped=f"skipped, since {creates} exists")
        return self._run(host, args, "inspect")

    def decide(self, args: dict[str, Any], state: Archive, host: HostContext) -> Decision:
        if state.skipped:
            return Decision(False, {"skipped": True, "msg": state.skipped})
        if state.error:
            return Decision(False, {"msg": state.error}, failed=True)
        result = {"dest": args["dest"], "src": args["src"], "handler": state.handler, **state.dest}
        if args.get("list_files"):
            result["files"] = state.files
        try:
            attributes_differ = self._attributes_differ(args, state)
        except ModeError as error:
            return Decision(False, {**result, "msg": str(error)}, failed=True)
        return Decision(bool(state.changes) or attributes_differ, result)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        done = self._run(host, args, "extract")
        if done.error:
            return {**decision.result, "failed": True, "msg": done.error}
        mode, owner = args.get("mode"), _owner(args)
        if mode is not None or owner:
            chmod = mode if isinstance(mode, str) else (format(mode, "o") if mode is not None else "")
            applied = host.run(["/bin/sh", "-c", _ATTRIBUTES, "sh", str(args["dest"]), chmod, owner,
                                *self._targets(done)])
            if applied.rc != 0:
                return {**decision.result, "failed": True,
                        "msg": f"could not set mode/owner/group in {args['dest']}: {applied.stderr.strip()}"}
        return {**decision.result, **done.dest, "changed": True}

    def _run(self, host: HostContext, args: dict[str, Any], act: str) -> Archive:
        remote = bool(args.get("remote_src")) or args.get("copy") is False
        stdin = None
        if not remote:
            try:
                stdin = LocalFile.read(find_local(host.local_folders, str(args["src"]), "files"))
            except (TitanOpsError, OSError) as error:
                return Archive(error=str(error))
        exclude = [str(pattern).rstrip("/") for pattern in args.get("exclude") or []]
        owners = "1" if not (args.get("owner") or args.get("group")) else "0"
        modes = "1" if args.get("mode") is None else "0"
        done = host.run(["/bin/sh", "-c", _script(args, exclude), "sh", act, str(args["src"]), str(args["dest"]),
                         "1" if args.get("keep_newer") else "0", owners, modes, "0" if remote else "1"], stdin=stdin)
        found = _parse(done.stdout)
        if done.rc != 0 and found.error is None:
            found.error = done.stderr.strip() or f"unarchive failed (exit status {done.rc})"
        found.files = [name for name in found.files if not any(fnmatch.fnmatch(name, p) for p in exclude)]
        if act == "inspect" and not found.error and (args.get("mode") is not None or _owner(args)):
            stats = host.run(["/bin/sh", "-c", _STAT, "sh", str(args["dest"]), *self._targets(found)])
            found.stats = _parse(stats.stdout).stats
        return found

    @staticmethod
    def _targets(found: Archive) -> list[str]:
        """The paths mode/owner/group apply to: each entry, and each top folder (as ansible-core)."""
        tops = [name.split("/")[0] for name in found.files if "/" in name]
        return list(dict.fromkeys([*(name.rstrip("/") for name in found.files), *tops]))

    @staticmethod
    def _attributes_differ(args: dict[str, Any], state: Archive) -> bool:
        mode, user, group = args.get("mode"), args.get("owner"), args.get("group")
        for current_mode, current_user, current_group, is_dir in state.stats.values():
            if mode is not None and resolve(mode, current_mode, is_dir) != current_mode:
                return True
            if (user and user != current_user) or (group and group != current_group):
                return True
        return False


def _script(args: dict[str, Any], exclude: list[str]) -> str:
    """The unpacking script with the task's tar and unzip options in it, each quoted."""
    include = [str(entry) for entry in args.get("include") or []]
    extra = [str(option) for option in args.get("extra_opts") or []]
    tar = [*extra, *(f"--exclude={pattern}" for pattern in exclude), *include]
    members = [*include, *(["-x", *exclude] if exclude else [])]
    quoted = {"@TAR@": tar, "@UNZIP_OPTIONS@": extra, "@UNZIP_MEMBERS@": members}
    script = _SCRIPT
    for placeholder, words in quoted.items():
        script = script.replace(placeholder, " ".join(shlex.quote(word) for word in words))
    return script


def _owner(args: dict[str, Any]) -> str:
    """chown's argument for ``owner`` and ``group`` ("" when neither is set)."""
    user, group = args.get("owner") or "", args.get("group") or ""
    return f"{user}:{group}" if group else user

