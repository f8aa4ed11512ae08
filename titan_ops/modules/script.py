"""``script``: a controller script run on the host, sent on stdin into a private temporary folder that
the same remote command removes; ``creates``/``removes`` make it idempotent."""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.local import find_local, read_source


class Script(Module):
    """Send a local script to the host and run it there with its arguments."""

    name = "script"
    description = ("Run a script from the controller on the host: the script (searched in files/, then beside the "
                   "playbook) is sent into a private temporary folder, run with the arguments that follow its "
                   "name (as the host's shell reads them), and removed.")
    free_form = "cmd"
    schema = {
        "type": "object",
        "properties": {
            "cmd": {"type": "string", "minLength": 1,
                    "description": "The script's path on the controller, then its arguments."},
            "creates": {"type": "string", "description": "Skip the task when this path exists on the host."},
            "removes": {"type": "string", "description": "Run the script only when this path exists on the host."},
            "chdir": {"type": "string", "description": "An absolute folder on the host to run the script in."},
            "executable": {"type": "string",
                           "description": "The program that runs the script (`/bin/bash`, `python3`), instead of "
                                          "running it by itself (its `#!` line)."},
        },
        "required": ["cmd"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> dict[str, bool]:
        paths = {key: args[key] for key in ("creates", "removes") if args.get(key)}
        if not paths:
            return {}
        done = host.run(" ; ".join(f"if [ -e {shlex.quote(path)} ]; then echo 1; else echo 0; fi"
                                   for path in paths.values()))
        return {key: flag == "1" for key, flag in zip(paths, done.stdout.split())}

    def decide(self, args: dict[str, Any], state: dict[str, bool], host: HostContext) -> Decision:
        if state.get("creates"):
            return _skipped(f"{args['creates']} exists, matching creates option")
        if state.get("removes") is False:
            return _skipped(f"{args['removes']} does not exist, matching removes option")
        chdir = args.get("chdir")
        if chdir and not chdir.startswith("/"):
            return Decision(False, {"msg": f"chdir {chdir} must be an absolute path for a Unix-aware remote node"},
                            failed=True)
        try:
            source = find_local(host.local_folders, _split(args["cmd"])[0], "files")
        except (TitanOpsError, ValueError) as error:
            return Decision(False, {"msg": str(error)}, failed=True)
        if host.check_mode and not state:
            return _skipped("Check mode is not supported for this task.")
        return Decision(True, plan=source)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        source = read_source(decision.plan)
        done = host.run(_remote_script(args, posixpath.basename(decision.plan)), stdin=source.content)
        result: dict[str, Any] = {"changed": True, "rc": done.rc, "stdout": done.stdout, "stderr": done.stderr,
                                  "stdout_lines": done.stdout.splitlines(),
                                  "stderr_lines": done.stderr.splitlines()}
        if done.rc != 0:
            result.update(failed=True, msg="non-zero return code")
        return result


def _skipped(message: str) -> Decision:
    return Decision(False, {"changed": False, "skipped": True, "msg": message})


def _remote_script(args: dict[str, Any], name: str) -> str:
    """Save stdin as ``name`` in a new private folder, run it with the arguments written after the
    script's name (shell text, as Ansible runs them), and remove the folder whatever happens."""
    command = f'"$d"/{shlex.quote(name)} {_split(args["cmd"])[1]}'
    if args.get("executable"):
        command = f"{args['executable']} {command}"
    enter = f"cd {shlex.quote(args['chdir'])} && " if args.get("chdir") else ""
    return "\n".join([
        "d=$(mktemp -d) || exit 1",
        "trap 'rm -rf -- \"$d\"' EXIT",
        f'(umask 077; cat > "$d"/{shlex.quote(name)}) && chmod 700 "$d"/{shlex.quote(name)} || exit 1',
        f"{enter}{command}",
    ])


def _split(given: str) -> tuple[str, str]:
    """The script's name (its first word) and the text of the arguments after it, as written."""
    lexer = shlex.shlex(given.strip(), posix=True)
    lexer.whitespace_split = True
    name = lexer.get_token()
    if not name:
        raise ValueError("no script given")
    return name, lexer.instream.read()
