"""``find``: files and folders under remote paths, filtered by name, type, age, size and mode.

One remote command lists every entry (GNU find, one record each); the walk, the filters and the
result are Ansible's, computed on the controller (Python's globs and regular expressions). A second
command computes the checksums of the matches when asked.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files import modes
from titan_ops.modules.files.remote_file import CHECKSUM_TOOLS, assign, run_script

_STRINGS = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_TYPES = {"d": "directory", "f": "file", "l": "link"}
_AGE = re.compile(r"^(-?\d+)(s|m|h|d|w)?$")
_SIZE = re.compile(r"^(-?\d+)(b|k|m|g|t)?$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_BYTES = {"b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}
_RECORD = r"%d\t%y\t%Y\t%m\t%U\t%G\t%s\t%i\t%D\t%n\t%A@\t%T@\t%C@\t%u\t%g\t%p\0"
_ERRNO = {"Permission denied": 13, "No such file or directory": 2}
_PERMISSION_FLAGS = {"rusr": 0o400, "wusr": 0o200, "xusr": 0o100, "rgrp": 0o040, "wgrp": 0o020, "xgrp": 0o010,
                     "roth": 0o004, "woth": 0o002, "xoth": 0o001}


@dataclass(frozen=True)
class Entry:
    """One path under a searched folder, as find saw it (not following a link)."""

    path: str
    depth: int
    kind: str
    leads_to_directory: bool
    mode: int
    uid: int
    gid: int
    size: int
    inode: int
    dev: int
    nlink: int
    atime: float
    mtime: float
    ctime: float
    owner: str
    group: str

    def facts(self) -> dict[str, Any]:
        """Ansible's fields for a file found."""
        return {
            "path": self.path, "mode": f"{self.mode:04o}", "isdir": self.kind == "d", "ischr": self.kind == "c",
            "isblk": self.kind == "b", "isreg": self.kind == "f", "isfifo": self.kind == "p",
            "islnk": self.kind == "l", "issock": self.kind == "s", "uid": self.uid, "gid": self.gid,
            "size": self.size, "inode": self.inode, "dev": self.dev, "nlink": self.nlink, "atime": self.atime,
            "mtime": self.mtime, "ctime": self.ctime, "gr_name": self.group, "pw_name": self.owner,
            **{flag: bool(self.mode & bit) for flag, bit in _PERMISSION_FLAGS.items()},
            "isuid": bool(self.mode & 0o4000), "isgid": bool(self.mode & 0o2000),
        }


@dataclass(frozen=True)
class Listing:
    """The host's clock, and what each searched path holds (None: not a folder; and find's errors)."""

    now: float
    entries: dict[str, list[Entry] | None]
    errors: dict[str, str]


class Find(Module):
    """Find paths on the host (read-only: never changes anything)."""

    name = "find"
    description = ("Return the files (or folders, links) under remote paths that match name patterns, age, size "
                   "and mode, with their stat fields, as Ansible's find does (its walk and filters).")
    schema = {
        "type": "object",
        "properties": {
            "paths": {**_STRINGS, "description": "The folders to search (a list, or a string separated by ',')."},
            "path": {**_STRINGS, "description": "Alias of paths."},
            "name": {**_STRINGS, "description": "Alias of paths."},
            "patterns": {**_STRINGS, "description": "Shell globs (regular expressions with use_regex) the base "
                                                    "name must match, one of them; default all."},
            "pattern": {**_STRINGS, "description": "Alias of patterns."},
            "excludes": {**_STRINGS, "description": "Globs (regular expressions) of base names to leave out."},
            "exclude": {**_STRINGS, "description": "Alias of excludes."},
            "use_regex": {"type": "boolean", "default": False,
                          "description": "patterns and excludes are Python regular expressions matched at the "
                                         "start of the name."},
            "file_type": {"enum": ["file", "directory", "link", "any"], "default": "file",
                          "description": "What to return (links are never followed)."},
            "recurse": {"type": "boolean", "default": False, "description": "Search the sub-folders too."},
            "depth": {"type": "integer", "description": "With recurse, how many levels deep to return."},
            "hidden": {"type": "boolean", "default": False, "description": "Return names starting with a dot."},
            "age": {"type": "string", "pattern": _AGE.pattern,
                    "description": "At least this old ('-' : at most), in s, m, h, d or w (default seconds)."},
            "age_stamp": {"enum": ["atime", "ctime", "mtime"], "default": "mtime",
                          "description": "The time age is measured on."},
            "size": {"type": "string", "pattern": _SIZE.pattern,
                     "description": "Files at least this large ('-': at most), in b, k, m, g or t (default bytes)."},
            "mode": {"type": "string", "pattern": "^[0-7]{3,4}$",
                     "description": "Permission bits (octal) the path must have."},
            "exact_mode": {"type": "boolean", "default": True,
                           "description": "mode must be the path's permission bits exactly; false: any of them."},
            "get_checksum": {"type": "boolean", "default": False,
                             "description": "Add the checksum of each regular file returned."},
            "checksum_algorithm": {"enum": sorted(CHECKSUM_TOOLS), "default": "sha1",
                                   "description": "The checksum's algorithm."},
            "limit": {"type": "integer", "minimum": 1, "description": "Stop after this many matches."},
            "follow": {"type": "boolean", "const": False, "default": False,
                       "description": "Accepted only as false: links to folders are not searched."},
        },
        "oneOf": [{"required": [alias]} for alias in ("paths", "path", "name")],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Listing:
        depth = args.get("depth")
        levels = "" if args.get("recurse") and not depth else f"-maxdepth {depth + 1 if args.get('recurse') else 1} "
        script = ["date +%s.%N"]
        for path in _list(args, "paths", "path", "name"):
            script.append(f'{assign(p=path)}; if [ -d "$p" ]; then echo D; e=$(find "$p" -mindepth 1 {levels}'
                          f'-printf {shlex.quote(_RECORD)} 2>&1 >&3); echo; printf %s "$e" | tr "\\n" "\\0"; echo; '
                          "else echo N; fi")
        return _listing(run_script(host, "exec 3>&1\n" + "\n".join(script)), _list(args, "paths", "path", "name"))

    def decide(self, args: dict[str, Any], state: Listing, host: HostContext) -> Decision:
        age, size = _amount(args.get("age"), _AGE, _SECONDS), _amount(args.get("size"), _SIZE, _BYTES)
        found, looked, skipped, limited = _walk(state, args, age, size)
        if args.get("get_checksum") and found:
            files = [item["path"] for item in found if item["isreg"]]
            if files:
                sums = _checksums(host, files, args.get("checksum_algorithm", "sha1"))
                for item in found:
                    if item["path"] in sums:
                        item["checksum"] = sums[item["path"]]
        not_folders = any(entries is None for entries in state.entries.values())
        msg = ("Not all paths examined, check warnings for details" if not_folders
               else "Limit of matches reached" if limited else "All paths examined")
        return Decision(False, {"files": found, "msg": msg, "matched": len(found), "examined": looked,
                                "skipped_paths": skipped})


def _list(args: dict[str, Any], *names: str) -> list[str]:
    """An argument given as a list or as a string separated by commas (Ansible's list type)."""
    value = next((args[name] for name in names if name in args), None)
    if value is None:
        return []
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value)


def _amount(given: str | None, pattern: re.Pattern[str], units: dict[str, int]) -> int | None:
    if given is None:
        return None
    match = pattern.match(given.lower())
    assert match is not None  # the schema's pattern
    return int(match.group(1)) * units.get(match.group(2) or "", 1)


def _listing(lines: list[str], paths: list[str]) -> Listing:
    """What :meth:`Find.inspect`'s script printed: the clock, then per path N (not a folder) or D, a line of
    NUL-terminated records and a line of find's NUL-separated messages."""
    now, rest = float(lines[0]), iter(lines[1:])
    entries: dict[str, list[Entry] | None] = {}
    errors: dict[str, str] = {}
    for path in paths:
        if next(rest) != "D":
            entries[path] = None
            continue
        entries[path] = [_entry(record.split("\t")) for record in next(rest).split("\0") if record]
        for message in filter(None, next(rest).split("\0")):
            where, _, reason = message.removeprefix("find: ").rpartition(": ")
            where = where.strip("‘’'")
            errors[where] = f"[Errno {_ERRNO[reason]}] {reason}: '{where}'" if reason in _ERRNO else message
    return Listing(now, entries, errors)


def _entry(fields: list[str]) -> Entry:
    return Entry(path=posixpath.normpath("\t".join(fields[15:])), depth=int(fields[0]), kind=fields[1],
                 leads_to_directory=fields[2] == "d", mode=int(fields[3], 8), uid=int(fields[4]),
                 gid=int(fields[5]), size=int(fields[6]), inode=int(fields[7]), dev=int(fields[8]),
                 nlink=int(fields[9]), atime=float(fields[10]), mtime=float(fields[11]), ctime=float(fields[12]),
                 owner=fields[13], group=fields[14])


def _walk(state: Listing, args: dict[str, Any], age: int | None,
          size: int | None) -> tuple[list[dict[str, Any]], int, dict[str, str], bool]:
    """Ansible's walk: each folder's files then its folders, top down; the matches, the number of entries
    looked at, the paths skipped (a path that is no folder first) and whether the limit was reached."""
    patterns = _list(args, "patterns", "pattern") or ([".*"] if args.get("use_regex") else ["*"])
    excludes = _list(args, "excludes", "exclude")
    wanted = args.get("file_type", "file")
    depth, limit = args.get("depth"), args.get("limit")
    found: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    looked, limited = 0, False
    for top, entries in state.entries.items():
        if entries is None:
            skipped[top] = f"'{top}' is not a directory"
            continue
        children: dict[str, list[Entry]] = {}
        for entry in entries:
            children.setdefault(posixpath.dirname(entry.path), []).append(entry)
        pending = [top.rstrip("/") or "/"]
        while pending:
            root = pending.pop(0)
            listed = children.get(root, [])
            folders = [entry for entry in listed if entry.leads_to_directory]
            looked += len(listed)
            walked = list(folders)
            for entry in [entry for entry in listed if not entry.leads_to_directory] + folders:
                if depth and entry.depth > depth:
                    walked = []
                    continue
                name = posixpath.basename(entry.path)
                if name.startswith(".") and not args.get("hidden"):
                    continue
                if _matches(entry, name, wanted, patterns, excludes, args, state.now, age, size):
                    found.append(entry.facts())
                if len(found) == limit:
                    limited = True
                    break
            if not args.get("recurse") or len(found) == limit:
                break
            pending[:0] = [entry.path for entry in walked if entry.kind == "d"]
    skipped.update(state.errors)
    return found, looked, skipped, limited


def _matches(entry: Entry, name: str, wanted: str, patterns: list[str], excludes: list[str],
             args: dict[str, Any], now: float, age: int | None, size: int | None) -> bool:
    kind = _TYPES.get(entry.kind)
    if wanted != "any" and kind != wanted:
        return False
    if not (_named(name, patterns, excludes, args.get("use_regex", False)) and _aged(entry, now, age, args)
            and _moded(entry, args)):
        return False
    return kind != "file" or size is None or (entry.size >= size if size >= 0 else entry.size <= -size)


def _named(name: str, patterns: list[str], excludes: list[str], use_regex: bool) -> bool:
    def match(pattern: str) -> bool:
        return bool(re.match(pattern, name)) if use_regex else fnmatch.fnmatch(name, pattern)

    return any(match(pattern) for pattern in patterns) and not any(match(pattern) for pattern in excludes)


def _aged(entry: Entry, now: float, age: int | None, args: dict[str, Any]) -> bool:
    if age is None:
        return True
    elapsed = now - getattr(entry, args.get("age_stamp", "mtime"))
    return elapsed >= age if age >= 0 else elapsed <= -age


def _moded(entry: Entry, args: dict[str, Any]) -> bool:
    if not args.get("mode"):
        return True
    wanted = modes.resolve(args["mode"], 0, False) & 0o7777
    return entry.mode == wanted if args.get("exact_mode", True) else bool(entry.mode & wanted)


def _checksums(host: HostContext, files: list[str], algorithm: str) -> dict[str, str]:
    """The checksum of each of ``files``, by path (one remote command)."""
    tool = CHECKSUM_TOOLS[algorithm]
    lines = run_script(host, " ; ".join(f"{tool} < {shlex.quote(path)} 2>/dev/null || echo -" for path in files))
    return {path: line.split()[0] for path, line in zip(files, lines) if line and line != "-"}
