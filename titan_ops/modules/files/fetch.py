"""``fetch``: bring a remote file to the controller, under ``dest/<host>/<src>`` or ``dest`` itself.

One remote command compares checksums and, when the file differs and is not
large, carries its content too; a large file costs one more, which streams it
into a temp file beside the destination (memory bounded whatever its size),
checked against the remote checksum before it is renamed into place.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Any, BinaryIO

from titan_ops.errors import TitanOpsError
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files.local import ChecksumMismatch, local_sha1, receive_local
from titan_ops.modules.files.remote_file import FileStat, RemoteFileError, assign, checksum_line, parse_content, \
    parse_stat, run_script, stat_line

INLINE_LIMIT = 4 * 1024 * 1024
"""Files up to this size come back with the checking command itself."""


@dataclass(frozen=True)
class FetchState:
    """The remote file and the local copy."""

    dest: str
    stat: FileStat | None
    checksum: str | None
    local_checksum: str | None
    data: bytes | None


class Fetch(Module):
    """Copy a file from the host to the controller. Like Ansible's, it does not run in check mode
    (the task is reported skipped): it would write on the controller."""

    name = "fetch"
    supports_check_mode = False
    description = ("Copy a file from the host to the controller, into dest/<inventory_hostname>/<src path>, "
                   "or to dest itself with flat.")
    schema = {
        "type": "object",
        "properties": {
            "src": {"type": "string", "minLength": 1, "description": "The remote file to fetch (not a directory)."},
            "dest": {"type": "string", "minLength": 1,
                     "description": "A controller folder (relative to the playbook's folder); the file is saved "
                                    "as dest/<inventory_hostname>/<src>, or, with flat, as dest itself "
                                    "(dest/<basename of src> when dest ends in '/')."},
            "flat": {"type": "boolean", "default": False,
                     "description": "Save to dest itself instead of adding the host name and src's path."},
            "fail_on_missing": {"type": "boolean", "default": True,
                                "description": "Fail when src does not exist (else report it and go on)."},
            "validate_checksum": {"type": "boolean", "default": True,
                                  "description": "Check that the file received has the remote file's checksum."},
        },
        "required": ["src", "dest"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> FetchState | None:
        if host.check_mode:
            return None
        dest = _destination(args, host)
        local = local_sha1(dest)
        lines = run_script(host, "\n".join([
            assign(p=args["src"], w=local or "-"), stat_line("p", follow=True), checksum_line("p"),
            f'if [ "$h" != "$w" ] && [ "$h" != - ] && [ "$(wc -c < "$p")" -le {INLINE_LIMIT} ]; then printf +; '
            'base64 -w0 < "$p"; echo; else echo -; fi']))
        return FetchState(dest, parse_stat(lines[0]), None if lines[1] == "-" else lines[1], local,
                          parse_content(lines[2]))

    def decide(self, args: dict[str, Any], state: FetchState | None, host: HostContext) -> Decision:
        if state is None:
            return Decision(True, {"msg": "check mode not (yet) supported for this module"})
        src = args["src"]
        if state.stat is None:
            message = "the remote file does not exist, not transferring, ignored"
            return Decision(False, {"msg": message, "file": src}, failed=args.get("fail_on_missing", True))
        if state.stat.kind == "directory":
            return Decision(False, {"msg": "remote file is a directory, fetch cannot work on directories",
                                    "file": src}, failed=True)
        if state.checksum is None:
            return Decision(False, {"msg": "unable to calculate the checksum of the remote file", "file": src},
                            failed=True)
        result = {"dest": state.dest, "checksum": state.checksum, "remote_checksum": state.checksum,
                  "remote_md5sum": None}
        return Decision(state.local_checksum != state.checksum, result, plan=state.data)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        result = dict(decision.result)
        src, dest, inline = args["src"], result["dest"], decision.plan

        def fill(sink: BinaryIO) -> None:
            if inline is not None:
                sink.write(inline)
            else:  # a large file: streamed from the host into the temp file
                host.connection.get_into(src, sink)

        expected = result["remote_checksum"] if args.get("validate_checksum", True) else None
        try:
            checksum, md5sum = receive_local(dest, fill, expected)
        except ChecksumMismatch:
            raise RemoteFileError(f"checksum mismatch after fetching {src} (the file changed meanwhile?)") from None
        except OSError as error:
            raise TitanOpsError(f"cannot write {dest} on the controller: {error.strerror}") from None
        return {**result, "checksum": checksum, "md5sum": md5sum}


def _destination(args: dict[str, Any], host: HostContext) -> str:
    """Where the fetched file goes on the controller."""
    dest = os.path.expanduser(args["dest"])
    if not os.path.isabs(dest):
        dest = os.path.join(host.playbook_dir, dest)
    src = args["src"]
    if args.get("flat"):
        return dest + posixpath.basename(src) if dest.endswith("/") else dest
    name = str(host.variables.get("inventory_hostname", host.host))
    return os.path.normpath(os.path.join(dest, name, posixpath.normpath(src).lstrip("/")))
