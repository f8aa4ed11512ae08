"""``tempfile``: a new temporary file or directory on the host, only its owner's (``mktemp``).

Nothing to inspect: every run creates a new one (changed), as in Ansible, and
check mode skips the task (Ansible's module does not support it).
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.remote_file import parse_stat, stat_command

_RANDOM_PART = "XXXXXXXX"


class TempFile(Module):
    """Create a temporary file (0600) or directory (0700) and report its path."""

    name = "tempfile"
    description = ("Create a new temporary file (mode 0600) or directory (0700) with a random name, and report "
                   "its `path`. Every run creates a new one.")
    supports_check_mode = False
    schema = {
        "type": "object",
        "properties": {
            "state": {"enum": ["file", "directory"], "default": "file",
                      "description": "Whether to create a file or a directory."},
            "path": {"type": "string",
                     "description": "The folder to create it in (default: the host's $TMPDIR, else /tmp)."},
            "prefix": {"type": "string", "default": "ansible.",
                       "description": "The start of its name; a file name, without '/'."},
            "suffix": {"type": "string", "default": "",
                       "description": "The end of its name; a file name, without '/'."},
        },
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        for part in ("prefix", "suffix"):
            value = args.get(part, "")
            if value and value != posixpath.basename(value):
                return Decision(False, {"msg": f"{part} must be a valid file name component, got {value!r}"},
                                failed=True)
        return Decision(True)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        folder = f"-p {shlex.quote(args['path'])}" if args.get("path") else "--tmpdir"
        kind = "-d " if args.get("state", "file") == "directory" else ""
        template = shlex.quote(args.get("prefix", "ansible.") + _RANDOM_PART)
        suffix = shlex.quote(args.get("suffix", ""))
        done = host.run(f"p=$(mktemp {kind}{folder} --suffix={suffix} -- {template}) && echo \"$p\" && "
                        f"{stat_command('p')}")
        lines = done.stdout.split("\n")
        created = parse_stat(lines[1]) if done.rc == 0 and len(lines) > 1 else None
        if created is None:
            message = done.stderr.strip().splitlines()
            return {"changed": False, "failed": True,
                    "msg": message[-1] if message else f"mktemp failed with rc={done.rc}"}
        return {"changed": True, "path": lines[0], **created.attributes()}
