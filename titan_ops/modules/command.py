"""``command`` and ``shell``: run a command; ``creates``/``removes`` make it idempotent."""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from typing import Any

from titan_ops.connection.base import HostOutput
from titan_ops.modules.base import Decision, HostContext, Module

_COMMON_PROPERTIES: dict[str, Any] = {
    "cmd": {"type": "string", "description": "The command line."},
    "creates": {"type": ["string", "number", "boolean"],
                "description": "Skip the command when this path exists, or a path this glob matches (a number or "
                               "boolean is its text, as in Ansible: `yes` is the path `True`)."},
    "removes": {"type": ["string", "number", "boolean"],
                "description": "Run the command only when this path exists, or a path this glob matches."},
    "chdir": {"type": "string", "description": "Change into this directory first."},
    "stdin": {"type": "string", "description": "Text fed to the command's standard input."},
    "stdin_add_newline": {"type": "boolean", "default": True, "description": "Add a newline after stdin."},
    "strip_empty_ends": {"type": "boolean", "default": True,
                         "description": "Strip trailing newlines of stdout and stderr."},
}
# What the host's shell says on stderr, alone, when ``chdir`` names no directory it can enter.
_NO_CHDIR = "titan-ops: chdir failed"
_VARIABLE = re.compile(r"\$(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\})")
_TILDE = re.compile(r"~[A-Za-z0-9_.-]*(?=/|$)")
# Prints why the program "$1" cannot be started, as execvp finds it (along PATH for a name without a slash):
# the errno (2: no such file, 13: not an executable file), 0 when it can.
_PROGRAM_ERROR = (
    'case $1 in */*) if [ -f "$1" ] && [ -x "$1" ]; then echo 0; elif [ -e "$1" ]; then echo 13; else echo 2; fi;; '
    '*) r=2; IFS=:; for d in $PATH; do p="${d:-.}/$1"; if [ -f "$p" ] && [ -x "$p" ]; then r=0; break; '
    'elif [ -e "$p" ]; then r=13; fi; done; echo $r;; esac'
)
_SHELL_CANNOT_START = (126, 127)
"""The exit statuses of a shell that could not start a command's program."""


class Command(Module):
    """Run a command as an argument list: no shell, so its words are data."""

    name = "command"
    supports_async = True
    description = ("Run a command on the host, without a shell. In check mode it is skipped, unless creates or "
                   "removes is given: then the task says whether it would run (changed) or not (ok).")
    free_form = "cmd"
    schema = {
        "type": "object",
        "properties": {
            **_COMMON_PROPERTIES,
            "argv": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1,
                     "description": "The command as a list of arguments."},
            "executable": {"type": "string",
                           "description": "Ignored, as in Ansible (command runs no shell): the result's warnings "
                                          "say so."},
            "expand_argument_vars": {"type": "boolean", "default": True,
                                     "description": "Expand `$NAME`, `${NAME}` and a leading `~` in the "
                                                    "arguments with the host's environment (variables not "
                                                    "set stay as written)."},
        },
        "oneOf": [{"required": ["cmd"]}, {"required": ["argv"]}],
        "additionalProperties": False,
    }

    def command_line(self, args: dict[str, Any]) -> list[str] | str:
        """What runs: an argument list, or a line for ``/bin/sh``."""
        if "argv" in args:
            return [str(word) for word in args["argv"]]
        return shlex.split(args["cmd"])

    def shown_command(self, args: dict[str, Any]) -> list[str] | str:
        """The result's ``cmd``."""
        return self.command_line(args)

    def inspect(self, host: HostContext, args: dict[str, Any]) -> dict[str, bool]:
        paths = [_text(args[key]) for key in ("creates", "removes") if key in args]
        if not paths:
            return {}
        probe = " ; ".join(f'set -- {_pattern(path)}; if [ -e "$1" ] || [ -L "$1" ]; then echo 1; else echo 0; fi'
                           for path in paths)
        result = host.run(probe, cwd=args.get("chdir"))
        flags = result.stdout.split()
        return {key: flag == "1" for key, flag in zip([k for k in ("creates", "removes") if k in args], flags)}

    def decide(self, args: dict[str, Any], state: dict[str, bool], host: HostContext) -> Decision:
        """Not run when creates exists or removes does not; in check mode, skipped unless one of them is
        given (then changed: it would run), as in Ansible."""
        not_run = "Would not" if host.check_mode else "Did not"
        unrun = {"cmd": self.shown_command(args), "rc": 0, "stdout": "", "stderr": "", "stdout_lines": [],
                 "stderr_lines": [], "start": None, "end": None, "delta": None}
        if state.get("creates"):
            path = _text(args["creates"])
            return Decision(False, {**unrun, "stdout": f"skipped, since {path} exists",
                                    "stdout_lines": [f"skipped, since {path} exists"],
                                    "msg": f"{not_run} run command since '{path}' exists"})
        if "removes" in state and not state["removes"]:
            path = _text(args["removes"])
            return Decision(False, {**unrun, "stdout": f"skipped, since {path} does not exist",
                                    "stdout_lines": [f"skipped, since {path} does not exist"],
                                    "msg": f"{not_run} run command since '{path}' does not exist"})
        if host.check_mode and not state:
            return Decision(False, {**unrun, "skipped": True, "msg": "Command would have run if not in check mode"})
        return Decision(True, {**unrun, "msg": "Command would have run if not in check mode"})

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        command = self.command_line(args)
        stdin = self.stdin(args)
        chdir = args.get("chdir")
        expand = self._expands(args, command)
        result = host.run(self._script(command, chdir, expand), stdin=stdin) if chdir or expand \
            else host.run(command, stdin=stdin)
        if result.rc in _SHELL_CANNOT_START and isinstance(command, list):
            error = self._program_error(host, command[0], chdir, expand)
            if error:
                return self.not_started(args, error)
        return self.outcome(args, result.rc, result.stdout, result.stderr, result.start, result.end)

    def not_started(self, args: dict[str, Any], error: int) -> dict[str, Any]:
        """The result of a program that could not be started (``error``: the errno), as Ansible's module
        gives it: no output, the errno as ``rc``."""
        return {"changed": False, "failed": True, "cmd": shlex.join(self.command_line(args)), "rc": error,
                "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": [], "msg": "Error executing command."}

    @staticmethod
    def _program_error(host: HostContext, program: str, chdir: str | None, expand: bool) -> int:
        """Why ``program`` cannot be started on the host (an errno; 0: it can), asked after the shell said it
        could not start a command (exit status 126 or 127, which the program may also have given)."""
        word = _expanding_word(program) if expand else shlex.quote(program)
        found = host.run(f"set -f; IFS=''; set -- {word}; {_PROGRAM_ERROR}", cwd=chdir).stdout.strip()
        return int(found) if found.isdigit() else 0

    def stdin(self, args: dict[str, Any]) -> str | None:
        """What the command reads on its standard input (None: nothing)."""
        stdin = args.get("stdin")
        if stdin is not None and args.get("stdin_add_newline", True):
            stdin += "\n"
        return stdin

    def job_line(self, args: dict[str, Any]) -> str:
        """The command as one shell line, as an ``async`` job runs it."""
        command = self.command_line(args)
        return self._script(command, args.get("chdir"), self._expands(args, command))

    def outcome(self, args: dict[str, Any], rc: int, stdout: str, stderr: str, start: datetime,
                end: datetime) -> dict[str, Any]:
        """The result of the command having run (exit status ``rc``), as Ansible's module gives it."""
        chdir = args.get("chdir")
        if chdir and rc != 0 and stderr.strip() == _NO_CHDIR:
            return {"changed": False, "failed": True, "cmd": self.shown_command(args), "rc": None, "stdout": "",
                    "stderr": "", "stdout_lines": [], "stderr_lines": [], "start": None, "end": None, "delta": None,
                    "msg": f"Unable to change directory before execution: no directory {chdir!r}"}
        if args.get("strip_empty_ends", True):
            stdout, stderr = _strip_empty_end(stdout), _strip_empty_end(stderr)
        outcome: dict[str, Any] = {
            "cmd": self.shown_command(args),
            "rc": rc,
            "stdout": stdout,
            "stderr": stderr,
            "stdout_lines": stdout.splitlines(),
            "stderr_lines": stderr.splitlines(),
            "start": start.isoformat(sep=" "),
            "end": end.isoformat(sep=" "),
            "delta": str(end - start),
            "changed": True,
        }
        if rc != 0:
            outcome["failed"] = True
            outcome["msg"] = "non-zero return code"
        if self.name == "command" and "executable" in args:
            outcome["warnings"] = [f"As of Ansible 2.4, the parameter 'executable' is no longer supported with "
                                   f"the 'command' module. Not using '{args['executable']}'."]
        return outcome

    @staticmethod
    def _expands(args: dict[str, Any], command: list[str] | str) -> bool:
        """Whether the command's words hold variables or a tilde the host's shell expands."""
        return isinstance(command, list) and args.get("expand_argument_vars", True) and any(
            "$" in word or word.startswith("~") for word in command)

    @staticmethod
    def _script(command: list[str] | str, chdir: str | None, expand: bool) -> str:
        """A shell line that enters ``chdir`` (or says it could not) and then runs ``command``, its
        words' variables expanded by the host's shell when ``expand`` (Ansible's expand_argument_vars)."""
        enter = f"cd -P {shlex.quote(chdir)} 2>/dev/null || {{ echo {shlex.quote(_NO_CHDIR)} >&2; exit 1; }}; " \
            if chdir else ""
        if isinstance(command, str):
            return f"{enter}exec /bin/sh -c {shlex.quote(command)}"
        words = " ".join(_expanding_word(word) if expand else shlex.quote(word) for word in command)
        # no field splitting nor globbing of what a variable holds: each word stays one argument
        return f"set -f; IFS=''; {enter}exec {words}"


def _strip_empty_end(output: str) -> str:
    """``output`` without its trailing newlines, still holding the bytes the host printed."""
    stripped = output.rstrip("\r\n")
    return HostOutput(output.raw, stripped) if isinstance(output, HostOutput) else stripped


def _pattern(path: str) -> str:
    """``path`` as a shell word whose ``*``, ``?`` and ``[...]`` match names as a glob (Ansible globs creates
    and removes), everything else quoted."""
    return "".join(part if part in "*?[]" else shlex.quote(part) for part in re.split(r"([*?\[\]])", path) if part)


def _text(value: Any) -> str:
    """An argument Ansible takes as text: a boolean or a number given instead is its Python text."""
    return value if isinstance(value, str) else str(value)


def _expanding_word(word: str) -> str:
    """``word`` for the shell: quoted, but for its ``$NAME``/``${NAME}`` (replaced when set, kept as written
    when not) and a leading ``~`` or ``~user``."""
    tilde = _TILDE.match(word)
    # the shell expands a tilde only at the start of a word, up to an unquoted slash, with nothing quoted
    parts = [tilde.group()] if tilde else ['""']  # (and "" keeps an empty argument an argument)
    word = word[tilde.end():] if tilde else word
    if tilde and word.startswith("/"):
        parts.append("/")
        word = word[1:]
    position = 0
    for match in _VARIABLE.finditer(word):
        parts.append(shlex.quote(word[position:match.start()]) if match.start() > position else "")
        name = match["name"] or match["braced"]
        parts.append(f"${{{name}-{shlex.quote(match.group())}}}")
        position = match.end()
    if position < len(word):
        parts.append(shlex.quote(word[position:]))
    return "".join(parts)


class Shell(Command):
    """Run a command line through a shell (``/bin/sh`` unless ``executable``)."""

    name = "shell"
    description = ("Run a command line on the host through a shell. In check mode it is skipped, unless creates "
                   "or removes is given: then the task says whether it would run (changed) or not (ok).")
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

    def shown_command(self, args: dict[str, Any]) -> list[str] | str:
        """The command line as given, whatever shell runs it (as Ansible shows it)."""
        return args["cmd"]

    def unsupported_parameters(self, unknown: list[str]) -> str:
        """``command``'s own ``expand_argument_vars`` is refused first, alone (as ansible-core's shell does)."""
        if "expand_argument_vars" in unknown:
            return f"Unsupported parameters for ({self.name}) module: expand_argument_vars"
        return super().unsupported_parameters(unknown)
