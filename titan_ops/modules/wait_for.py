"""``wait_for``: wait on the host for a port, a file, or a line in a file.

The whole wait is one remote command: a POSIX sh polling loop that ends when
the condition holds or the timeout passes, so a five-minute wait costs one
channel, not one round trip per poll. What plain sh cannot do is done with
what Debian always has: a TCP connect with perl's IO::Socket::IP (perl-base is
Essential; ``nc -z`` is the fallback), active connections read from
/proc/net/tcp, and the search with ``grep -P`` (Perl-compatible, close to
Python's ``re``) line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

# Positional parameters: $1 mode, $2 host, $3 port, $4 hex port, $5 path,
# $6 regex, $7 timeout, $8 delay, $9 sleep, ${10} connect timeout.
# Output: "ok ELAPSED" [+ "stat ..." + "match LINE"] (rc 0), "timeout ELAPSED"
# (rc 1), or an error on stderr (rc 3).
SCRIPT = r"""
mode=$1 host=$2 port=$3 hexport=$4 path=$5 regex=$6 timeout=$7 delay=$8 pause=$9 connect=${10}
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
port_open() {
  if command -v perl >/dev/null 2>&1; then
    perl -MIO::Socket::IP -e 'exit(IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1],
      Timeout => $ARGV[2]) ? 0 : 1)' "$host" "$port" "$connect"
  elif command -v nc >/dev/null 2>&1; then
    nc -z -w "$connect" "$host" "$port" >/dev/null 2>&1
  else
    echo "cannot probe a TCP port on this host: neither perl nor nc is installed" >&2; exit 3
  fi
}
drained() {
  [ -r /proc/net/tcp ] || { echo "cannot count connections: /proc/net/tcp is not readable" >&2; exit 3; }
  ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    grep -qiE "^ *[0-9]+: [0-9A-F]+:$hexport [0-9A-F]+:[0-9A-F]+ 0[1-6] "
}
matches() {
  [ -e "$path" ] || return 1
  line=$(grep -a -m 1 -P -e "$regex" -- "$path")
  case $? in
    0) return 0 ;;
    1) return 1 ;;
    *) [ -e "$path" ] || return 1; exit 3 ;;
  esac
}
holds() {
  case $mode in
    open) port_open ;;
    closed) ! port_open ;;
    drained) drained ;;
    exists) [ -e "$path" ] ;;
    match) matches ;;
    gone) [ ! -e "$path" ] && [ ! -L "$path" ] ;;
  esac
}
sleep "$delay"
if [ "$mode" = sleep ]; then sleep "$timeout"; echo "ok $(elapsed)"; exit 0; fi
while :; do
  if holds; then
    echo "ok $(elapsed)"
    case $mode in exists|match) stat -L -c 'stat %u %g %a %s %U %G %F' -- "$path" ;; esac
    [ "$mode" = match ] && printf 'match %s\n' "$line"
    exit 0
  fi
  [ "$(elapsed)" -ge "$timeout" ] && break
  sleep "$pause"
done
echo "timeout $(elapsed)"
exit 1
"""

_FILE_TYPES = {"regular file": "file", "regular empty file": "file", "directory": "directory",
               "symbolic link": "link", "fifo": "fifo", "socket": "socket"}


@dataclass(frozen=True)
class _Plan:
    """What to wait for: the loop's mode and the message when it times out."""

    mode: str
    timeout_msg: str


def _plan(args: dict[str, Any]) -> _Plan:
    state = args.get("state", "started")
    host, port, path = args.get("host", "127.0.0.1"), args.get("port"), args.get("path")
    if port is not None:
        if state == "drained":
            return _Plan("drained", f"Timeout when waiting for {host}:{port} to drain")
        if state in ("stopped", "absent"):
            return _Plan("closed", f"Timeout when waiting for {host}:{port} to stop.")
        return _Plan("open", f"Timeout when waiting for {host}:{port}")
    if path is not None:
        if state in ("stopped", "absent"):
            return _Plan("gone", f"Timeout when waiting for {path} to be absent.")
        if "search_regex" in args:
            return _Plan("match", f"Timeout when waiting for search string {args['search_regex']} in {path}")
        return _Plan("exists", f"Timeout when waiting for file {path}")
    return _Plan("sleep", "")


class WaitFor(Module):
    """Wait, on the target host, until a condition holds or the timeout passes."""

    name = "wait_for"
    description = ("Wait on the host until a TCP port is open, closed or drained, a file exists or is gone, "
                   "or a line of a file matches a regular expression; with neither port nor path, "
                   "wait `timeout` seconds.")
    supports_check_mode = False
    schema = {
        "type": "object",
        "properties": {
            "host": {"type": "string", "default": "127.0.0.1",
                     "description": "The address to probe, as the target host resolves it (not the controller)."},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "The TCP port to wait for."},
            "path": {"type": "string", "description": "The file to wait for (on the target host)."},
            "search_regex": {"type": "string",
                             "description": "With `path`: wait for a line matching this Perl-compatible regular "
                                            "expression (matched line by line)."},
            "state": {"enum": ["started", "present", "stopped", "absent", "drained"], "default": "started",
                      "description": "started/present: the port accepts connections or the file exists (and "
                                     "matches); stopped/absent: the port refuses connections or the file is "
                                     "gone; drained: no active connection on the local port."},
            "timeout": {"type": "integer", "minimum": 0, "default": 300,
                        "description": "Seconds to wait in all, counted from before `delay`."},
            "delay": {"type": "number", "minimum": 0, "default": 0,
                      "description": "Seconds to wait before the first check."},
            "sleep": {"type": "number", "exclusiveMinimum": 0, "default": 1,
                      "description": "Seconds between two checks."},
            "connect_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 5,
                                "description": "Seconds one connection attempt may take."},
            "msg": {"type": "string", "description": "The failure message instead of the default one on timeout."},
        },
        "not": {"required": ["port", "path"]},
        "dependentRequired": {"search_regex": ["path"]},
        "if": {"properties": {"state": {"const": "drained"}}, "required": ["state"]},
        "then": {"required": ["port"]},
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        if "search_regex" in args:
            try:
                re.compile(args["search_regex"])
            except re.error as error:
                return Decision(False, {"msg": f"invalid search_regex '{args['search_regex']}': {error}"},
                                failed=True)
        return Decision(True, plan=_plan(args))

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        plan: _Plan = decision.plan
        port = args.get("port")
        parameters = [plan.mode, args.get("host", "127.0.0.1"), port or "", f"{port or 0:04X}",
                      args.get("path", ""), args.get("search_regex", ""), args.get("timeout", 300),
                      args.get("delay", 0), args.get("sleep", 1), args.get("connect_timeout", 5)]
        done = host.run(["/bin/sh", "-c", SCRIPT, "wait_for", *(str(value) for value in parameters)])
        lines = done.stdout.splitlines()
        first = lines[0].split() if lines else []
        if done.rc == 1 and first[:1] == ["timeout"]:
            return {"changed": False, "failed": True, "elapsed": int(first[1]),
                    "msg": args.get("msg", plan.timeout_msg)}
        if done.rc != 0 or first[:1] != ["ok"]:
            detail = done.stderr.strip() or done.stdout.strip() or f"exit status {done.rc}"
            return {"changed": False, "failed": True, "rc": done.rc, "msg": f"wait_for failed on the host: {detail}"}
        result: dict[str, Any] = {
            "changed": False, "elapsed": int(first[1]), "state": args.get("state", "started"),
            "port": port, "path": args.get("path"), "search_regex": args.get("search_regex"),
            "match_groups": [], "match_groupdict": {},
        }
        for line in lines[1:]:
            kind, _, rest = line.partition(" ")
            if kind == "stat":
                result.update(_stat_fields(rest))
            elif kind == "match":
                found = re.search(args["search_regex"], rest)
                if found:
                    result["match_groups"] = list(found.groups())
                    result["match_groupdict"] = found.groupdict()
        return result


def _stat_fields(text: str) -> dict[str, Any]:
    """Ansible's file fields from ``stat -c '%u %g %a %s %U %G %F'`` output."""
    uid, gid, mode, size, owner, group, kind = text.split(" ", 6)
    return {"uid": int(uid), "gid": int(gid), "mode": f"{int(mode, 8):04o}", "size": int(size),
            "owner": owner, "group": group, "state": _FILE_TYPES.get(kind, kind)}
