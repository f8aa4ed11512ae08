"""``async``/``poll`` and ``async_status``: a command run as a job on the host, with no Python there.

Starting a job is one remote command: it makes the job's folder ``~/.ansible_async/<jid>`` (of the user
the task runs as) and leaves behind it a detached shell (its own session, ``setsid``) that runs the
command under coreutils' ``timeout`` (which ends the command and what it started once the ``async``
seconds are up) and writes, in that folder, ``start``, ``pid``, ``stdout``, ``stderr``, ``end`` and last
``rc`` (so a job is finished exactly when ``rc`` is there). Looking at a job is one remote command that
reads the folder; ``async_status mode=cleanup`` removes it. The results are Ansible's: the module's own
result with ``ansible_job_id``, ``started``, ``finished`` and ``results_file`` (the folder).
"""

from __future__ import annotations

import base64
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from titan_ops.modules import MODULES
from titan_ops.modules.base import Decision, HostContext, Module

ASYNC_DIR = ".ansible_async"
"""The jobs' folder in the home of the user a task runs as (Ansible's default ``async_dir``)."""
DEFAULT_POLL = 15
"""Seconds between two looks at a job when ``poll`` is not given (Ansible's default)."""
_TIMED_OUT = 124
"""timeout's exit status when it ended the command."""
_CLOCK = "date '+%Y-%m-%d %H:%M:%S.%6N'"

# The detached job. $1: its folder, $2: the seconds; fd 3: the command's input (its file already removed). rc is
# written last: the job is finished when it is there.
_JOB = f"""d=$1 seconds=$2
{_CLOCK} > "$d/start"
timeout -k 1 "$seconds" /bin/sh "$d/command" <&3 3<&- > "$d/stdout" 2> "$d/stderr" &
exec 3<&-
echo $! > "$d/pid"
wait $!; rc=$?
{_CLOCK} > "$d/end"
echo "$rc" > "$d/rc.part" && mv -f -- "$d/rc.part" "$d/rc"
"""

# $1: the job id, $2: the seconds, $3: the command's shell line, $4: the task (its module and arguments, as
# JSON), $5: the job's script; stdin: the command's input, handed to the job open, its file removed at once (the
# input may be a secret). Prints the job's folder (only its user may read it).
_START = rf"""
jid=$1 seconds=$2 line=$3 task=$4 job=$5
command -v timeout >/dev/null 2>&1 || {{ echo "async needs coreutils' timeout on the host" >&2; exit 127; }}
d="$HOME/{ASYNC_DIR}/$jid"
umask 077
mkdir -p "$HOME/{ASYNC_DIR}" && mkdir -- "$d" || exit 1
printf '%s' "$line" > "$d/command" && printf '%s\n' "$task" > "$d/task" || exit 1
cat > "$d/stdin" && exec 3< "$d/stdin"; ok=$?; rm -f -- "$d/stdin"; [ "$ok" = 0 ] || exit 1
detach=; command -v setsid >/dev/null 2>&1 && detach=setsid
$detach /bin/sh -c "$job" job "$d" "$seconds" </dev/null >/dev/null 2>&1 &
echo "$d"
"""

# $1: the job id. Prints the folder, then "missing", "running" or "finished" (with the task, the exit status,
# the pid, the start and end times, and stdout and stderr in base64).
_STATUS = rf"""
d="$HOME/{ASYNC_DIR}/$1"
echo "$d"
if [ ! -d "$d" ]; then echo missing; exit 0; fi
if [ ! -f "$d/rc" ]; then echo running; exit 0; fi
echo finished; cat "$d/task" "$d/rc" "$d/pid" "$d/start" "$d/end"
base64 -w0 "$d/stdout"; echo; base64 -w0 "$d/stderr"; echo
"""

_CLEANUP = rf"""
d="$HOME/{ASYNC_DIR}/$1"
echo "$d"
if [ -d "$d" ]; then rm -rf -- "$d" && echo erased; else echo missing; fi
"""

_NO_OUTPUT: dict[str, Any] = {"stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": []}


@dataclass(frozen=True)
class JobState:
    """What the job's folder says: ``missing``, ``running`` or ``finished`` (with what it left)."""

    folder: str
    phase: str
    task: dict[str, Any] = field(default_factory=dict)
    """The module and arguments the job was started with."""
    rc: int = 0
    pid: str = ""
    start: str = ""
    end: str = ""
    stdout: str = ""
    stderr: str = ""


def new_job_id() -> str:
    """A job id as Ansible forms them: ``j`` and twelve digits, a dot and a number."""
    return f"j{random.randrange(10 ** 11, 10 ** 12)}.{random.randrange(1, 100000)}"


def start_job(host: HostContext, module: Module, args: dict[str, Any], seconds: int) -> dict[str, Any]:
    """Start ``module`` (one that ``supports_async``) as a job for at most ``seconds``: Ansible's result
    of a job just started."""
    jid = new_job_id()
    # (the input may be a secret: it is not kept with the task, and its file is gone before the job starts)
    task = json.dumps({"module": module.name, "args": {key: value for key, value in args.items() if key != "stdin"}})
    done = host.run(["/bin/sh", "-c", _START, "sh", jid, str(seconds), module.job_line(args), task, _JOB],
                    stdin=module.stdin(args) or "")
    if done.rc != 0:
        return {"failed": True, "changed": False, "msg": f"could not start the job: {done.stderr.strip()}"}
    return {"ansible_job_id": jid, "started": True, "finished": False, "results_file": done.stdout.strip(),
            "changed": True}


def read_job(host: HostContext, jid: str) -> JobState:
    """The job's state, in one read-only command."""
    lines = host.run(["/bin/sh", "-c", _STATUS, "sh", jid]).stdout.split("\n")
    folder, phase = lines[0], (lines[1] if len(lines) > 1 else "missing")
    if phase != "finished":
        return JobState(folder, phase)
    task, rc, pid, start, end, stdout, stderr = (lines[2:] + [""] * 7)[:7]
    return JobState(folder, phase, json.loads(task or "{}"), int(rc or 0), pid, start, end, _decoded(stdout),
                    _decoded(stderr))


def job_result(jid: str, job: JobState) -> dict[str, Any]:
    """Ansible's ``async_status`` result for ``job``."""
    base = {"ansible_job_id": jid, "started": True, "results_file": job.folder}
    if job.phase == "missing":
        return {**base, **_NO_OUTPUT, "finished": True, "failed": True, "changed": False,
                "msg": "could not find job"}
    if job.phase == "running":
        return {**base, **_NO_OUTPUT, "finished": False, "changed": False}
    if job.rc == _TIMED_OUT:
        return {**base, **_NO_OUTPUT, "finished": True, "failed": True, "changed": False,
                "msg": "Timeout exceeded", "child_pid": int(job.pid) if job.pid.isdigit() else job.pid}
    module, args = MODULES[job.task.get("module", "command")], job.task.get("args", {})
    outcome = module.outcome(args, job.rc, job.stdout, job.stderr, _when(job.start), _when(job.end))
    return {**base, **outcome, "finished": True, "msg": outcome.get("msg", "")}


def run_as_job(host: HostContext, module: Module, args: dict[str, Any], seconds: int, poll: int) -> dict[str, Any]:
    """``async: seconds`` with ``poll``: start the job; with poll 0 leave it running, else look at it every
    ``poll`` seconds until it finishes (then remove its folder) or ``seconds`` are spent, as Ansible does.
    A command that ``creates``/``removes`` say need not run is not started: its result is the finished one."""
    decision = module.decide(args, module.inspect(host, args), host)
    if not decision.changed or decision.failed:
        return {**decision.result, "changed": False, "started": True, "finished": True,
                **({"failed": True} if decision.failed else {})}
    started = start_job(host, module, args, seconds)
    if poll <= 0 or started.get("failed"):
        return started
    jid = started["ansible_job_id"]
    result: dict[str, Any] = {}
    time_left = seconds
    while time_left > 0:
        time.sleep(poll)
        result = job_result(jid, read_job(host, jid))
        if result["finished"]:
            host.run(["/bin/sh", "-c", _CLEANUP, "sh", jid])
            return result
        time_left -= poll
    return {"failed": True, "changed": False, "async_result": result,
            "msg": f"async task did not complete within the requested time - {seconds}s"}


class AsyncStatus(Module):
    """Look at a job that ``async`` started (``poll: 0``), or remove what it left."""

    name = "async_status"
    description = ("The state of a job started by a task with `async` and `poll: 0` (`finished`, and the "
                   "command's result once it has), or (`mode: cleanup`) remove the job's folder "
                   "`~/.ansible_async/<jid>`.")
    schema = {
        "type": "object",
        "properties": {
            "jid": {"type": "string", "pattern": r"^(?!\.\.?$)[^/]+$",
                    "description": "The job's id: the starting task's `ansible_job_id` (a name in "
                                   "`~/.ansible_async`, never a path)."},
            "mode": {"enum": ["status", "cleanup"], "default": "status",
                     "description": "`status`: report on the job; `cleanup`: remove its folder."},
        },
        "required": ["jid"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> JobState:
        return read_job(host, args["jid"])

    def decide(self, args: dict[str, Any], state: JobState, host: HostContext) -> Decision:
        jid = args["jid"]
        if args.get("mode") == "cleanup":
            if state.phase == "missing":
                return Decision(False, job_result(jid, state), failed=True)
            return Decision(True, {"ansible_job_id": jid, "erased": state.folder, "started": False,
                                   "finished": False, **_NO_OUTPUT}, plan=state.folder)
        result = job_result(jid, state)
        return Decision(False, result, failed=bool(result.get("failed")))

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        host.run(["/bin/sh", "-c", _CLEANUP, "sh", args["jid"]])
        return {**decision.result, "changed": False}


def _decoded(text: str) -> str:
    return base64.b64decode(text.strip() or b"").decode(errors="replace")


def _when(text: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return datetime.now()
