"""``raw``: a command line run as it is, through the host's shell."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module


class Raw(Module):
    """Run a command line through ``/bin/sh`` (or ``executable``); always changed."""

    name = "raw"
    description = "Run a command line through the host's shell, as it is (Ansible's way in before Python)."
    free_form = "free_form"
    supports_check_mode = False
    schema = {
        "type": "object",
        "properties": {
            "free_form": {"type": "string", "description": "The command line."},
            "executable": {"type": "string", "description": "The shell to run it with instead of /bin/sh."},
        },
        "required": ["free_form"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        return Decision(True)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        command = args["free_form"]
        result = host.run([args["executable"], "-c", command] if "executable" in args else command)
        outcome: dict[str, Any] = {
            "rc": result.rc,
            "stdout": result.stdout,
            "stdout_lines": result.stdout.splitlines(),
            "stderr": result.stderr,
            "stderr_lines": result.stderr.splitlines(),
            "changed": True,
        }
        if result.rc != 0:
            outcome.update(failed=True, msg="non-zero return code")
        return outcome
