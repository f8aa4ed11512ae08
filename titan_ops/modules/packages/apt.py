"""``apt``: Debian packages installed, upgraded or removed with apt-get.

inspect is one read-only command: the age of apt's package lists and, for each package the task
names, its dpkg status and version (``dpkg-query``) and its install candidate (``apt-cache
policy``). decide picks the packages to install or remove, so a package already as asked is left
alone. act updates the package lists when asked (and then reads the packages again), then runs one
``apt-get install`` or ``apt-get remove``, non-interactively, apt-get waiting up to ``lock_timeout``
seconds for another apt to let go of its lock. In check mode apt-get simulates (``--simulate``), which
changes nothing and shows what would be done.
"""

from __future__ import annotations

import fnmatch
import shlex
import time
from dataclasses import dataclass
from typing import Any

from titan_ops.connection.base import CommandResult
from titan_ops.modules.base import Decision, HostContext, Module

APT_ENVIRONMENT = {"DEBIAN_FRONTEND": "noninteractive", "DEBIAN_PRIORITY": "critical", "LANG": "C.UTF-8",
                   "LC_ALL": "C.UTF-8", "LC_MESSAGES": "C.UTF-8", "LC_CTYPE": "C.UTF-8", "LANGUAGE": "C.UTF-8"}
"""apt-get never asks, and speaks the language its output is read in."""

# Prints the lists' age (the update-success stamp's mtime, else the lists folder's), the host's clock, then
# per package "<dpkg status abbreviation>|<installed version>", then what apt-cache policy says of them all.
_INSPECT = r"""
command -v apt-get >/dev/null 2>&1 ||
  { echo 'Failed to find required executable "apt-get" in paths: '"$PATH" >&2; exit 127; }
stamp=/var/lib/apt/periodic/update-success-stamp lists=/var/lib/apt/lists
if [ -e "$stamp" ]; then stat -c %Y "$stamp"; elif [ -e "$lists" ]; then stat -c %Y "$lists"; else echo 0; fi
date +%s
for name in "$@"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' -- "$name" 2>/dev/null | head -n 1)
  echo "${status:-un |}"
done
[ $# -eq 0 ] || apt-cache policy -- "$@" 2>/dev/null
exit 0
"""
_NOT_INSTALLED = "nc"
"""dpkg's status letters of a package that is not installed (not-installed, config-files)."""
_NO_CANDIDATE = "(none)"
_LOCK_BUSY = "Could not get lock"
_STATES = ["present", "absent", "latest", "fixed"]


@dataclass(frozen=True)
class Package:
    """What dpkg and apt say of one package."""

    name: str
    status: str
    """dpkg's status letter: ``i`` installed, ``c`` only its configuration files left, ``n`` not installed, ..."""
    version: str
    candidate: str | None
    """The version apt would install, ``(none)`` when it has none, None when apt knows no such package."""

    @property
    def installed(self) -> bool:
        return self.status not in _NOT_INSTALLED


@dataclass(frozen=True)
class AptState:
    """The package lists' age and the host's clock (seconds since the epoch), and the named packages."""

    lists_time: int
    now: int
    packages: dict[str, Package]
    simulation: CommandResult | None = None
    """In check mode: apt-get's ``--simulate`` run of the work, when there is any."""


@dataclass(frozen=True)
class Work:
    """What apt-get must do: the package specs to install, or to remove (one of them is empty)."""

    install: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    failure: str | None = None

    def __bool__(self) -> bool:
        return bool(self.install or self.remove)


@dataclass(frozen=True)
class AptPlan:
    """act's plan: update the lists first, then do the work (worked out again after an update)."""

    update_lists: bool
    work: Work
    lists_time: int


class Apt(Module):
    """Install, upgrade or remove Debian packages with apt-get; dpkg-query tells what is installed."""

    name = "apt"
    description = ("Install (present), upgrade (latest) or remove (absent) Debian packages with apt-get, "
                   "non-interactively; a package already as asked is left alone. `update_cache` refreshes the "
                   "package lists first (only when older than `cache_valid_time` seconds, when given).")
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": ["string", "array"], "items": {"type": "string"},
                     "description": "The packages: a list, or a string of names separated by commas. "
                                    "`name=version` asks for a version (`*` matches any text in it)."},
            "pkg": {"type": ["string", "array"], "items": {"type": "string"}, "description": "Alias of name."},
            "package": {"type": ["string", "array"], "items": {"type": "string"}, "description": "Alias of name."},
            "state": {"enum": _STATES, "default": "present",
                      "description": "`present`: installed; `latest`: installed at the candidate version; "
                                     "`absent`: removed; `fixed`: installed, letting apt-get fix broken "
                                     "dependencies (`--fix-broken`)."},
            "update_cache": {"type": "boolean",
                             "description": "Update the package lists (`apt-get update`) first."},
            "update-cache": {"type": "boolean", "description": "Alias of update_cache."},
            "cache_valid_time": {"type": "integer", "minimum": 0, "default": 0,
                                 "description": "Update the lists only when they are older than this many "
                                                "seconds (implies update_cache)."},
            "update_cache_retries": {"type": "integer", "minimum": 1, "default": 5,
                                     "description": "How many times `apt-get update` is tried."},
            "update_cache_retry_max_delay": {"type": "integer", "minimum": 0, "default": 12,
                                             "description": "The longest wait between two tries, in seconds "
                                                            "(1, 2, 4, ... seconds up to it)."},
            "install_recommends": {"type": "boolean",
                                   "description": "Install recommended packages too (default: apt's own "
                                                  "setting)."},
            "install-recommends": {"type": "boolean", "description": "Alias of install_recommends."},
            "purge": {"type": "boolean", "default": False,
                      "description": "With absent: remove the configuration files too."},
            "autoremove": {"type": "boolean", "default": False,
                           "description": "Also remove the packages nothing needs any more (`--auto-remove`)."},
            "only_upgrade": {"type": "boolean", "default": False,
                             "description": "Only upgrade packages already installed; install none."},
            "allow_downgrade": {"type": "boolean", "default": False,
                                "description": "Let apt-get install an older version than the installed one."},
            "allow_change_held_packages": {"type": "boolean", "default": False,
                                           "description": "Let apt-get change held packages."},
            "dpkg_options": {"type": "string", "default": "force-confdef,force-confold",
                             "description": "dpkg options, separated by commas (each given as "
                                            "`-o Dpkg::Options::=--OPTION`)."},
            "lock_timeout": {"type": "integer", "minimum": 0, "default": 60,
                             "description": "How many seconds to wait for another apt or dpkg to let go of "
                                            "the lock."},
            "force_apt_get": {"type": "boolean", "default": False,
                              "description": "Accepted for compatibility: titan-ops always uses apt-get."},
        },
        "anyOf": [{"required": [key]} for key in ("name", "pkg", "package", "update_cache", "update-cache",
                                                   "cache_valid_time")],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> AptState | str:
        state = read_state(host, [name for name, _ in _specs(args)[0]])
        if isinstance(state, str) or not host.check_mode:
            return state
        work = _work(args, state)
        if not work:
            return state
        return AptState(state.lists_time, state.now, state.packages, _apt_get(host, args, work, simulate=True))

    def decide(self, args: dict[str, Any], state: AptState | str, host: HostContext) -> Decision:
        if isinstance(state, str):
            return Decision(False, {"msg": state}, failed=True)
        update = _wants_update(args, state)
        work = _work(args, state)
        if work.failure:
            return Decision(False, {"msg": work.failure}, failed=True)
        plan = AptPlan(update, work, state.lists_time)
        result = _outcome(args, cache_updated=update, lists_time=state.lists_time, run=state.simulation,
                          diff_mode=host.diff_mode)
        if state.simulation is not None and state.simulation.rc != 0:
            return Decision(False, _apt_get_failure(args, work, state.simulation), failed=True)
        diff = [result["diff"]] if result.get("diff") else []
        return Decision(update or bool(work), result, diff=diff, plan=plan)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        plan: AptPlan = decision.plan
        work, lists_time, updated = plan.work, plan.lists_time, False
        if plan.update_lists:
            failure = _update_lists(host, args)
            if failure is not None:
                return {"changed": False, "failed": True, "msg": failure}
            state = read_state(host, [name for name, _ in _specs(args)[0]])
            if isinstance(state, str):
                return {"changed": False, "failed": True, "msg": state}
            work, updated, lists_time = _work(args, state), state.lists_time != plan.lists_time, state.lists_time
            if work.failure:
                return {"changed": False, "failed": True, "msg": work.failure}
        run = _apt_get(host, args, work, simulate=False) if work else None
        if run is not None and run.rc != 0:
            return _apt_get_failure(args, work, run)
        result = _outcome(args, cache_updated=updated, lists_time=lists_time, run=run,
                          diff_mode=host.diff_mode)
        result["changed"] = updated or bool(work)
        return result


def read_state(host: HostContext, names: list[str]) -> AptState | str:
    """The lists' age and ``names``' packages, in one read-only command (an error's text when it failed)."""
    done = host.run(["/bin/sh", "-c", _INSPECT, "sh", *names], env=APT_ENVIRONMENT)
    lines = done.stdout.split("\n")
    if done.rc != 0 or len(lines) < 2 + len(names):
        return done.stderr.strip() or done.stdout.strip() or f"exit status {done.rc}"
    candidates = _candidates(lines[2 + len(names):])
    packages = {}
    for name, line in zip(names, lines[2:]):
        abbreviation, _, version = line.partition("|")
        packages[name] = Package(name, (abbreviation + "  ")[1], version, candidates.get(name))
    return AptState(int(lines[0] or 0), int(lines[1] or 0), packages)


def _candidates(policy: list[str]) -> dict[str, str]:
    """Each package's candidate in apt-cache policy's output (a package apt does not know is not in it)."""
    candidates: dict[str, str] = {}
    package = None
    for line in policy:
        if line and not line[0].isspace() and line.endswith(":"):
            package = line[:-1]
        elif package is not None and line.strip().startswith("Candidate:"):
            candidates[package] = line.split(":", 1)[1].strip()
    return candidates


def _names(args: dict[str, Any]) -> list[str]:
    given = next((args[key] for key in ("name", "pkg", "package") if key in args), [])
    items = given if isinstance(given, list) else str(given).split(",")
    return [item.strip() for item in items if item.strip()]


def _specs(args: dict[str, Any]) -> tuple[list[tuple[str, str | None]], str | None]:
    """The packages as (name, version or None), and what is wrong with one of them (None when nothing)."""
    specs: list[tuple[str, str | None]] = []
    for spec in _names(args):
        if ">=" in spec or spec == "*":
            return [], f"titan-ops's apt does not take {spec!r}: give a name, or name=version"
        if spec.count("=") > 1:
            return [], f"invalid package spec: {spec}"
        name, _, version = spec.partition("=")
        if any(char in name for char in "*?["):
            return [], f"titan-ops's apt does not expand the package name pattern {name!r}: name the packages"
        specs.append((name, version or None))
    return specs, None


def _wants_update(args: dict[str, Any], state: AptState) -> bool:
    """Whether the lists are to be updated: asked for, and older than cache_valid_time."""
    asked = args.get("update_cache", args.get("update-cache")) or args.get("cache_valid_time", 0)
    return bool(asked) and state.lists_time + args.get("cache_valid_time", 0) < state.now


def _work(args: dict[str, Any], state: AptState) -> Work:
    """The packages apt-get must install or remove for the task's state to hold."""
    specs, failure = _specs(args)
    if failure:
        return Work(failure=failure)
    wanted = args.get("state", "present")
    if wanted == "absent":
        purge = args.get("purge", False)
        return Work(remove=tuple(name if version is None else f"{name}={version}" for name, version in specs
                                 if state.packages[name].installed or (purge and state.packages[name].status == "c")))
    install = []
    for name, version in specs:
        package = state.packages[name]
        if args.get("only_upgrade") and not package.installed:
            continue
        if package.installed and (version is None or fnmatch.fnmatch(package.version, version)):
            upgradable = package.candidate not in (None, "", _NO_CANDIDATE, package.version)
            if not (wanted == "latest" and version is None and upgradable):
                continue
        if package.candidate is None and not package.installed:
            return Work(failure=f"No package matching '{name}' is available")
        if version is None and package.candidate in (None, _NO_CANDIDATE):
            return Work(failure=f"no available installation candidate for {name}")
        install.append(name if version is None else f"{name}={version}")
    return Work(install=tuple(install))


def _command(args: dict[str, Any], work: Work, simulate: bool) -> list[str]:
    """apt-get's command line for ``work``."""
    command = ["apt-get", "-y", "-q"]
    for option in str(args.get("dpkg_options", "force-confdef,force-confold")).split(","):
        if option.strip():
            command += ["-o", f"Dpkg::Options::=--{option.strip()}"]
    command += ["-o", f"DPkg::Lock::Timeout={args.get('lock_timeout', 60)}"]
    if simulate:
        command.append("--simulate")
    if args.get("autoremove"):
        command.append("--auto-remove")
    if args.get("allow_change_held_packages"):
        command.append("--allow-change-held-packages")
    if work.remove:
        if args.get("purge"):
            command.append("--purge")
        return [*command, "remove", *work.remove]
    if args.get("state") == "fixed":
        command.append("--fix-broken")
    if args.get("only_upgrade"):
        command.append("--only-upgrade")
    if args.get("allow_downgrade"):
        command.append("--allow-downgrades")
    recommends = args.get("install_recommends", args.get("install-recommends"))
    if recommends is not None:
        command += ["-o", f"APT::Install-Recommends={'yes' if recommends else 'no'}"]
    return [*command, "install", *work.install]


def _apt_get(host: HostContext, args: dict[str, Any], work: Work, simulate: bool) -> CommandResult:
    return host.run(_command(args, work, simulate), env=APT_ENVIRONMENT)


def _update_lists(host: HostContext, args: dict[str, Any]) -> str | None:
    """``apt-get update``, tried update_cache_retries times (waiting for apt's lock meanwhile, up to
    lock_timeout seconds); what went wrong, or None."""
    deadline = time.monotonic() + args.get("lock_timeout", 60)
    retries, longest = args.get("update_cache_retries", 5), args.get("update_cache_retry_max_delay", 12)
    error, attempt = "", 0
    while attempt < retries:
        done = host.run(["apt-get", "update", "-q"], env=APT_ENVIRONMENT)
        if done.rc == 0:
            return None
        error = done.stderr.strip() or done.stdout.strip() or f"exit status {done.rc}"
        if _LOCK_BUSY in error and time.monotonic() < deadline:
            time.sleep(1)
            continue
        attempt += 1
        if attempt < retries:
            time.sleep(min(2 ** (attempt - 1), longest))
    return f"Failed to update apt cache after {retries} retries: {error or 'unknown reason'}"


def _outcome(args: dict[str, Any], *, cache_updated: bool, lists_time: int, run: CommandResult | None,
             diff_mode: bool) -> dict[str, Any]:
    """The result Ansible's apt gives: apt-get's output when it ran, the lists' update when installing."""
    result: dict[str, Any] = {}
    if run is not None:
        result.update(stdout=run.stdout, stderr=run.stderr, diff=_prepared(run.stdout) if diff_mode else {})
    if not _names(args):
        return {"cache_updated": cache_updated, "cache_update_time": lists_time}
    if args.get("state", "present") != "absent":
        result.update(cache_updated=cache_updated, cache_update_time=lists_time)
    return result


def _apt_get_failure(args: dict[str, Any], work: Work, run: CommandResult) -> dict[str, Any]:
    if work.remove:
        quoted = " ".join(f"'{spec}'" for spec in work.remove)
        message = f"'apt-get remove {quoted}' failed: {run.stderr}"
    else:
        message = f"'{shlex.join(_command(args, work, simulate=False))}' failed: {run.stderr}"
    return {"changed": False, "failed": True, "msg": message, "stdout": run.stdout, "stderr": run.stderr,
            "rc": run.rc}


def _prepared(output: str) -> dict[str, str]:
    """apt-get's account of the change (between 'Reading state information...' and 'N upgraded, ...'),
    as Ansible's diff shows it."""
    lines = output.splitlines()
    start = lines.index("Reading state information...") + 1 if "Reading state information..." in lines else 0
    end = next((index + 1 for index, line in enumerate(lines)
                if line[:1].isdigit() and " upgraded" in line.split(",")[0]), len(lines))
    return {"prepared": "\n".join(lines[start:end])}
