"""``known_hosts``: a host's keys in an OpenSSH known_hosts file, one per key type (or none).

One remote command reads the file; the edit is computed on the controller (hashed host names included); a
change is written atomically as copy writes (one more command).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.lineinfile import FileText, edit_decision, read_text, write_edit
from titan_ops.modules.home import with_home_expanded

_DEFAULT = "~/.ssh/known_hosts"
_HASHED = "|1|"
_MISMATCH = "Host parameter does not match hashed host field in supplied key"


class KnownHosts(Module):
    """Add or remove a host's keys in a known_hosts file."""

    name = "known_hosts"
    path_args = ("path",)
    description = ("Add a host's key to an OpenSSH known_hosts file (replacing its key of the same type) or "
                   "remove every key of the host. The file is replaced atomically, only when it changes; a "
                   "missing folder of the file is created (ansible-core fails there), a last line without a "
                   "newline gets one before a key is appended (ansible-core would merge the two), and removing "
                   "keys leaves no '<path>.old' beside the file (ansible-core's ssh-keygen -R does).")
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1,
                     "description": "The host ('[host]:port' for another port than 22), as in key; lowercased."},
            "host": {"type": "string", "minLength": 1, "description": "Alias of name."},
            "key": {"type": "string",
                    "description": "The known_hosts line: '<host[,ip]> <type> <base64 key>', its host field naming "
                                   "name (or a hash of it). Required with state present."},
            "path": {"type": "string", "minLength": 1, "default": _DEFAULT,
                     "description": "The known_hosts file."},
            "state": {"enum": ["present", "absent"], "default": "present",
                      "description": "present: the key is there; absent: no key of the host is."},
            "hash_host": {"type": "boolean", "default": False,
                          "description": "Write the host name hashed, as ssh-keygen -H does."},
        },
        "oneOf": [{"required": ["name"]}, {"required": ["host"]}],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> tuple[str, FileText]:
        """The file's path (the default one with the remote user's home) and the file."""
        path = args["path"] if "path" in args else with_home_expanded(self, {"path": _DEFAULT}, host)["path"]
        return path, read_text(host, path)

    def decide(self, args: dict[str, Any], file: tuple[str, FileText], host: HostContext) -> Decision:
        path, state = file
        given = args.get("name") or args["host"]
        name = given.lower()
        present = args.get("state", "present") == "present"
        key = args.get("key")
        result: dict[str, Any] = {"name": given, "key": key, "path": path, "hash_host": args.get("hash_host", False)}
        lines = (state.content or b"").decode(errors="surrogateescape").splitlines(keepends=True)
        if present:
            if not key:
                return Decision(False, {"msg": "No key specified when adding a host"}, failed=True)
            fields = key.split()
            if len(fields) < 3 or not _is_base64(fields[2]):
                return Decision(False, {"msg": f"Invalid key specified: {key}"}, failed=True)
            if not names_host(fields[0], name):
                return Decision(False, {"msg": _MISMATCH}, failed=True)
            after = _with_key(lines, name, fields, args.get("hash_host", False))
        else:
            after = [line for line in lines if not _entry_of(line, name)]
        if after == lines:
            decision = Decision(False, result)
            if state.stat is not None:
                result.update(state.stat.attributes())
            return decision
        decision = edit_decision(state, path, {}, "".join(after).encode(errors="surrogateescape"), result,
                                 header=path)
        if host.check_mode:  # ansible-core's module reports no more than that it would change
            decision.result = {}
        decision.result.pop("msg", None)
        return decision

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return write_edit(host, decision, with_stat=True)


def names_host(patterns: str, name: str) -> bool:
    """Whether a known_hosts host field (comma-separated names, or one hashed name) names ``name``."""
    if patterns.startswith(_HASHED):
        try:
            salt, digest = (base64.b64decode(part) for part in patterns[len(_HASHED):].split("|"))
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), digest)
    return name in patterns.lower().split(",")


def hashed_name(name: str) -> str:
    """``name`` hashed as ssh-keygen -H writes it: ``|1|<salt>|<HMAC-SHA1 of name>`` (base64)."""
    salt = os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"{_HASHED}{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def _entry_of(line: str, name: str) -> bool:
    """Whether ``line`` is a key of ``name`` (comments, blank lines and @marker lines are not)."""
    fields = line.split()
    return len(fields) >= 3 and not fields[0].startswith(("#", "@")) and names_host(fields[0], name)


def _with_key(lines: list[str], name: str, fields: list[str], hash_host: bool) -> list[str]:
    """``lines`` with the key line of ``fields``: unchanged when the host has it (with the same host field, or
    hashed), else appended, in place of the host's key of the same type."""
    key_type, key_data = fields[1], fields[2]
    kept = []
    for line in lines:
        entry = line.split()
        if _entry_of(line, name) and entry[1] == key_type:
            if entry[2] == key_data and entry[0] in (fields[0], *((entry[0],) if entry[0].startswith(_HASHED) else ())):
                return lines
            continue
        kept.append(line)
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    host_field = hashed_name(name) if hash_host else fields[0]
    return [*kept, " ".join([host_field, *fields[1:]]) + "\n"]


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return False
    return True
