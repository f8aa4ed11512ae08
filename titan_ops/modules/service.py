"""``service``: start, stop, restart, reload, enable and disable a systemd unit.

This is also where ``systemd_service`` (:mod:`titan_ops.modules.systemd_service`) has its systemctl logic:
both modules read a task's arguments as a :class:`Request` (``service`` gives only ``name``, ``state`` and
``enabled``), as ansible-core's ``service`` hands a systemd host's work to its ``systemd`` module.

inspect is one remote command that runs ``systemctl show`` and ``systemctl is-enabled``; decide compares
that with the request and plans the systemctl commands, in ansible-core's order: mask or unmask, enable or
disable, then the state; act runs them in one command. Check mode stops after decide, so it never calls
anything but the read-only queries. ``daemon_reload``/``daemon_reexec`` are no change of the unit: they
make systemd read its files again before the queries (so inspect runs them first, except in check mode),
and are not reported as changes, as in ansible-core.

Which manager runs a Titan service (systemd in production, pm2 in the lab) is chosen per service by
inventory variables; this module is the systemd one. The tests drive it through a stand-in ``systemctl``
(tests/standins/) put first on the ``PATH`` by the task's ``environment``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

# Every command starts so: systemctl must be there, and a user scope finds its bus where a login would
# have put it (as ansible-core does when XDG_RUNTIME_DIR is not set).
_PRELUDE = """
command -v systemctl >/dev/null 2>&1 || { echo "systemctl not found on this host" >&2; exit 127; }
: "${XDG_RUNTIME_DIR:=/run/user/$(id -u)}"; export XDG_RUNTIME_DIR
"""

# $1 is the unit ("" for none), $2 the daemon verbs to run first, the rest systemctl's options. A verb
# that fails prints "failed VERB RC" (its error on stderr); then "ok", and for a unit: is-enabled's exit
# code and word (its error when it printed none), show's exit code and show's lines.
_INSPECT = _PRELUDE + """
unit=$1; daemon=$2; shift 2
for verb in $daemon; do
    err=$(systemctl "$@" "$verb" 2>&1 >/dev/null) ||
        { printf 'failed %s %s\\n' "$verb" "$?"; printf '%s\\n' "$err" >&2; exit 0; }
done
echo ok
[ -n "$unit" ] || exit 0
enabled=$(systemctl "$@" is-enabled -- "$unit" 2>&1); enabled_rc=$?
show=$(systemctl "$@" show -- "$unit" 2>&1); show_rc=$?
printf '%s\\n%s\\n%s\\n%s\\n' "$enabled_rc" "$(echo "$enabled" | tr '\\n' ' ')" "$show_rc" "$show"
"""

# $1 is the unit, $2 the planned verbs, the rest systemctl's options. A verb that fails prints
# "VERB RC", its output on stderr, and ends the command.
_ACT = _PRELUDE + """
unit=$1; plan=$2; shift 2
for verb in $plan; do
    out=$(systemctl "$@" "$verb" -- "$unit" 2>&1) ||
        { printf '%s %s\\n' "$verb" "$?"; printf '%s\\n' "$out" >&2; exit 1; }
done
"""

_RUNNING = ("active", "activating", "reloading")
_NOT_ENABLED_YET = ("enabled-runtime", "indirect", "alias")
"""is-enabled words (exit 0) that ``enabled: true`` still enables, as ansible-core."""
_GLOB = ("*", "?", "[")
_UNIT_FILE_STATES = ("enabled", "enabled-runtime", "linked", "linked-runtime", "masked", "masked-runtime", "static",
                     "indirect", "disabled", "generated", "transient", "alias")
"""is-enabled's words for a unit file it found."""


@dataclass(frozen=True)
class Request:
    """A task's arguments, aliases resolved and defaults applied."""

    unit: str | None
    state: str | None = None
    enabled: bool | None = None
    masked: bool | None = None
    daemon: tuple[str, ...] = ()
    """``daemon-reload`` and ``daemon-reexec`` when asked, in that order."""
    options: tuple[str, ...] = ()
    """systemctl's options: ``--user``/``--global``, ``--no-block``, ``--force``."""

    @classmethod
    def of(cls, args: dict[str, Any]) -> Request:
        def given(*names: str) -> Any:
            return next((args[name] for name in names if args.get(name) is not None), None)

        scope = args.get("scope") or "system"
        options = ((f"--{scope}",) if scope != "system" else ()) + (("--no-block",) if args.get("no_block") else ()) \
            + (("--force",) if args.get("force") else ())
        daemon = tuple(verb for verb in ("daemon-reload", "daemon-reexec") if given(verb.replace("-", "_"), verb))
        return cls(given("name", "service", "unit"), args.get("state"), args.get("enabled"), args.get("masked"),
                   daemon, options)


@dataclass(frozen=True)
class UnitState:
    """What systemctl says about one unit."""

    status: dict[str, str]
    """``systemctl show``'s properties."""
    enabled_word: str
    """``is-enabled``'s word (enabled, disabled, static, masked, ...) or its error."""
    enabled_rc: int

    @property
    def found(self) -> bool:
        if not self.status:  # (show could not be asked)
            return self.enabled_word in _UNIT_FILE_STATES
        return self.status.get("LoadState", "not-found") != "not-found"

    @property
    def masked(self) -> bool:
        return self.enabled_word == "masked"

    @property
    def active(self) -> str:
        return self.status.get("ActiveState", "unknown")

    @property
    def running(self) -> bool:
        return self.active in _RUNNING

    @property
    def enabled(self) -> bool:
        """As ansible-core counts it: ``is-enabled`` exits 0 (enabled, static, ...), except for a unit enabled
        for this boot only, an indirect one and an alias."""
        return self.enabled_rc == 0 and self.enabled_word not in _NOT_ENABLED_YET


@dataclass(frozen=True)
class DaemonFailure:
    """A ``daemon-reload``/``daemon-reexec`` that failed before the queries."""

    verb: str
    rc: int
    error: str


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

    def inspect(self, host: HostContext, args: dict[str, Any]) -> UnitState | DaemonFailure | str | None:
        """The unit's state (None without a unit), after the daemon verbs (never in check mode); a string
        when systemctl cannot be asked."""
        request = Request.of(args)
        glob = next((sign for sign in _GLOB if sign in (request.unit or "")), None)
        if glob is not None:
            return f"This module does not currently support using glob patterns, found '{glob}' in service name: " \
                   f"{request.unit}"
        daemon = "" if host.check_mode else " ".join(request.daemon)
        done = host.run(["/bin/sh", "-c", _INSPECT, "sh", request.unit or "", daemon, *request.options])
        lines = done.stdout.split("\n")
        if done.rc != 0 or not lines[0]:
            return done.stderr.strip() or done.stdout.strip() or f"exit status {done.rc}"
        if lines[0].startswith("failed "):
            _, verb, rc = lines[0].split(" ")
            return DaemonFailure(verb, int(rc), done.stderr.strip())
        if request.unit is None:
            return None
        if len(lines) < 4:
            return done.stdout.strip() or f"exit status {done.rc}"
        show, word = "\n".join(lines[4:]).strip(), lines[2].strip()
        if lines[3] == "0":
            return UnitState(show_properties(show), word, int(lines[1]))
        if word in _UNIT_FILE_STATES:  # (show needs the manager: --global has none; is-enabled reads files)
            return UnitState({}, word, int(lines[1]))
        return show

    def decide(self, args: dict[str, Any], state: UnitState | DaemonFailure | str | None,
               host: HostContext) -> Decision:
        request = Request.of(args)
        if isinstance(state, str):
            return _failure(state)
        if isinstance(state, DaemonFailure):
            return _failure(f"failure {state.rc} during {state.verb}: {state.error}")
        if state is None:  # (only the daemon verbs were asked)
            return Decision(False, {"name": None, "status": {}})
        unit = request.unit
        missing = f"Could not find the requested service {unit}: host"
        result: dict[str, Any] = {"name": unit, "status": state.status}
        if state.found and not state.masked and "LoadError" in state.status:
            return _failure(f"Error loading unit file '{unit}': {state.status['LoadError']}")
        steps: list[str] = []
        masked_after = state.masked
        if request.masked is not None and request.masked != state.masked:
            steps.append("mask" if request.masked else "unmask")
            masked_after = request.masked
        if request.enabled is not None:
            if not state.found:
                return _failure(missing)
            # a unit masked now reads as not enabled; after an unmask its own enablement is not known yet:
            # enable/disable it anyway (a no-op then)
            enabled_now = None if state.masked and not masked_after else state.enabled and not masked_after
            if request.enabled != enabled_now:
                steps.append("enable" if request.enabled else "disable")
            result["enabled"] = request.enabled
        active_after = state.active
        if request.state is not None:
            if not state.found:
                return _failure(missing)
            if "ActiveState" not in state.status:
                return _failure("Service is in unknown state", status=state.status)
            step = _state_step(request.state, state)
            result["state"] = request.state if request.state in ("started", "stopped") else "started"
            if step:
                steps.append(step)
                active_after = "inactive" if step == "stop" else "active"
        diff = []
        if steps:
            diff = [{"before": f"active: {state.active}\nenabled: {state.enabled_word}\n",
                     "after": f"active: {active_after}\nenabled: {_enabled_after(request, state, masked_after)}\n",
                     "before_header": unit, "after_header": unit}]
        return Decision(bool(steps), result, diff, plan=(steps, state.found))

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        request = Request.of(args)
        steps, found = decision.plan
        done = host.run(["/bin/sh", "-c", _ACT, "sh", request.unit, " ".join(steps), *request.options])
        if done.rc == 0:
            return dict(decision.result)
        verb = done.stdout.split(" ")[0] if done.rc == 1 and done.stdout else ""
        error = done.stderr.strip()
        if verb in ("mask", "unmask"):
            message = f"Failed to {verb} the service ({request.unit}): {error}" if found \
                else f"Could not find the requested service {request.unit}: host"
        elif verb:
            message = f"Unable to {verb} service {request.unit}: {error}"
        else:
            message = error or f"exit status {done.rc}"
        return {"changed": False, "failed": True, "msg": message}


def show_properties(text: str) -> dict[str, str]:
    """``systemctl show``'s ``Key=value`` lines as a dict; an ``Exec...={ ... }`` value may span lines."""
    properties: dict[str, str] = {}
    pending: tuple[str, list[str]] | None = None
    for line in text.split("\n"):
        if pending is not None:
            pending[1].append(line)
            if line.rstrip().endswith("}"):
                properties[pending[0]] = "\n".join(pending[1]).strip()
                pending = None
            continue
        key, sign, value = line.partition("=")
        if not sign:
            continue
        if key.startswith("Exec") and value.lstrip().startswith("{") and not value.rstrip().endswith("}"):
            pending = (key, [value])
        else:
            properties[key] = value.strip()
    return properties


def _state_step(wanted: str, state: UnitState) -> str | None:
    """The systemctl verb that brings the unit to the ``wanted`` state, None when it is there."""
    if wanted == "started":
        return None if state.running else "start"
    if wanted == "stopped":
        return "stop" if state.running or state.active == "deactivating" else None
    return wanted[:-2] if state.running else "start"  # restarted, reloaded


def _enabled_after(request: Request, state: UnitState, masked_after: bool) -> str:
    """What ``is-enabled`` will say once the plan is carried out ("unmasked" when it cannot be known yet)."""
    if masked_after:
        return "masked"
    if request.enabled is not None and (request.enabled != state.enabled or state.masked):
        return "enabled" if request.enabled else "disabled"
    return "unmasked" if state.masked else state.enabled_word


def _failure(message: str, **fields: Any) -> Decision:
    return Decision(False, {"msg": message, **fields}, failed=True)
