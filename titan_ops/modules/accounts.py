"""``user`` and ``group``: local accounts, with the shadow utilities (useradd, usermod, userdel,
groupadd, groupmod, groupdel) over the shell.

inspect is one read-only command (``getent``) for the account, its groups and the groups the task
names; decide compares that with the task; act runs one add, change or delete command with the
arguments as a list (so names and comments stay data). Check mode stops after decide. In diff mode
the account's attributes before and after are shown. A group the task names must exist, except in
check mode, where an earlier task would have created it (as Ansible assumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

# $1: the account; $2: "user" or "group"; then the group names the task mentions. Prints sections
# separated by lines of "--": the account's entry, the groups listing it as a member (user only),
# its shadow password field (user only), then "name:gid" for each mentioned group that exists.
_INSPECT = r"""
name=$1 kind=$2; shift 2
command -v getent >/dev/null 2>&1 || { echo "getent not found on this host" >&2; exit 127; }
if [ "$kind" = user ]; then
  getent passwd -- "$name"
  echo --
  getent group | awk -F: -v user="$name" \
    '{ n = split($4, members, ","); for (i = 1; i <= n; i++) if (members[i] == user) print $1 }'
  echo --
  getent shadow -- "$name" 2>/dev/null | cut -d: -f2
else
  getent group -- "$name" | cut -d: -f1,3
  echo --
  echo --
fi
echo --
for group in "$@"; do getent group -- "$group" | cut -d: -f1,3; done
exit 0
"""

_NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.-]*[$]?$"
_STATE = {"enum": ["present", "absent"], "default": "present", "description": "Whether the account exists."}


@dataclass(frozen=True)
class Account:
    """What ``getent`` shows of one account (``exists`` False when there is none)."""

    exists: bool
    uid: int | None = None
    gid: int | None = None
    comment: str = ""
    home: str = ""
    shell: str = ""
    groups: tuple[str, ...] = ()
    password: str | None = None
    known_groups: dict[str, int] = field(default_factory=dict)
    """The groups the task names that exist, and their gid."""


def _inspect(host: HostContext, name: str, kind: str, groups: list[str]) -> Account | str:
    done = host.run(["/bin/sh", "-c", _INSPECT, "sh", name, kind, *groups])
    if done.rc != 0:
        return done.stderr.strip() or f"exit status {done.rc}"
    sections = done.stdout.split("--\n")
    entry, members, shadow, known = (sections + ["", "", "", ""])[:4]
    known_groups = {line.split(":")[0]: int(line.split(":")[1]) for line in known.splitlines() if ":" in line}
    fields = entry.strip().split(":")
    if not entry.strip():
        return Account(False, known_groups=known_groups)
    if kind == "group":
        return Account(True, gid=int(fields[1]), known_groups=known_groups)
    return Account(True, uid=int(fields[2]), gid=int(fields[3]), comment=fields[4], home=fields[5], shell=fields[6],
                   groups=tuple(sorted(members.split())), password=shadow.strip() or None, known_groups=known_groups)


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def _described(fields: dict[str, Any]) -> str:
    return "".join(f"{key}: {value}\n" for key, value in fields.items() if value is not None)


class Group(Module):
    """A local group, with groupadd, groupmod and groupdel."""

    name = "group"
    description = "Create, change (gid) or remove a local group, with groupadd/groupmod/groupdel."
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": _NAME_PATTERN, "description": "The group."},
            "state": _STATE,
            "gid": {"type": "integer", "minimum": 0, "description": "The group id."},
            "system": {"type": "boolean", "default": False, "description": "Create a system group (groupadd -r)."},
            "non_unique": {"type": "boolean", "default": False, "description": "Allow a gid already in use (-o)."},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Account | str:
        return _inspect(host, args["name"], "group", [])

    def decide(self, args: dict[str, Any], state: Account | str, host: HostContext) -> Decision:
        name, wanted = args["name"], args.get("state", "present")
        if isinstance(state, str):
            return Decision(False, {"name": name, "msg": f"cannot read the groups: {state}"}, failed=True)
        result: dict[str, Any] = {"name": name, "state": wanted}
        if wanted == "absent":
            diff = [_diff(name, {"gid": state.gid}, {})] if state.exists else []
            return Decision(state.exists, result, diff, plan=["groupdel", "--", name])
        result["system"] = bool(args.get("system"))
        gid = args.get("gid")
        flags = ["-g", str(gid)] + (["-o"] if args.get("non_unique") else []) if gid is not None else []
        if not state.exists:
            command = ["groupadd", *(["-r"] if args.get("system") else []), *flags, "--", name]
            return Decision(True, {**result, "gid": gid}, [_diff(name, {}, {"gid": gid if gid is not None else "new"})],
                            plan=command)
        result["gid"] = state.gid
        if gid is None or gid == state.gid:
            return Decision(False, result)
        return Decision(True, {**result, "gid": gid}, [_diff(name, {"gid": state.gid}, {"gid": gid})],
                        plan=["groupmod", *flags, "--", name])

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return _run(host, decision, args["name"], "group")


class User(Module):
    """A local user account, with useradd, usermod and userdel."""

    name = "user"
    description = ("Create, change or remove a local user (uid, primary group, groups, shell, home, comment, "
                   "password hash), with useradd/usermod/userdel.")
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": _NAME_PATTERN, "description": "The user."},
            "state": _STATE,
            "uid": {"type": "integer", "minimum": 0, "description": "The user id."},
            "non_unique": {"type": "boolean", "default": False, "description": "Allow a uid already in use (-o)."},
            "group": {"type": "string", "minLength": 1, "description": "The primary group (it must exist)."},
            "groups": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                       "description": "Supplementary groups (they must exist); `[]` with `append: false` removes "
                                      "every one."},
            "append": {"type": "boolean", "default": False,
                       "description": "Add `groups` to the user's groups instead of replacing them."},
            "shell": {"type": "string", "description": "The login shell."},
            "home": {"type": "string", "description": "The home folder."},
            "move_home": {"type": "boolean", "default": False,
                          "description": "Move the home folder's content when `home` changes."},
            "comment": {"type": "string", "description": "The comment (GECOS) field."},
            "create_home": {"type": "boolean", "default": True, "description": "Create the home folder (-m)."},
            "createhome": {"type": "boolean", "description": "Alias of create_home."},
            "system": {"type": "boolean", "default": False, "description": "Create a system account (useradd -r)."},
            "password": {"type": "string", "description": "The password hash (crypt format) for /etc/shadow."},
            "update_password": {"enum": ["always", "on_create"], "default": "always",
                                "description": "`on_create` sets `password` only for a new user."},
            "remove": {"type": "boolean", "default": False,
                       "description": "With `state: absent`, remove the home folder and mail spool (-r)."},
            "force": {"type": "boolean", "default": False,
                      "description": "With `state: absent`, remove the user even while logged in (-f)."},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Account | str:
        mentioned = ([args["group"]] if "group" in args else []) + _names(args.get("groups"))
        return _inspect(host, args["name"], "user", mentioned)

    def decide(self, args: dict[str, Any], state: Account | str, host: HostContext) -> Decision:
        name, wanted = args["name"], args.get("state", "present")
        if isinstance(state, str):
            return Decision(False, {"name": name, "msg": f"cannot read the accounts: {state}"}, failed=True)
        if wanted == "absent":
            result = {"name": name, "state": "absent", "force": bool(args.get("force")),
                      "remove": bool(args.get("remove"))}
            command = ["userdel", *(["-r"] if args.get("remove") else []), *(["-f"] if args.get("force") else []),
                       "--", name]
            diff = [_diff(name, _attributes(state), {})] if state.exists else []
            return Decision(state.exists, result, diff, plan=command)
        missing = [group for group in ([args["group"]] if "group" in args else []) + _names(args.get("groups"))
                   if group not in state.known_groups and not group.isdigit()]
        if missing and not host.check_mode:  # in check mode an earlier task may have made it, as Ansible assumes
            return Decision(False, {"name": name, "msg": f"Group {missing[0]} does not exist"}, failed=True)
        return self._create(args, state) if not state.exists else self._change(args, state)

    def _create(self, args: dict[str, Any], state: Account) -> Decision:
        name = args["name"]
        create_home = args.get("create_home", args.get("createhome", True))
        asked = {key: args[key] for key in ("uid", "comment", "home", "shell", "group") if key in args}
        if _names(args.get("groups")):
            asked["groups"] = _names(args["groups"])
        command = ["useradd", *(["-r"] if args.get("system") else []), *(["-m"] if create_home else ["-M"]),
                   *_options(asked, bool(args.get("non_unique")))]
        if "password" in args:
            command += ["-p", args["password"]]
        result = {"name": name, "state": "present", "system": bool(args.get("system")), "create_home": create_home,
                  **{key: args[key] for key in ("uid", "comment", "home", "shell") if key in args}}
        if "groups" in args:
            result["groups"] = ",".join(_names(args["groups"]))
        return Decision(True, result, [_diff(name, {}, _wanted(args, state))], plan=[*command, "--", name])

    def _change(self, args: dict[str, Any], state: Account) -> Decision:
        name = args["name"]
        changes: dict[str, Any] = {}
        for key, current in (("uid", state.uid), ("comment", state.comment), ("home", state.home),
                             ("shell", state.shell)):
            if key in args and args[key] != current:
                changes[key] = args[key]
        if "group" in args:
            gid = _gid(args["group"], state)
            if gid != state.gid:
                changes["group"] = args["group"]
        groups = list(state.groups)
        if "groups" in args:
            asked = _names(args["groups"])
            groups = sorted(set(state.groups) | set(asked)) if args.get("append") else sorted(set(asked))
            if set(groups) != set(state.groups):
                changes["groups"] = groups
        if "password" in args and args.get("update_password", "always") == "always" \
                and args["password"] != state.password:
            changes["password"] = args["password"]
        after = {**_attributes(state), **changes, **({"groups": ",".join(groups)} if "groups" in changes else {})}
        result = {"name": name, "state": "present", "append": bool(args.get("append")),
                  "move_home": bool(args.get("move_home")), "uid": after["uid"],
                  "group": _gid(after["group"], state) if "group" in changes else state.gid,
                  "comment": after["comment"], "home": after["home"], "shell": after["shell"]}
        if "groups" in args:
            result["groups"] = ",".join(groups)
        if not changes:
            return Decision(False, result)
        command = ["usermod", *_options({key: value for key, value in changes.items() if key != "password"},
                                        bool(args.get("non_unique")))]
        if "password" in changes:
            command += ["-p", changes["password"]]
        if "home" in changes and args.get("move_home"):
            command.append("-m")
        shown = {key: ("(changed)" if key == "password" else value) for key, value in changes.items()}
        before = {key: ("(set)" if key == "password" else _attributes(state).get(key)) for key in changes}
        return Decision(True, result, [_diff(name, before, shown)], plan=[*command, "--", name])

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return _run(host, decision, args["name"], "user")


def _options(wanted: dict[str, Any], non_unique: bool) -> list[str]:
    """useradd/usermod options setting the attributes in ``wanted``."""
    options: list[str] = []
    for key, flag in (("uid", "-u"), ("comment", "-c"), ("home", "-d"), ("shell", "-s"), ("group", "-g")):
        if key in wanted:
            options += [flag, str(wanted[key])]
    if "uid" in wanted and non_unique:
        options.append("-o")
    if "groups" in wanted:
        options += ["-G", ",".join(wanted["groups"])]
    return options


def _gid(group: str, state: Account) -> int | None:
    return int(group) if group.isdigit() else state.known_groups.get(group)


def _attributes(state: Account) -> dict[str, Any]:
    return {"uid": state.uid, "group": state.gid, "comment": state.comment, "home": state.home,
            "shell": state.shell, "groups": ",".join(state.groups)}


def _wanted(args: dict[str, Any], state: Account) -> dict[str, Any]:
    return {key: args[key] for key in ("uid", "group", "comment", "home", "shell") if key in args} | (
        {"groups": ",".join(_names(args["groups"]))} if "groups" in args else {})


def _diff(name: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {"before": _described(before), "after": _described(after), "before_header": name, "after_header": name}


def _run(host: HostContext, decision: Decision, name: str, kind: str) -> dict[str, Any]:
    done = host.run(decision.plan)
    result = dict(decision.result)
    if done.rc != 0:
        result.update(failed=True, rc=done.rc, msg=f"{decision.plan[0]} failed for {kind} {name}: "
                                                   f"{done.stderr.strip() or done.stdout.strip()}")
        return result
    if done.stderr.strip():
        result.update(stderr=done.stderr, stderr_lines=done.stderr.splitlines())
    if decision.plan[0] in ("groupadd", "useradd"):  # what the system chose (ids, defaults) is reported
        created = _inspect(host, name, kind, [])
        if isinstance(created, Account) and kind == "group":
            result["gid"] = created.gid
        elif isinstance(created, Account):
            result.update(uid=created.uid, group=created.gid, comment=created.comment, home=created.home,
                          shell=created.shell)
    return result
