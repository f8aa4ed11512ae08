"""``command`` and ``shell``: run a command; ``creates``/``removes`` make it idempotent."""

from __future__ import annotations

import shlex
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module

_COMMON_PROPERTIES: dict[str, Any] = {
    "cmd": {"type": "string", "description": "The command line."},
    "creates": {"type": "string", "description": "Skip the command when this path exists."},
    "removes": {"type": "string", "description": "Run the command only when this path exists."},
    "chdir": {"type": "string", "description": "Change into this directory first."},
    "stdin": {"type": "string", "description": "Text fed to the command's standard input."},
    "stdin_add_newline": {"type": "boolean", "default": True, "description": "Add a newline after stdin."},
    "strip_empty_ends": {"type": "boolean", "default": True,
                         "description": "Strip trailing newlines of stdout and stderr."},
}


class Command(Module):
    """Run a command as an argument list: no shell, so its words are data."""

    name = "command"
    description = "Run a command on the host, without a shell."
    free_form = "cmd"
    skip_in_check_mode = True
    schema = {
        "type": "object",
        "properties": {
            **_COMMON_PROPERTIES,
            "argv": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1,
                     "description": "The command as a list of arguments."},
        },
        "oneOf": [{"required": ["cmd"]}, {"required": ["argv"]}],
        "additionalProperties": False,
    }

    def command_line(self, args: dict[str, Any]) -> list[str] | str:
        if "argv" in args:
            return [str(word) for word in args["argv"]]
        return shlex.split(args["cmd"])

    def inspect(self, host: HostContext, args: dict[str, Any]) -> dict[str, bool]:
        paths = [args[key] for key in ("creates", "removes") if key in args]
        if not paths:
            return {}
        probe = " ; ".join(f"test -e {shlex.quote(path)} && echo 1 || echo 0" for path in paths)
        result = host.run(probe, cwd=args.get("chdir"))
        flags = result.stdout.split()
        return {key: flag == "1" for key, flag in zip([k for k in ("creates", "removes") if k in args], flags)}

    def decide(self, args: dict[str, Any], state: dict[str, bool], host: HostContext) -> Decision:
        if state.get("creates"):
            return Decision(False, {"rc": 0, "stdout": f"skipped, since {args['creates']} exists",
                                    "msg": f"Did not run command since '{args['creates']}' exists"})
        if "removes" in state and not state["removes"]:
            return Decision(False, {"rc": 0, "stdout": f"skipped, since {args['removes']} does not exist",
                                    "msg": f"Did not run command since '{args['removes']}' does not exist"})
        return Decision(True, {"msg": "Command would have run if not in check mode"})

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        command = self.command_line(args)
        stdin = args.get("stdin")
        if stdin is not None and args.get("stdin_add_newline", True):
            stdin += "\n"
        result = host.run(command, stdin=stdin, cwd=args.get("chdir"))
        stdout, stderr = result.stdout, result.stderr
        if args.get("strip_empty_ends", True):
            stdout, stderr = stdout.rstrip("\r\n"), stderr.rstrip("\r\n")
        outcome: dict[str, Any] = {
            "cmd": command,
            "rc": result.rc,
            "stdout": stdout,
            "stderr": stderr,
            "stdout_lines": stdout.splitlines(),
            "stderr_lines": stderr.splitlines(),
            "start": result.start.isoformat(sep=" "),
            "end": result.end.isoformat(sep=" "),
            "delta": str(result.end - result.start),
            "changed": True,
        }
        if result.rc != 0:
            outcome["failed"] = True
            outcome["msg"] = "non-zero return code"
        return outcome


class Shell(Command):
    """Run a command line through a shell (``/bin/sh`` unless ``executable``)."""

    name = "shell"
    description = "Run a command line on the host through a shell."
    schema = {
        "type": "object",
        "properties": {
            **_COMMON_PROPERTIES,
            "executable": {"type": "string", "description": "The shell to use instead of /bin/sh."},
        },
        "required": ["cmd"],
        "additionalProperties": False,
    }

    def command_line(self, args: dict[str, Any]) -> list[str] | str:
        if "executable" in args:
            return [args["executable"], "-c", args["cmd"]]
        return args["cmd"]
