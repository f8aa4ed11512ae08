"""``file``: make a path a file, directory, symlink, touched file, or absent, with mode and owner.

One remote command reads the state (with the whole tree when ``recurse``);
one more makes the change and reports the result's stat. A directory not there
yet in an existing folder (the guess, outside check mode) takes one command.
"""

from __future__ import annotations

import dataclasses
import posixpath
import shlex
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

from titan_ops.connection.transfer import temp_file
from titan_ops.modules.base import Attempt, Decision, Guess, HostContext, Module
from titan_ops.modules.files import modes
from titan_ops.modules.files.attributes import GROUP_SCHEMA, OWNER_SCHEMA, Attributes, attribute_diff, \
    default_permissions, parse_umask
from titan_ops.modules.files.paths import PATH_REQUIRED, path_of, path_properties
from titan_ops.modules.files.remote_file import ACTED, GUESSED_UMASK, STAT_FORMAT, UMASK_TEST, FileStat, \
    act_or_inspect_script, assign, last_line, parse_stat, run_script, stat_line

STATES = ("file", "directory", "absent", "touch", "link", "hard")
FOLLOWED = ("file", "directory", "touch")
"""The states that act on what a symbolic link points to, not on the link."""
TIMES = ("now", "preserve")


@dataclass(frozen=True)
class PathState:
    """A path as the host has it now.

    With state file, directory or touch a symbolic link is followed: ``path``
    is then where it leads (Ansible's ``follow``). ``lstat`` describes ``path``
    itself (``via_link`` when the path given was a link followed to it); for a
    link, ``link_target`` and ``target`` describe what it points to.
    """

    path: str
    lstat: FileStat | None
    link_target: str | None
    target: FileStat | None
    umask: int
    via_link: bool = False
    src_path: str = ""
    src: FileStat | None = None
    dir_empty: bool = False
    existing_ancestor: str = "/"
    entries: tuple[tuple[str, FileStat], ...] = ()

    @property
    def previous(self) -> str:
        """What the path is now, without following a link: file, directory, link, ... or absent."""
        return "absent" if self.lstat is None else self.lstat.attributes()["state"]


@dataclass(frozen=True)
class FilePlan:
    """Shell commands to run on ``$p``, and whether to report the stat of the link or of its target."""

    commands: list[str]
    follow: bool = True


class File(Module):
    """Manage a path's type, mode and ownership."""

    name = "file"
    path_args = ("path", "dest", "name")
    description = ("Make a path a file, a directory (with its parents), a symbolic link, a touched file, or "
                   "absent; set its mode, owner and group, recursively for a directory if asked.")
    schema = {
        "type": "object",
        "properties": {
            **path_properties("The remote path to manage."),
            "state": {"enum": list(STATES),
                      "description": "file: the path must exist and get the attributes (never created); "
                                     "directory: created with its missing parents; absent: removed "
                                     "recursively; touch: created empty or its times updated; link: a symbolic "
                                     "link to src; hard: a hard link to src (the same file under a second name). "
                                     "Default: the path's current type, or file."},
            "src": {"type": "string", "minLength": 1,
                    "description": "The target of the link; required with state: link, and with state: hard "
                                   "unless path is a hard link already. A relative src is relative to the "
                                   "link's folder."},
            "mode": modes.mode_schema(),
            "owner": OWNER_SCHEMA,
            "group": GROUP_SCHEMA,
            "recurse": {"type": "boolean", "default": False,
                        "description": "With state: directory, set mode, owner and group on everything in "
                                       "the directory too (symbolic links excepted)."},
            "follow": {"type": "boolean", "default": True,
                       "description": "With state file, directory or touch, a symbolic link at path is followed "
                                      "(what it leads to is managed); false: the link itself is the path, so "
                                      "state file or directory fails on it. With state link or hard, mode and "
                                      "owner always go to what the link leads to, and recurse never follows "
                                      "the links in a directory, whatever follow says."},
            "force": {"type": "boolean", "default": False,
                      "description": "With state: link, replace a file or an empty directory at path, and "
                                     "create the link even when src does not exist; with state: hard, replace "
                                     "a file or another hard link at path."},
            "access_time": {"enum": list(TIMES),
                            "description": "With state: touch, 'preserve' keeps the access time (default now)."},
            "modification_time": {"enum": list(TIMES),
                                  "description": "With state: touch, 'preserve' keeps the modification time "
                                                 "(default now), so a touch of an existing file is idempotent."},
        },
        **PATH_REQUIRED,
        "allOf": [{"if": {"required": ["state"], "properties": {"state": {"const": "link"}}},
                   "then": {"required": ["src"]}}],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> PathState:
        return _inspected(args, run_script(host, _inspect_script(args)))

    def guess(self, host: HostContext, args: dict[str, Any]) -> Guess | None:
        """A directory not there yet in an existing folder (state: directory, a plain absolute path)."""
        path = path_of(args)
        if args.get("state") != "directory" or args.get("recurse") or not posixpath.isabs(path) \
                or path != posixpath.normpath(path) or path == "/":
            return None
        parent = posixpath.dirname(path)
        state = PathState(path, None, None, None, GUESSED_UMASK, existing_ancestor=parent)
        test = [f"[ ! -e {shlex.quote(path)} ]", f"[ ! -L {shlex.quote(path)} ]", f"[ -d {shlex.quote(parent)} ]"]
        mode = args.get("mode")
        if mode is not None and (modes.is_symbolic(mode) or host.diff_mode):  # the diff shows the default mode
            test.append(UMASK_TEST)
        return Guess(state, " && ".join(test))

    def act_or_inspect(self, host: HostContext, args: dict[str, Any], decision: Decision,
                       guess: Guess) -> Attempt:
        script = act_or_inspect_script(guess.test, _act_script(decision), _inspect_script(args))
        acted, *lines = run_script(host, script)
        if acted == ACTED:
            return Attempt(True, result=_acted(decision, lines))
        return Attempt(False, state=_inspected(args, lines))

    def decide(self, args: dict[str, Any], state: PathState, host: HostContext) -> Decision:
        wanted = args.get("state") or _default_state(state.previous, args)
        if args.get("recurse") and wanted != "directory":
            return _fail("recurse option requires state to be 'directory'", state.path)
        if "src" in args and wanted not in ("link", "hard"):
            return _fail("src option requires state to be 'link' or 'hard'", state.path)
        return getattr(self, f"_{wanted}")(args, state)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return _acted(decision, run_script(host, _act_script(decision)))

    # -- the states --------------------------------------------------------------
    def _absent(self, args: dict[str, Any], state: PathState) -> Decision:
        result = {"path": state.path, "state": "absent"}
        if state.lstat is None:
            return Decision(False, result)
        diff = _state_diff(state.path, state.previous, "absent")
        return Decision(True, result, diff=diff, plan=FilePlan(['rm -rf -- "$p"']))

    def _file(self, args: dict[str, Any], state: PathState) -> Decision:
        if state.lstat is None:
            return _fail(f"file ({state.path}) is absent, cannot continue", state.path, state="absent")
        if state.lstat.kind == "directory" and args.get("state") == "file":
            return _fail(f"file ({state.path}) is directory, cannot continue", state.path,
                         **state.lstat.attributes())
        if state.lstat.kind == "link":  # follow: false
            return _fail(f"file ({state.path}) is link, cannot continue", state.path, state="link")
        return _set_attributes(args, state, [], [])

    def _directory(self, args: dict[str, Any], state: PathState) -> Decision:
        if state.lstat is None:
            ancestors = _ancestors(state.path)
            created = ancestors[:ancestors.index(posixpath.normpath(state.existing_ancestor))][::-1]
            attributes = Attributes.from_args(args, state.umask)
            mode = attributes.mode_for(default_permissions(state.umask, True), True)
            if mode is not None and mode & ~0o777 == 0 and attributes.chown_spec() is None and len(created) == 1:
                commands = [f'mkdir -p -m {modes.chmod_argument(mode)} -- "$p"']  # -m: the last folder only
            else:
                commands = ['mkdir -p -- "$p"', *attributes.commands(" ".join(map(shlex.quote, created)), mode)]
            diff = _state_diff(state.path, "absent", "directory", default_permissions(state.umask, True), mode)
            return Decision(True, {"path": state.path, "state": "directory"}, diff=diff, plan=FilePlan(commands))
        if state.lstat.kind != "directory":
            return _fail(f"{state.path} already exists as a {state.previous}", state.path,
                         **state.lstat.attributes())
        if not args.get("recurse"):
            return _set_attributes(args, state, [], [])
        return _set_recursively(args, state)

    def _touch(self, args: dict[str, Any], state: PathState) -> Decision:
        keep_atime = args.get("access_time") == "preserve"
        keep_mtime = args.get("modification_time") == "preserve"
        if state.lstat is None and state.via_link:  # Ansible leaves the link alone, or fails to set its times
            if keep_atime and keep_mtime:
                return Decision(False, {"dest": state.path})
            return _fail(f"cannot touch {state.path}: a symbolic link leads there but it does not exist",
                         state.path)
        if state.lstat is None:
            attributes = Attributes.from_args(args, state.umask)
            mode = attributes.mode_for(default_permissions(state.umask, False), False)
            commands = ['touch -- "$p"', *attributes.commands('"$p"', mode)]
            diff = _state_diff(state.path, "absent", "touch", default_permissions(state.umask, False), mode)
            return Decision(True, {"dest": state.path, "state": "file"}, diff=diff, plan=FilePlan(commands))
        if keep_atime and keep_mtime:
            return _set_attributes(args, state, [], [])
        flag = " -m" if keep_atime else " -a" if keep_mtime else ""
        diff = _state_diff(state.path, state.previous, "touch")
        return _set_attributes(args, state, [f'touch{flag} -- "$p"'], diff, result_key="dest")

    def _link(self, args: dict[str, Any], state: PathState) -> Decision:
        """A symbolic link to src; mode and owner go to what it points to (Ansible's follow)."""
        src = args.get("src") or state.link_target
        if src is None:
            return _fail("src is required for creating new links", state.path)
        path, previous = state.path, state.previous
        attributes = Attributes.from_args(args, state.umask)
        result = {"dest": path, "src": src, "state": "link"}
        if state.link_target == src:
            return _set_through_link(attributes, state.target, path, [], [], {**result, **state.lstat.attributes()})
        if state.src is None and not args.get("force", False):
            return _fail("src file does not exist, use 'force=yes' if you really want to create the link: "
                         f"{state.src_path}", path, src=src)
        if previous in ("file", "hard", "directory") and not args.get("force", False):
            return _fail(f"refusing to convert from {previous} to symlink for {path}", path,
                         **state.lstat.attributes())
        if previous == "directory" and not state.dir_empty:
            return _fail(f"the directory {path} is not empty, refusing to convert it", path)
        commands = [*(['rmdir -- "$p"'] if previous == "directory" else []), temp_file(path),
                    f'ln -s -- {shlex.quote(src)} "$t"', '{ mv -Tf -- "$t" "$p" || { rm -f -- "$t"; false; }; }']
        before = {"path": path, "state": previous}
        if state.link_target is not None:
            before["src"] = state.link_target
        diff = [{"before": before, "after": {"path": path, "state": "link", "src": src}}]
        return _set_through_link(attributes, state.src, path, commands, diff, result)

    def _hard(self, args: dict[str, Any], state: PathState) -> Decision:
        """A hard link to src: path and src name the same file; mode and owner go to that file."""
        path, previous, src = state.path, state.previous, args.get("src")
        if src is None:
            if previous != "hard":
                return _fail("src is required for creating new hardlinks", path)
            return _set_attributes(args, state, [], [], result_key="dest")
        if state.src is None:
            return _fail("src does not exist", path, dest=path, src=src)
        result = {"dest": path, "src": src}
        attributes = Attributes.from_args(args, state.umask)
        if state.lstat is not None and (state.lstat.inode, state.lstat.dev) == (state.src.inode, state.src.dev):
            return _set_through_link(attributes, state.src, path, [], [], {**result, **state.lstat.attributes()})
        if previous == "directory":
            return _fail("Cannot link, directory exists at destination", path, dest=path, src=src)
        if previous in ("file", "hard") and not args.get("force", False):
            what = "file" if previous == "file" else "different hard link"
            return _fail(f"Cannot link, {what} exists at destination", path, dest=path, src=src)
        commands = [temp_file(path), f'ln -L -- {shlex.quote(state.src_path)} "$t"',
                    '{ mv -f -- "$t" "$p" || { rm -f -- "$t"; false; }; }']
        diff = [{"before": {"path": path, "state": previous}, "after": {"path": path, "state": "hard"}}]
        return _set_through_link(attributes, state.src, path, commands, diff, result)


def _inspect_script(args: dict[str, Any]) -> str:
    """One script printing the umask, whether a link was followed, the path, its stat, the link's
    target and its stat [, src, its stat, whether the path is an empty directory] [, the closest
    existing ancestor] [, the stat of everything under the directory]."""
    path, state = path_of(args), args.get("state")
    follow = "true" if state in FOLLOWED and args.get("follow", True) else "false"
    script = [assign(p=path), "umask",
              f'if [ -L "$p" ] && {follow}; then e=$(readlink -m -- "$p"); echo 1; else e=$p; echo 0; fi',
              'echo "$e"', stat_line("e"),
              f'if [ -L "$e" ]; then readlink -- "$e"; {stat_line("e", follow=True)}; else echo; echo -; fi']
    if _links(args):
        src = args["src"]
        inside = f'"$e"/{shlex.quote(src)}'
        script += [f'if [ -d "$e" ] && [ ! -L "$e" ]; then s={inside}; else {assign(s=_beside(path, src))}; fi'
                   if not posixpath.isabs(src) else assign(s=src),
                   'echo "$s"', stat_line("s", follow=True),
                   'if [ -d "$e" ] && [ ! -L "$e" ] && [ -z "$(ls -A -- "$e")" ]; then echo 1; else echo 0; fi']
    if _makes_directory(args):
        script.append('a=$e; while [ ! -e "$a" ] && [ ! -L "$a" ]; do a=$(dirname -- "$a"); done; echo "$a"')
    if args.get("recurse"):
        script.append(f'[ ! -d "$e" ] || find "$e" -mindepth 1 ! -type l -exec stat -c '
                      f'{shlex.quote(STAT_FORMAT + " %n")} -- {{}} +')
    return "\n".join(script)


def _inspected(args: dict[str, Any], output: list[str]) -> PathState:
    """The state printed by :func:`_inspect_script`."""
    lines: Iterator[str] = iter(output)
    umask, via_link, effective = parse_umask(next(lines)), next(lines) == "1", next(lines)
    lstat = parse_stat(next(lines))
    found = PathState(effective, lstat, next(lines) or None, parse_stat(next(lines)), umask, via_link)
    if _links(args):
        found = dataclasses.replace(found, src_path=next(lines), src=parse_stat(next(lines)),
                                    dir_empty=next(lines) == "1")
    if _makes_directory(args):
        found = dataclasses.replace(found, existing_ancestor=next(lines))
    if args.get("recurse"):
        found = dataclasses.replace(found, entries=tuple(_entries(lines)))
    return found


def _links(args: dict[str, Any]) -> bool:
    return args.get("state") in ("link", "hard") or (args.get("state") is None and "src" in args)


def _makes_directory(args: dict[str, Any]) -> bool:
    return args.get("state") == "directory" or (args.get("state") is None and bool(args.get("recurse")))


def _act_script(decision: Decision) -> str:
    """The plan's commands on ``$p``, then (unless it is removed) its stat."""
    plan: FilePlan = decision.plan
    result = decision.result
    script = f"{assign(p=result.get('path') or result['dest'])}\n" + " && ".join(plan.commands)
    if result.get("state") == "absent":
        return script
    return f"{script} && {stat_line('p', follow=plan.follow)}"


def _acted(decision: Decision, output: list[str]) -> dict[str, Any]:
    """The result of :func:`_act_script`: the decision's, with the path's new attributes."""
    result = dict(decision.result)
    if result.get("state") != "absent":
        stat = parse_stat(last_line(output))
        if stat is not None:
            result.update(stat.attributes())
    return result


def _set_through_link(attributes: Attributes, target: FileStat | None, path: str, commands: list[str],
                      diff: list[dict[str, Any]], result: dict[str, Any]) -> Decision:
    """After ``commands`` (which make the link), mode and ownership of the link's ``target``."""
    if attributes.mode is None and attributes.owner is None and attributes.group is None:
        before, after = {}, {}
    elif target is None:
        return _fail(f"cannot set mode or owner through {path}: it points to nothing", path)
    else:
        before, after = attributes.changes(path, target)
    mode = attributes.mode_for(target.permissions, target.kind == "directory") if "mode" in before else None
    commands = [*commands, *(attributes.commands('"$p"', mode) if before else [])]
    return Decision(bool(commands), result, diff=diff + attribute_diff(before, after),
                    plan=FilePlan(commands, follow=False))


def _set_attributes(args: dict[str, Any], state: PathState, commands: list[str], diff: list[dict[str, Any]],
                    result_key: str = "path") -> Decision:
    """Mode and ownership on an existing path (after ``commands``, changed when there are any)."""
    assert state.lstat is not None
    attributes = Attributes.from_args(args, state.umask)
    before, after = attributes.changes(state.path, state.lstat)
    result = {result_key: state.path, **state.lstat.attributes()}
    if not before and not commands:
        return Decision(False, result)
    mode = attributes.mode_for(state.lstat.permissions, state.lstat.kind == "directory") if before else None
    plan = FilePlan([*commands, *(attributes.commands('"$p"', mode) if before else [])])
    return Decision(True, result, diff=diff + attribute_diff(before, after), plan=plan)


def _set_recursively(args: dict[str, Any], state: PathState) -> Decision:
    """Mode and ownership on a directory and everything in it (symbolic links excepted). A symbolic
    mode can give each entry different bits: the entries are chmod-ed in groups of the same result."""
    assert state.lstat is not None
    attributes = Attributes.from_args(args, state.umask)
    diff: list[dict[str, Any]] = []
    by_mode: dict[int, list[str]] = {}
    for path, stat in ((state.path, state.lstat), *state.entries):
        before, after = attributes.changes(path, stat)
        diff += attribute_diff(before, after)
        if "mode" in before:
            by_mode.setdefault(int(after["mode"], 8), []).append(shlex.quote(path))
    result = {"path": state.path, **state.lstat.attributes()}
    if not diff:
        return Decision(False, result)
    commands = attributes.commands('"$p"', None, recurse=True)
    if by_mode and not modes.is_symbolic(attributes.mode):
        commands.append(f'chmod -R {modes.chmod_argument(next(iter(by_mode)))} -- "$p"')
    else:
        commands += [f"chmod {modes.chmod_argument(mode)} -- {' '.join(paths)}" for mode, paths in by_mode.items()]
    return Decision(True, result, diff=diff, plan=FilePlan(commands))


def _default_state(previous: str, args: dict[str, Any]) -> str:
    """Ansible's default: what the path is now, else directory when recursing, else file."""
    if previous in ("file", "directory", "link"):
        return previous
    if previous == "hard":
        return "file"
    return "directory" if args.get("recurse") else "file"


def _fail(message: str, path: str, **fields: Any) -> Decision:
    return Decision(False, {"path": path, **fields, "msg": message}, failed=True)


def _state_diff(path: str, before: str, after: str, default_mode: int | None = None,
                mode: int | None = None) -> list[dict[str, Any]]:
    """Before and after of a path's state (and of the mode a new path gets instead of the default)."""
    entry = {"before": {"path": path, "state": before}, "after": {"path": path, "state": after}}
    if mode is not None and default_mode is not None and mode != default_mode:
        entry["before"]["mode"], entry["after"]["mode"] = modes.diff_octal(default_mode), modes.diff_octal(mode)
    return [entry]


def _ancestors(path: str) -> list[str]:
    """``path`` and its parents, deepest first, ending with the root (or '.')."""
    found = [posixpath.normpath(path)]
    while found[-1] not in ("/", "."):
        found.append(posixpath.dirname(found[-1]) or ".")
    return found


def _beside(path: str, src: str) -> str:
    """A relative link target as seen from the link's folder."""
    return posixpath.join(posixpath.dirname(path), src)


def _entries(lines: Iterator[str]) -> Iterator[tuple[str, FileStat]]:
    """(path, stat) of each ``STAT_FORMAT %n`` line."""
    for line in lines:
        if line:
            fields = line.split(" ", 16)
            stat = parse_stat(" ".join(fields[:16]))
            if stat is not None:
                yield fields[16], stat
