"""``service``: start, stop, restart, reload, enable and disable a systemd unit.

inspect is one remote command that runs ``systemctl is-active`` and
``systemctl is-enabled``; decide compares that with the asked ``state`` and
``enabled``; act runs ``systemctl enable|disable`` and then
``systemctl start|stop|restart|reload`` in one command. Check mode stops
after decide, so it never calls anything but the two read-only queries.

Which manager runs a Titan service (systemd in production, pm2 in the lab)
is chosen per service by inventory variables; this module is the systemd
one. The tests drive it through a stand-in ``systemctl`` (tests/standins/)
put first on the ``PATH`` by the task's ``environment``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

# $1 is the unit. Prints four lines: is-active's word and exit code, then
# is-enabled's (its error message when it printed no word).
_INSPECT = """
command -v systemctl >/dev/null 2>&1 || { echo "systemctl not found on this host" >&2; exit 127; }
active=$(systemctl is-active -- "$1" 2>/dev/null); active_rc=$?
enabled=$(systemctl is-enabled -- "$1" 2>&1); enabled_rc=$?
printf '%s\\n%s\\n%s\\n%s\\n' "$active" "$active_rc" "$(echo "$enabled" | tr '\\n' ' ')" "$enabled_rc"
"""

_RUNNING = ("active", "activating", "reloading")
_NOT_FOUND_SIGNS = ("not-found", "No such file or directory", "not found", "does not exist")


@dataclass(frozen=True)
class UnitState:
    """What systemctl says about one unit."""

    active: str
    """``is-active``'s word: active, inactive, failed, activating, ..."""
    enabled_word: str
    """``is-enabled``'s word (enabled, disabled, static, masked, ...) or its error."""
    enabled_rc: int

    @property
    def found(self) -> bool:
        return not (self.enabled_rc != 0 and any(sign in self.enabled_word for sign in _NOT_FOUND_SIGNS))

    @property
    def running(self) -> bool:
        return self.active in _RUNNING

    @property
    def enabled(self) -> bool:
        """As systemd counts it: ``is-enabled`` exits 0 (enabled, static, alias, indirect, ...)."""
        return self.enabled_rc == 0


class Service(Module):
    """Manage a systemd unit with systemctl."""

    name = "service"
    description = "Start, stop, restart, reload, enable or disable a systemd unit (systemctl)."
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1,
                     "description": "The unit, e.g. `postgresql` or `redis-server.service` "
                                    "(without a suffix systemctl reads `.service`)."},
            "state": {"enum": ["started", "stopped", "restarted", "reloaded"],
                      "description": "`started` and `stopped` act only when needed; `restarted` always restarts; "
                                     "`reloaded` always reloads a running unit and starts a stopped one."},
            "enabled": {"type": "boolean",
                        "description": "Whether the unit starts at boot (`systemctl enable`/`disable`). "
                                       "A static unit counts as enabled."},
        },
        "required": ["name"],
        "anyOf": [{"required": ["state"]}, {"required": ["enabled"]}],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> UnitState | str:
        done = host.run(["/bin/sh", "-c", _INSPECT, "sh", args["name"]])
        lines = done.stdout.split("\n")
        if done.rc != 0 or len(lines) < 4:
            return (done.stderr.strip() or done.stdout.strip() or f"exit status {done.rc}")
        return UnitState(lines[0].strip(), lines[2].strip(), int(lines[3]))

    def decide(self, args: dict[str, Any], state: UnitState | str, host: HostContext) -> Decision:
        name = args["name"]
        if isinstance(state, str):
            return Decision(False, {"name": name, "msg": f"cannot query {name}: {state}"}, failed=True)
        if not state.found:
            return Decision(False, {"name": name, "msg": f"Could not find the requested service {name}: "
                                                        f"{state.enabled_word}"}, failed=True)
        steps = []
        wanted_enabled = args.get("enabled")
        if wanted_enabled is not None and wanted_enabled != state.enabled:
            steps.append("enable" if wanted_enabled else "disable")
        wanted = args.get("state")
        if wanted == "started" and not state.running:
            steps.append("start")
        elif wanted == "stopped" and state.running:
            steps.append("stop")
        elif wanted == "restarted":
            steps.append("restart")
        elif wanted == "reloaded":
            steps.append("reload" if state.running else "start")
        running_after = state.running if not steps else (wanted in ("started", "restarted", "reloaded")
                                                         or (wanted is None and state.running))
        enabled_after = state.enabled if wanted_enabled is None else wanted_enabled
        result = {"name": name, "state": _state_word(running_after), "enabled": enabled_after,
                  "status": {"ActiveState": state.active, "UnitFileState": state.enabled_word}}
        if steps:
            result["commands"] = [["systemctl", step, name] for step in steps]
        before = f"active: {state.active}\nenabled: {state.enabled_word}\n"
        after = f"active: {'active' if running_after else 'inactive'}\n" \
                f"enabled: {_enabled_word(state, enabled_after)}\n"
        diff = [{"before": before, "after": after, "before_header": name, "after_header": name}] if steps else []
        return Decision(bool(steps), result, diff, plan=steps)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        script = " && ".join(f'systemctl {step} -- "$1"' for step in decision.plan)
        done = host.run(["/bin/sh", "-c", script, "sh", args["name"]])
        result = dict(decision.result)
        if done.rc != 0:
            result.update(failed=True, rc=done.rc, stderr=done.stderr.strip(),
                          msg=f"systemctl failed for {args['name']}: {done.stderr.strip() or done.stdout.strip()}")
        return result


def _state_word(running: bool) -> str:
    return "started" if running else "stopped"


def _enabled_word(state: UnitState, enabled: bool) -> str:
    if enabled == state.enabled:
        return state.enabled_word
    return "enabled" if enabled else "disabled"
