"""``assemble``: a file made of the fragments in a folder (on the host, or on the controller), in name order.

One remote command reads the destination and (``remote_src``) every fragment; the file is assembled on the
controller by ansible-core's rules and, when it differs, written atomically as copy writes (one more command).
"""

from __future__ import annotations

import base64
import codecs
import os
import re
from dataclasses import dataclass
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.lineinfile import FileText, edit_decision, parse_text, text_script, write_edit, \
    write_properties
from titan_ops.modules.files.local import find_local
from titan_ops.modules.files.remote_file import assign, md5, run_script, sha1

_MISSING, _NOT_A_FOLDER = "missing", "not a folder"
_FRAGMENTS = r"""
if [ ! -e "$s" ]; then echo missing; elif [ ! -d "$s" ]; then echo 'not a folder'; else echo folder
for f in "$s"/* "$s"/.[!.]* "$s"/..?*; do
  if [ -f "$f" ]; then printf '%s' "${f##*/}" | base64 -w0; printf ' '; base64 -w0 < "$f" || exit 1; echo; fi
done; fi"""
"""Script: after the destination's lines, ``missing``, ``not a folder``, or ``folder`` and a line per regular file
in ``$s`` (a symbolic link to one included): the base64 of its name and of its content."""


@dataclass(frozen=True)
class Sources:
    """The destination as it is, and the fragments by name (None: the source is ``_MISSING`` or ``_NOT_A_FOLDER``)."""

    dest: FileText
    fragments: dict[str, bytes] | None
    problem: str = ""


class Assemble(Module):
    """Assemble a file from the fragments in a folder."""

    name = "assemble"
    path_args = ("src", "dest")
    description = ("Concatenate the regular files of a folder, in the order of their names, into one file; a "
                   "fragment without a last newline gets one before the next. The file is replaced atomically, "
                   "only when its content or attributes change (--check and --diff as the other file modules).")
    schema = {
        "type": "object",
        "properties": {
            "src": {"type": "string", "minLength": 1,
                    "description": "The folder of fragments: on the host, or with remote_src false on the "
                                   "controller (a relative one under the role's or playbook's files/, as copy's)."},
            "dest": {"type": "string", "minLength": 1, "description": "The file to write."},
            "remote_src": {"type": "boolean", "default": True,
                           "description": "src is on the host (false: on the controller)."},
            "delimiter": {"type": "string",
                          "description": "Written between fragments, followed by a newline (escapes such as \\n "
                                         "are decoded)."},
            "regexp": {"type": "string",
                       "description": "Only fragments whose name this Python regular expression matches (searched "
                                      "anywhere in the name)."},
            "ignore_hidden": {"type": "boolean", "default": False,
                              "description": "Leave out fragments whose name starts with a dot."},
            **write_properties(reported_as="backup_file"),
        },
        "required": ["src", "dest"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Sources:
        if not args.get("remote_src", True):
            dest = parse_text(run_script(host, text_script(args["dest"])))
            return _local_sources(dest, find_local(host.local_folders, args["src"], "files"))
        lines = run_script(host, f"{text_script(args['dest'])}\n{assign(s=args['src'])}{_FRAGMENTS}")
        dest, found = parse_text(lines[:4]), lines[4]
        if found != "folder":
            return Sources(dest, None, found)
        fragments = {}
        for line in lines[5:]:
            if line:
                name, content = line.split(" ")
                fragments[base64.b64decode(name).decode(errors="surrogateescape")] = base64.b64decode(content)
        return Sources(dest, fragments)

    def decide(self, args: dict[str, Any], state: Sources, host: HostContext) -> Decision:
        src, dest = args["src"], args["dest"]
        if state.fragments is None:
            problem = "does not exist" if state.problem == _MISSING else "is not a directory"
            return Decision(False, {"msg": f"Source ({src}) {problem}"}, failed=True)
        if state.dest.stat is not None and state.dest.stat.kind == "directory":
            return Decision(False, {"msg": f"Destination {dest} is a directory"}, failed=True)
        try:
            content = assembled(state.fragments, args.get("delimiter"), args.get("regexp"),
                                args.get("ignore_hidden", False), on_controller=not args.get("remote_src", True))
        except re.error as error:
            return Decision(False, {"msg": f'Invalid Regexp ({error}) in "{args["regexp"]}"'}, failed=True)
        except ValueError as error:  # (a delimiter whose escapes do not decode: '\x')
            return Decision(False, {"msg": f"Invalid delimiter ({error})"}, failed=True)
        result: dict[str, Any] = {"src": src, "dest": dest, "checksum": sha1(content), "md5sum": md5(content)}
        decision = edit_decision(state.dest, dest, args, content, result, header=dest)
        decision.result.pop("msg", None)
        if args.get("remote_src", True):  # (from the controller: copy's result, without one)
            decision.result["msg"] = "OK"
        if not decision.changed and state.dest.stat is not None:
            decision.result.update(state.dest.stat.attributes())
        return decision

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        return write_edit(host, decision, with_stat=True)


def assembled(fragments: dict[str, bytes], delimiter: str | None, regexp: str | None, ignore_hidden: bool,
              on_controller: bool = False) -> bytes:
    """The fragments in name order (those ``regexp`` matches, hidden ones left out with ``ignore_hidden``),
    ``delimiter`` between two, a newline after a fragment that does not end with one but the last.

    The delimiter is followed by a newline unless it ends with one; from the controller (``on_controller``)
    always, as ansible-core's action plugin does."""
    pattern = re.compile(regexp) if regexp else None
    separator = codecs.escape_decode(delimiter.encode())[0] if delimiter else b""
    if separator and (on_controller or not separator.endswith(b"\n")):
        separator += b"\n"
    parts: list[bytes] = []
    for name in sorted(fragments):
        if (pattern is not None and not pattern.search(name)) or (ignore_hidden and name.startswith(".")):
            continue
        if parts:
            parts.append(b"" if parts[-1].endswith(b"\n") else b"\n")
            parts.append(separator)
        parts.append(fragments[name])
    return b"".join(parts)


def _local_sources(dest: FileText, folder: str) -> Sources:
    """The regular files of controller ``folder`` (``remote_src: false``)."""
    if not os.path.isdir(folder):
        return Sources(dest, None, _NOT_A_FOLDER)
    fragments = {}
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                with open(path, "rb") as handle:
                    fragments[name] = handle.read()
            except OSError as error:
                raise TitanOpsError(f"Could not read '{path}': {error.strerror}") from None
    return Sources(dest, fragments)
