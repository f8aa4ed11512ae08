"""``stat``: facts about a remote path, in one remote command."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.modes import octal
from titan_ops.modules.files.paths import PATH_REQUIRED, path_of, path_properties
from titan_ops.modules.files.remote_file import CHECKSUM_TOOLS, FileStat, assign, checksum_line, parse_stat, \
    run_script, stat_line

_PERMISSION_FLAGS = {"rusr": 0o400, "wusr": 0o200, "xusr": 0o100, "rgrp": 0o040, "wgrp": 0o020, "xgrp": 0o010,
                     "roth": 0o004, "woth": 0o002, "xoth": 0o001}


class Stat(Module):
    """Report on a path (read-only: never changes anything)."""

    name = "stat"
    path_args = ("path", "dest", "name")
    description = ("Report whether a remote path exists and its type, mode, owner, size, times and checksum, "
                   "like Ansible's stat (without MIME type and file attributes).")
    schema = {
        "type": "object",
        "properties": {
            **path_properties("The remote path to examine."),
            "follow": {"type": "boolean", "default": False,
                       "description": "Report on the target of a symbolic link instead of the link."},
            "get_checksum": {"type": "boolean", "default": True,
                             "description": "Add the checksum of a regular file (stat.checksum)."},
            "checksum_algorithm": {"enum": sorted(CHECKSUM_TOOLS), "default": "sha1",
                                   "description": "The checksum's algorithm (a coreutils *sum tool on the host)."},
            "get_mime": {"type": "boolean", "default": True,
                         "description": "Add the path's MIME type and character set as the host's `file` "
                                        "command names them (stat.mimetype, stat.charset; 'unknown' without "
                                        "`file`)."},
            "get_attributes": {"type": "boolean", "const": False, "default": False,
                               "description": "Accepted for compatibility, only as false: no lsattr attributes "
                                              "are reported."},
        },
        **PATH_REQUIRED,
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> list[str]:
        follow = args.get("follow", False)
        script = [assign(p=path_of(args)), stat_line("p", follow=follow),
                  'for t in r w x; do [ -$t "$p" ] && printf 1 || printf 0; done; echo',
                  'if [ -L "$p" ]; then readlink -- "$p"; readlink -f -- "$p"; else echo; echo; fi']
        script.append(checksum_line("p", args.get("checksum_algorithm", "sha1")) if args.get("get_checksum", True)
                      else "echo -")
        if args.get("get_mime", True):
            script.append('if command -v file >/dev/null 2>&1 && m=$(file -b --mime-type --mime-encoding -- "$p" '
                          '2>/dev/null); then echo "$m"; else echo; fi')
        return run_script(host, "\n".join(script))

    def decide(self, args: dict[str, Any], state: list[str], host: HostContext) -> Decision:
        found = parse_stat(state[0])
        if found is None:
            return Decision(False, {"stat": {"exists": False}})
        facts = _facts(path_of(args), found, state[1])
        if found.kind == "link":
            facts.update(lnk_target=state[2], lnk_source=state[3])
        if args.get("get_checksum", True) and found.kind == "file" and state[4] != "-":
            facts["checksum"] = state[4]
        if args.get("get_mime", True):
            mimetype, _, charset = state[5].partition("; charset=")
            facts.update(mimetype=mimetype.strip() if charset else "unknown", charset=charset.strip() or "unknown")
        return Decision(False, {"stat": facts})


def _facts(path: str, found: FileStat, access: str) -> dict[str, Any]:
    """Ansible's stat fields for ``found``."""
    kind = found.kind
    return {
        "exists": True, "path": path, "mode": octal(found.permissions),
        "isdir": kind == "directory", "isreg": kind == "file", "islnk": kind == "link",
        "ischr": kind == "char", "isblk": kind == "block", "isfifo": kind == "fifo", "issock": kind == "socket",
        "uid": found.uid, "gid": found.gid, "pw_name": found.owner, "gr_name": found.group,
        "size": found.size, "inode": found.inode, "dev": found.dev, "nlink": found.nlink,
        "atime": found.atime, "mtime": found.mtime, "ctime": found.ctime,
        "blocks": found.blocks, "block_size": found.block_size,
        "device_type": (found.rdev_major << 8) | found.rdev_minor if kind in ("char", "block") else 0,
        "isuid": bool(found.st_mode & 0o4000), "isgid": bool(found.st_mode & 0o2000),
        **{flag: bool(found.st_mode & bit) for flag, bit in _PERMISSION_FLAGS.items()},
        "readable": access[0] == "1", "writeable": access[1] == "1", "executable": access[2] == "1",
    }
