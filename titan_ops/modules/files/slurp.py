"""``slurp``: a remote file's content, base64-encoded, in one read-only remote command."""

from __future__ import annotations

from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.remote_file import assign, run_script

_FAILURES = {
    "absent": "File not found: {}",
    "unreadable": "File is not readable: {}",
    "directory": "Source is a directory and must be a file: {}",
}


class Slurp(Module):
    """Read a file on the host (read-only: never changes anything)."""

    name = "slurp"
    path_args = ("src", "path")
    description = ("Return a remote file's content, base64-encoded (`content`, with `encoding: base64` and "
                   "`source`); decode it with the `b64decode` filter. The whole file is held in memory.")
    schema = {
        "type": "object",
        "properties": {
            "src": {"type": "string", "minLength": 1, "description": "The remote file to read."},
            "path": {"type": "string", "minLength": 1, "description": "Alias of src."},
        },
        "oneOf": [{"required": ["src"]}, {"required": ["path"]}],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> list[str]:
        return run_script(host, "\n".join([
            assign(p=_source(args)),
            'if [ -d "$p" ]; then echo directory; elif [ ! -e "$p" ]; then echo absent',
            'elif ! { : < "$p"; } 2>/dev/null; then echo unreadable',
            'else echo ok; base64 -w0 < "$p"; echo; fi']))

    def decide(self, args: dict[str, Any], state: list[str], host: HostContext) -> Decision:
        source = _source(args)
        if state[0] != "ok":
            return Decision(False, {"msg": _FAILURES[state[0]].format(source)}, failed=True)
        return Decision(False, {"content": state[1], "source": source, "encoding": "base64"})


def _source(args: dict[str, Any]) -> str:
    return args.get("src") or args["path"]
