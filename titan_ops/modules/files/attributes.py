"""The ``mode``, ``owner`` and ``group`` a task asks for, compared with a remote path's."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from titan_ops.modules.base import HostContext
from titan_ops.modules.files import modes
from titan_ops.modules.files.remote_file import FileStat, assign, parse_stat, run_script, stat_line

OWNER_SCHEMA: dict[str, Any] = {
    "type": ["string", "integer"],
    "minLength": 1,
    "description": "The user that should own the result: a name or a numeric uid (chown). "
                   "When omitted an existing file keeps its owner and a new one belongs to the remote user.",
}
GROUP_SCHEMA: dict[str, Any] = {
    "type": ["string", "integer"],
    "minLength": 1,
    "description": "The group that should own the result: a name or a numeric gid. "
                   "When omitted an existing file keeps its group.",
}


def default_permissions(umask: int, is_dir: bool) -> int:
    """The mode a new file (0666) or directory (0777) gets under ``umask``."""
    return (0o777 if is_dir else 0o666) & ~umask


def parse_umask(line: str) -> int:
    """The int of the shell's ``umask`` output ('0022')."""
    return int(line.strip() or "022", 8)


@dataclass(frozen=True)
class Attributes:
    """What a task asks of a path's mode and ownership (None: leave as is), and the host's
    umask (which symbolic modes without u, g, o or a take into account)."""

    mode: int | str | None = None
    owner: str | None = None
    group: str | None = None
    umask: int = 0o022

    @classmethod
    def from_args(cls, args: Mapping[str, Any], umask: int = 0o022) -> Attributes:
        owner, group = args.get("owner"), args.get("group")
        return cls(args.get("mode"), None if owner is None else str(owner), None if group is None else str(group),
                   umask)

    def mode_for(self, current: int, is_dir: bool) -> int | None:
        """The permission bits wanted for a path whose bits are ``current`` (None: keep them)."""
        if self.mode is None:
            return None
        return modes.resolve(self.mode, current, is_dir, self.umask)

    def changes(self, path: str, stat: FileStat) -> tuple[dict[str, Any], dict[str, Any]]:
        """Before and after of each attribute that differs on ``stat`` (both empty: nothing to do)."""
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        wanted = self.mode_for(stat.permissions, stat.kind == "directory")
        if wanted is not None and wanted != stat.permissions and stat.kind != "link":
            before["mode"], after["mode"] = modes.diff_octal(stat.permissions), modes.diff_octal(wanted)
        if self.owner is not None and not _same_id(self.owner, stat.owner, stat.uid):
            before["owner"], after["owner"] = stat.owner, self.owner
        if self.group is not None and not _same_id(self.group, stat.group, stat.gid):
            before["group"], after["group"] = stat.group, self.group
        if before:
            before, after = {"path": path, **before}, {"path": path, **after}
        return before, after

    def chown_spec(self) -> str | None:
        """``owner:group``, ``owner`` or ``:group`` for chown; None when neither is asked."""
        if self.owner is None and self.group is None:
            return None
        if self.group is None:
            return self.owner
        return f"{self.owner or ''}:{self.group}"

    def commands(self, paths: str, mode: int | None, *, recurse: bool = False) -> list[str]:
        """chown and chmod commands setting the wanted ownership and ``mode`` on ``paths`` (already
        quoted shell words), recursively if asked."""
        recursive = "-R " if recurse else ""
        commands = []
        spec = self.chown_spec()
        if spec is not None:  # before chmod: chown clears setuid and setgid bits
            commands.append(f"chown {recursive}{shlex.quote(spec)} -- {paths}")
        if mode is not None:
            commands.append(f"chmod {recursive}{modes.chmod_argument(mode)} -- {paths}")
        return commands


def apply(host: HostContext, path: str, attributes: Attributes, current: FileStat) -> FileStat:
    """Set ``attributes`` on existing ``path`` (one remote command); its stat afterwards."""
    mode = attributes.mode_for(current.permissions, current.kind == "directory")
    commands = attributes.commands('"$p"', mode)
    lines = run_script(host, f"{assign(p=path)}; {' && '.join(commands)} && {stat_line('p')}")
    return parse_stat(lines[0]) or current


def attribute_diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """A diff entry for attribute changes (none when nothing changes)."""
    return [{"before": before, "after": after}] if before else []


def _same_id(wanted: str, name: str, number: int) -> bool:
    return int(wanted) == number if wanted.isdigit() else wanted == name
