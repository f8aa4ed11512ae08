"""``pm2``: start, stop, restart, reload or delete one app of a pm2 daemon.

inspect is one remote command, ``pm2 jlist`` (preceded by ``date +%s`` for
the uptimes; when pm2's daemon is not running it is not started, and there
are no apps); decide compares the app's status with the asked ``state``;
act runs the one pm2 command needed and reads ``pm2 jlist`` again, in the
same remote command, to report the apps as they are afterwards. Check mode
stops after decide. ``started`` on an app already online, ``stopped`` on one
not running and ``absent`` on one pm2 does not know are no change.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

# $1 is pm2. A daemon that is not running is not started (pm2 jlist would start one): no apps.
_INSPECT = ('date +%s; home=${PM2_HOME:-$HOME/.pm2}; '
            'if [ -f "$home/pm2.pid" ] && kill -0 "$(cat "$home/pm2.pid")" 2>/dev/null; then exec "$1" jlist; fi; '
            'command -v "$1" >/dev/null || exit 127; echo "[]"')
# $1 is pm2, the rest the action's arguments: its chatter goes to stderr,
# stdout is the clock and the apps afterwards; the exit code is the action's.
_ACT = 'pm2=$1; shift; "$pm2" "$@" >&2; rc=$?; date +%s; "$pm2" jlist; exit $rc'
_RUNNING = ("online", "launching", "waiting restart")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class App:
    """One app as ``pm2 jlist`` describes it."""

    name: str
    pm_id: int
    status: str
    pid: int
    restarts: int
    memory: int
    """Resident memory in bytes."""
    cpu: float
    uptime: int
    """Seconds since the app (re)started; 0 when it is not running."""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pm_id": self.pm_id, "status": self.status, "pid": self.pid,
                "restarts": self.restarts, "memory": self.memory, "cpu": self.cpu, "uptime": self.uptime}


def parse_jlist(stdout: str) -> list[App]:
    """The apps in the output of ``date +%s; pm2 jlist``.

    pm2 prints its banner and daemon messages before the JSON when it has to
    start its daemon: the JSON is the last line that parses as a list.
    Raises ValueError when there is none.
    """
    lines = [_ANSI.sub("", line).strip() for line in stdout.splitlines()]
    now = int(lines[0]) if lines and lines[0].isdigit() else 0
    for line in reversed(lines):
        if not line.startswith("["):
            continue
        try:
            entries = json.loads(line)
        except ValueError:
            continue
        return [_app(entry, now) for entry in entries]
    raise ValueError(f"no JSON list in pm2 jlist's output: {stdout.strip()[-300:]!r}")


def _app(entry: dict[str, Any], now: int) -> App:
    env = entry.get("pm2_env") or {}
    monit = entry.get("monit") or {}
    status = str(env.get("status", "unknown"))
    started_ms = env.get("pm_uptime") or 0
    uptime = max(0, now - int(started_ms) // 1000) if status == "online" and now and started_ms else 0
    return App(name=str(entry.get("name")), pm_id=int(entry.get("pm_id", env.get("pm_id", -1))), status=status,
               pid=int(entry.get("pid") or 0), restarts=int(env.get("restart_time") or 0),
               memory=int(monit.get("memory") or 0), cpu=float(monit.get("cpu") or 0), uptime=uptime)


class Pm2(Module):
    """Drive one pm2 app, idempotently, from ``pm2 jlist``."""

    name = "pm2"
    collection = None
    description = "Start, stop, restart, reload or delete a pm2 app; report every app's status."
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "The app's name in pm2."},
            "state": {"enum": ["started", "stopped", "restarted", "reloaded", "absent"], "default": "started",
                      "description": "`started` starts the app unless it is online; `stopped` stops it if it runs; "
                                     "`restarted` and `reloaded` (zero-downtime for cluster apps) always act; "
                                     "`absent` deletes it from pm2's list."},
            "ecosystem": {"type": "string", "minLength": 1,
                          "description": "Path on the host of an ecosystem file (`ecosystem.config.js`): the app "
                                         "is started, restarted or reloaded from it with `--only NAME` (and "
                                         "`--update-env`), so its settings apply; the command runs in the file's "
                                         "folder. Needed to start an app pm2 does not know yet."},
            "pm2_home": {"type": "string", "minLength": 1,
                         "description": "The daemon's `PM2_HOME`; else `PM2_HOME` of the task's environment, "
                                        "else pm2's default (`~/.pm2`)."},
            "executable": {"type": "string", "default": "pm2", "minLength": 1,
                           "description": "The pm2 command (a path or a name on the PATH)."},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> list[App] | str:
        done = host.run(["/bin/sh", "-c", _INSPECT, "sh", args.get("executable", "pm2")], env=_env(args))
        if done.rc != 0:
            return _failure(done.rc, done.stderr or done.stdout, args)
        try:
            return parse_jlist(done.stdout)
        except ValueError as error:
            return str(error)

    def decide(self, args: dict[str, Any], state: list[App] | str, host: HostContext) -> Decision:
        name, wanted = args["name"], args.get("state", "started")
        if isinstance(state, str):
            return Decision(False, {"name": name, "msg": state}, failed=True)
        app = next((candidate for candidate in state if candidate.name == name), None)
        status = app.status if app else "absent"
        result: dict[str, Any] = {"name": name, "status": status, "apps": [each.to_dict() for each in state]}
        command = _command(args, wanted, app)
        if command is None:
            return Decision(False, result)
        if not command:
            result["msg"] = f"pm2 has no app {name} and no ecosystem file was given to start it from"
            return Decision(False, result, failed=True)
        after = {"stopped": "stopped", "absent": "absent"}.get(wanted, "online")
        result["command"] = ["pm2", *command]
        diff = [{"before": f"{name}: {status}\n", "after": f"{name}: {after}\n",
                 "before_header": f"pm2 app {name}", "after_header": f"pm2 app {name}"}]
        return Decision(True, result, diff, plan=command)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        ecosystem: str | None = args.get("ecosystem")
        cwd = (posixpath.dirname(ecosystem) or None) if ecosystem and ecosystem in decision.plan else None
        done = host.run(["/bin/sh", "-c", _ACT, "sh", args.get("executable", "pm2"), *decision.plan],
                        env=_env(args), cwd=cwd)
        result = dict(decision.result)
        try:
            apps = parse_jlist(done.stdout)
        except ValueError:
            apps = None
        if apps is not None:
            app = next((candidate for candidate in apps if candidate.name == args["name"]), None)
            result.update(status=app.status if app else "absent", apps=[each.to_dict() for each in apps])
        if done.rc != 0:
            result.update(failed=True, rc=done.rc,
                          msg=_failure(done.rc, done.stderr or done.stdout, args, " ".join(decision.plan)))
        elif apps is None:
            result.update(failed=True, msg=f"pm2 {decision.plan[0]} ran, but pm2 jlist was unreadable afterwards")
        return result


def _command(args: dict[str, Any], wanted: str, app: App | None) -> list[str] | None:
    """pm2's arguments for the change; None: no change; []: a change that cannot be made."""
    name, ecosystem = args["name"], args.get("ecosystem")
    running = app is not None and app.status in _RUNNING
    if wanted == "absent":
        return ["delete", name] if app else None
    if wanted == "stopped":
        return ["stop", name] if running else None
    if wanted == "started" and running:
        return None
    if app is None or wanted == "started":
        if ecosystem:
            return ["start", ecosystem, "--only", name]
        return ["start", name] if app else []
    verb = "restart" if wanted == "restarted" else "reload"
    return [verb, ecosystem, "--only", name, "--update-env"] if ecosystem else [verb, name]


def _env(args: dict[str, Any]) -> dict[str, str] | None:
    return {"PM2_HOME": args["pm2_home"]} if "pm2_home" in args else None


def _failure(rc: int, output: str, args: dict[str, Any], action: str = "jlist") -> str:
    if rc == 127:
        return f"pm2 not found on this host ({args.get('executable', 'pm2')})"
    lines = [line.strip() for line in _ANSI.sub("", output).splitlines() if line.strip()]
    return f"pm2 {action} failed (exit status {rc}): {' '.join(lines[-3:]) or 'no output'}"
