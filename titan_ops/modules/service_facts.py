"""``service_facts``: the host's services as the fact ``services``, read as ansible-core reads them.

One shell command asks the host's service tools what ansible-core asks them, and the controller builds the
fact from their answers:

- ``service --status-all`` (a SysV host with no ``chkconfig`` and no OpenRC): each ``[ + ] NAME`` or
  ``[ - ] NAME`` line is a service, ``running`` or ``stopped``, with ``source: sysv``;
- OpenRC (``rc-status`` and ``rc-update``): each service's state and runlevels, ``source: openrc``;
- systemd, when it runs the host (``/run/systemd/system`` exists or the first process is systemd):
  ``systemctl list-units`` gives each loaded service's state (``running`` when its sub-state is, else
  ``stopped``) and status (``not-found``, ``masked`` or ``failed`` when a column says so, else its active
  state); ``systemctl list-unit-files`` adds the units that are not loaded, with their ``ActiveState``
  (``systemctl show``), and gives every unit whose status is not one of those three its file's state
  (``enabled``, ``disabled``, ``static``, ...); ``source: systemd``.

The tools are looked for where ansible-core looks (systemctl in /usr/bin and /usr/local/bin first, then the
PATH, then the sbin folders). A query that fails is a warning, as in ansible-core; a host where nothing
answers skips the task. Upstart (``initctl``), Red Hat's ``chkconfig``, AIX and the BSDs are not read.
"""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

_MARK = "--titan-service-facts--"
# Prints sections "MARK NAME RC" each followed by what the tool printed: sysv (service --status-all), sysv-error,
# openrc-status and openrc-runlevels, units (systemctl list-units), units-error, files (list-unit-files),
# files-error, and show: "UNIT<tab>RC<tab>OUTPUT" of `systemctl show --property=ActiveState` per unit file
# that list-units did not list.
_PROBE = rf"""
set -f
export LC_ALL=C LANG=C
tool() {{
  name=$1 dirs="$2$PATH:/sbin:/usr/sbin:/usr/local/sbin" IFS=:
  for dir in $dirs; do
    if [ -n "$dir" ] && [ -f "$dir/$name" ] && [ -x "$dir/$name" ]; then IFS=' '; echo "$dir/$name"; return; fi
  done
  IFS=' '
}}
section() {{ printf '\n%s %s %s\n' '{_MARK}' "$1" "$2"; }}
service=$(tool service '') chkconfig=$(tool chkconfig '') rc_status=$(tool rc-status '') rc_update=$(tool rc-update '')
if [ -n "$service" ] && [ -z "$chkconfig" ] && [ -z "$rc_status" ]; then
  out=$("$service" --status-all 2>/dev/null); rc=$?
  if [ "$rc" != 4 ] || [ -d /etc/init.d ]; then
    section sysv "$rc"; printf '%s\n' "$out"
    [ "$rc" = 0 ] || {{ section sysv-error "$rc"; "$service" --status-all 2>&1 >/dev/null; }}
  fi
elif [ -z "$chkconfig" ] && [ -n "$rc_status" ] && [ -n "$rc_update" ]; then
  section openrc-status 0; "$rc_status" -a -s -m 2>&1 | grep '^ ' | tr -d '[]'
  section openrc-runlevels 0; "$rc_update" show -v 2>&1 | grep '|'
fi
systemctl=$(tool systemctl /usr/bin:/usr/local/bin:)
[ -n "$systemctl" ] || exit 0
if [ ! -d /run/systemd/system ] && [ ! -d /dev/.run/systemd ] && [ ! -d /dev/.systemd ] \
   && [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
  exit 0
fi
units=$("$systemctl" list-units --no-pager --type service --all --plain 2>/dev/null); rc=$?
section units "$rc"; printf '%s\n' "$units"
listed=$(printf '%s\n' "$units" | awk '/\.service/ {{ print $1 }}')
if [ "$rc" != 0 ]; then
  listed=''; section units-error "$rc"; "$systemctl" list-units --no-pager --type service --all --plain 2>&1 >/dev/null
fi
files=$("$systemctl" list-unit-files --no-pager --type service --all 2>/dev/null); rc=$?
section files "$rc"; printf '%s\n' "$files"
if [ "$rc" != 0 ]; then
  section files-error "$rc"; "$systemctl" list-unit-files --no-pager --type service --all 2>&1 >/dev/null; exit 0
fi
section show 0
printf '%s\n' "$files" | awk '/\.service/ {{ print $1 }}' | while read -r unit; do
  case "
$listed
" in *"
$unit
"*) continue ;; esac
  state=$("$systemctl" show "$unit" --property=ActiveState 2>/dev/null); rc=$?
  printf '%s\t%s\t%s\n' "$unit" "$rc" "$state"
done
exit 0
"""
_BAD_STATES = ("not-found", "masked", "failed")
_NOTHING = "Failed to find any services. This can be due to privileges or some other configuration issue."


class ProbeError(Exception):
    """systemctl printed what cannot be read (ansible-core's module fails on it)."""


def _sections(output: str) -> dict[str, tuple[int, str]]:
    """The probe's sections: name -> (exit status, text)."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in output.split(f"\n{_MARK} ")[1:]:
        head, _, text = chunk.partition("\n")
        name, _, rc = head.partition(" ")
        found[name] = (int(rc) if rc.lstrip("-").isdigit() else 1, text)
    return found


def _sysv(text: str) -> dict[str, dict[str, Any]]:
    services = {}
    for line in text.splitlines():
        head = line.lstrip()
        if head.startswith(("[ + ]", "[ - ]")) and head[5:6].isspace() and head[5:].strip():
            name = head[5:].lstrip()
            services[name] = {"name": name, "state": "running" if head[2] == "+" else "stopped", "source": "sysv"}
    return services


def _openrc(status: str, runlevels_text: str, warnings: list[str]) -> dict[str, dict[str, Any]]:
    runlevels: dict[str, list[str] | None] = {}
    for line in runlevels_text.splitlines():
        fields = line.split("|")
        if len(fields) >= 2:
            runlevels[fields[0].strip()] = fields[1].split() or None
    services: dict[str, dict[str, Any]] = {}
    for line in status.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0] == "*":
            continue
        if fields[0] not in runlevels:
            warnings.append(f"Service {fields[0]} not found in the service list")
            continue
        services[fields[0]] = {"name": fields[0], "runlevels": runlevels[fields[0]], "state": fields[1],
                               "source": "openrc"}
    return services


def _systemd(sections: dict[str, tuple[int, str]], warnings: list[str]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = {}
    rc, units = sections["units"]
    if rc != 0:
        warnings.append(f"Could not list units from systemd: {sections.get('units-error', (rc, ''))[1]}")
    else:
        for line in (line for line in units.split("\n") if ".service" in line):
            fields = line.split()
            if len(fields) < 4:
                raise ProbeError(f"Malformed output discovered from systemd list-units: {line}")
            status = next((bad for bad in _BAD_STATES if bad in fields[:-1]), None) or fields[2]
            services[fields[0]] = {"name": fields[0], "state": "running" if fields[3] == "running" else "stopped",
                                   "status": status, "source": "systemd"}
    rc, files = sections.get("files", (1, ""))
    if rc != 0:
        warnings.append(f"Could not get unit files data from systemd: {sections.get('files-error', (rc, ''))[1]}")
        return services
    shown = {}
    for line in sections.get("show", (0, ""))[1].splitlines():
        unit, _, rest = line.partition("\t")
        shown[unit] = rest.partition("\t")
    for line in (line for line in files.split("\n") if ".service" in line):
        fields = line.split()
        if len(fields) < 2:
            raise ProbeError(f"Malformed output discovered from systemd list-unit-files: {line}")
        name, status = fields[:2]
        if name not in services:
            rc_text, _, output = shown.get(name, ("1", "", ""))
            state = output.replace("ActiveState=", "").rstrip() if rc_text == "0" and output else "unknown"
            services[name] = {"name": name, "state": state, "status": status, "source": "systemd"}
        elif services[name]["status"] not in _BAD_STATES:
            services[name]["status"] = status
    return services


def services_from(output: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The ``services`` fact and the warnings from the probe's output (ProbeError when it cannot be read)."""
    sections = _sections(output)
    warnings: list[str] = []
    services: dict[str, dict[str, Any]] = {}
    if "sysv" in sections:
        rc, text = sections["sysv"]
        if rc != 0:
            warnings.append(f"Unable to query 'service' tool ({rc}): {sections.get('sysv-error', (rc, ''))[1]}")
        services.update(_sysv(text))
    if "openrc-status" in sections:
        services.update(_openrc(sections["openrc-status"][1], sections.get("openrc-runlevels", (0, ""))[1], warnings))
    if "units" in sections:
        services.update(_systemd(sections, warnings))
    return services, warnings


class ServiceFacts(Module):
    """The host's services (systemd, SysV, OpenRC) as the fact ``services``."""

    name = "service_facts"
    description = ("The host's services as the fact `services` (name -> {name, state, status, source}), from "
                   "systemd (`systemctl list-units`, `list-unit-files`), SysV (`service --status-all`) or OpenRC, "
                   "as ansible-core reads them; the lab tests the systemd part against a stand-in systemctl.")
    schema = {"type": "object", "properties": {}, "additionalProperties": False}

    def inspect(self, host: HostContext, args: dict[str, Any]) -> str:
        return host.run(_PROBE).stdout

    def decide(self, args: dict[str, Any], state: str, host: HostContext) -> Decision:
        try:
            services, warnings = services_from(state)
        except ProbeError as error:
            return Decision(False, {"msg": str(error)}, failed=True)
        result: dict[str, Any] = {"warnings": warnings} if warnings else {}
        if not services:
            return Decision(False, {**result, "skipped": True, "msg": _NOTHING})
        return Decision(False, {**result, "ansible_facts": {"services": services}})
