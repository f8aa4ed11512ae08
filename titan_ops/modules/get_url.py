"""``get_url``: download a file over HTTP(S) or FTP on the host, with the host's curl.

inspect reads dest (whether it is a folder, and its checksum when a ``checksum`` is given) in one
command; in check mode it also asks the server for the headers (``HEAD``), as Ansible does. act downloads
into a temporary file on the host (``curl``, sending ``If-Modified-Since`` dest's time when dest exists and
``force`` is false), checks the ``checksum``, and hands the file to ``copy`` (``remote_src``), which
replaces dest atomically only when the content differs and sets mode and owner; the temporary file is
removed whatever happens. The URL, credentials and headers reach curl on its standard input, never its
command line.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from titan_ops.modules import MODULES
from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.files import modes
from titan_ops.modules.files.attributes import GROUP_SCHEMA, OWNER_SCHEMA
from titan_ops.modules.files.remote_file import FileStat, parse_stat, stat_line

_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")

# $1: dest, $2: the checksum algorithm ("" for none). Prints "dir", "file" or "missing", dest's checksum and stat.
_INSPECT = r"""
if [ -d "$1" ]; then echo dir; elif [ -e "$1" ]; then echo file; else echo missing; fi
if [ -n "$2" ] && [ -f "$1" ]; then "$2"sum -- "$1" | cut -d' ' -f1; else echo; fi
p=$1
""" + stat_line("p")

# $1: dest when curl may answer 304 for it, $2: curl's method option, $3: the timeout, $4: the checksum algorithm,
# then curl's own options; stdin: curl's configuration (the URL, headers, credentials). Prints the download's
# path, curl's exit status, the HTTP status, the URL after redirects, the download's sha1, md5, size and checksum,
# then the response's headers; curl's error on stderr. Ended (a timeout, an interrupted run), it removes its files.
_DOWNLOAD = r"""
since=$1 method=$2 timeout=$3 algorithm=$4; shift 4
command -v curl >/dev/null 2>&1 || { echo "get_url needs curl on the host" >&2; exit 127; }
t= h=
trap '[ -z "$t" ] || rm -f -- "$t"; [ -z "$h" ] || rm -f -- "$h"; exit 143' TERM INT HUP
t=$(mktemp "${TMPDIR:-/tmp}/titan-ops-get_url.XXXXXX") || exit 1
h=$(mktemp "${TMPDIR:-/tmp}/titan-ops-get_url.XXXXXX") || { rm -f -- "$t"; exit 1; }
set -- "$@" -sS -L --max-time "$timeout" -o "$t" -D "$h" -w '%{http_code}\n%{url_effective}\n' -K -
[ -z "$since" ] || set -- "$@" -z "$since"
[ -z "$method" ] || set -- "$@" "$method"
out=$(curl "$@"); rc=$?
[ -z "$method" ] || : > "$t"  # (a HEAD request's "body" is its headers)
echo "$t"; echo "$rc"; printf '%s\n' "$out" | head -n 2
sha1sum -- "$t" | cut -d' ' -f1; md5sum -- "$t" | cut -d' ' -f1; wc -c < "$t"
if [ -n "$algorithm" ]; then "$algorithm"sum -- "$t" | cut -d' ' -f1; else echo; fi
tr -d '\r' < "$h"; rm -f -- "$h"
"""


@dataclass(frozen=True)
class Download:
    """What curl did: where the body is on the host, curl's status, the HTTP status, the final URL, the body's
    sha1, size and checksum, and the last response's headers."""

    path: str
    curl_rc: int
    status: int
    url: str
    sha1: str
    md5: str
    size: int
    checksum: str
    reason: str
    headers: dict[str, str]
    error: str


class GetUrl(Module):
    """Download a file to the host with curl; dest is replaced only when the content differs."""

    name = "get_url"
    description = ("Download a file from an HTTP, HTTPS or FTP URL to the host, with the host's curl (which must "
                   "be installed). dest is replaced (atomically) only when the content differs; `checksum` "
                   "is checked before anything is replaced.")
    path_args = ("dest",)
    schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "minLength": 1, "description": "What to download."},
            "dest": {"type": "string", "minLength": 1,
                     "description": "The file to write, or a folder: then the file is named by the response's "
                                    "Content-Disposition, else by the URL's last part (and always downloaded)."},
            "force": {"type": "boolean", "default": False,
                      "description": "Download even when dest exists. Without it, an existing dest is asked "
                                     "for only if modified since its time (304: left alone), and not at all "
                                     "when `checksum` matches it."},
            "checksum": {"type": "string", "default": "",
                         "description": "`<algorithm>:<hex digest>` (md5, sha1, sha224, sha256, sha384, sha512) "
                                        "the download must have, else the task fails and dest is untouched."},
            "headers": {"type": "object", "additionalProperties": {"type": ["string", "number"]},
                        "description": "HTTP headers to send."},
            "timeout": {"type": "integer", "minimum": 1, "default": 10,
                        "description": "Seconds the whole download may take."},
            "url_username": {"type": "string", "description": "User name for HTTP basic authentication."},
            "username": {"type": "string", "description": "Alias of url_username."},
            "url_password": {"type": "string", "description": "Password for HTTP basic authentication."},
            "password": {"type": "string", "description": "Alias of url_password."},
            "force_basic_auth": {"type": "boolean", "default": False,
                                 "description": "Send the credentials with the first request; by default they "
                                                "are sent only when the server asks (401)."},
            "validate_certs": {"type": "boolean", "default": True,
                               "description": "Check the server's TLS certificate."},
            "use_proxy": {"type": "boolean", "default": True,
                          "description": "Use the proxy the host's environment names (false: none)."},
            "mode": modes.mode_schema(),
            "owner": OWNER_SCHEMA,
            "group": GROUP_SCHEMA,
            "backup": {"type": "boolean", "default": False,
                       "description": "Keep the file replaced beside it (reported as backup_file)."},
        },
        "required": ["url", "dest"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> dict[str, Any]:
        algorithm = _checksum(args)[0] if _checksum(args) else ""
        lines = host.run(["/bin/sh", "-c", _INSPECT, "sh", args["dest"], algorithm]).stdout.split("\n")
        state: dict[str, Any] = {"kind": lines[0], "checksum": lines[1] if len(lines) > 1 else "",
                                 "stat": parse_stat(lines[2]) if len(lines) > 2 else None}
        if host.check_mode:
            state["head"] = _download(host, args, method="--head", since="")
            host.run(["rm", "-f", "--", state["head"].path])
        return state

    def decide(self, args: dict[str, Any], state: dict[str, Any], host: HostContext) -> Decision:
        result: dict[str, Any] = {"dest": args["dest"], "url": args["url"], "elapsed": 0, "checksum_dest": None,
                                  "checksum_src": None}
        checksum = _checksum(args)
        if args.get("checksum") and checksum is None:
            return Decision(False, {**result, "msg": "The checksum parameter has to be in format "
                                                     "<algorithm>:<checksum>"}, failed=True)
        if state["kind"] == "file" and not args.get("force") and checksum and checksum[1] == state["checksum"]:
            return Decision(False, {**result, "msg": "file already exists", **state["stat"].attributes()})
        head: Download | None = state.get("head")
        if head is not None:
            failure = _request_failure(head)
            if failure:
                return Decision(False, {**result, **failure}, failed=True)
            return Decision(True, {**result, "msg": _reason_message(head), "checksum_src": head.sha1,
                                   "src": head.path})
        return Decision(True, result, plan=(state["kind"], state["stat"]))

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        result, (kind, stat) = dict(decision.result), decision.plan
        download = _download(host, args, method="", since=args["dest"] if kind == "file" and not args.get("force")
                             else "")
        try:
            return _delivered(host, args, download, result, kind, stat)
        finally:
            host.run(["rm", "-f", "--", download.path])


def _delivered(host: HostContext, args: dict[str, Any], download: Download, result: dict[str, Any],
               kind: str, stat: FileStat | None) -> dict[str, Any]:
    """dest given the downloaded file (by ``copy``), or why not; ``stat``: dest's, as inspect found it."""
    failure = _request_failure(download)
    if failure:
        return {"url": args["url"], "dest": args["dest"], "elapsed": 0, **failure, "changed": False, "failed": True}
    if download.status == 304:
        return {"url": args["url"], "dest": args["dest"], "elapsed": 0, "changed": False, "status_code": 304,
                "msg": "HTTP Error 304: Not Modified", **(stat.attributes() if stat is not None else {})}
    checksum = _checksum(args)
    if checksum and checksum[1] != download.checksum:
        return {**result, "changed": False, "failed": True, "checksum_src": download.sha1, "src": download.path,
                "msg": f"The checksum for {download.path} did not match {checksum[1]}; it was {download.checksum}."}
    dest = args["dest"]
    if kind == "dir":
        dest = posixpath.join(dest, _file_name(download))
    copy = MODULES["copy"]
    copy_args = {"src": download.path, "remote_src": True, "dest": dest,
                 **{key: args[key] for key in ("mode", "owner", "group", "backup") if key in args}}
    state = copy.inspect(host, copy_args)
    decision = copy.decide(copy_args, state, host)
    if decision.failed:
        return {**result, **decision.result, "changed": False, "failed": True}
    copied = copy.act(host, copy_args, decision) if decision.changed else dict(decision.result)
    if copied.get("failed"):
        return {**result, **copied}
    for key in ("src", "diff", "checksum", "path"):
        copied.pop(key, None)
    checksum_dest = state.checksum if state.stat is not None else None
    return {**result, **copied, "dest": dest, "src": download.path, "checksum_src": download.sha1,
            "checksum_dest": checksum_dest, "md5sum": download.md5, "changed": decision.changed,
            "status_code": download.status, "msg": _reason_message(download)}


def _download(host: HostContext, args: dict[str, Any], *, method: str, since: str) -> Download:
    options = [*([] if args.get("validate_certs", True) else ["--insecure"]),
               *([] if args.get("use_proxy", True) else ["--noproxy", "*"])]
    if args.get("url_username", args.get("username")) is not None:  # as Ansible: credentials on a 401 only,
        options.append("--basic" if args.get("force_basic_auth") else "--anyauth")  # unless forced
    algorithm = _checksum(args)[0] if _checksum(args) else ""
    done = host.run(["/bin/sh", "-c", _DOWNLOAD, "sh", since, method, str(args.get("timeout", 10)), algorithm,
                     *options], stdin=_curl_config(args))
    lines = done.stdout.split("\n")
    if done.rc != 0 or len(lines) < 8:
        return Download("", done.rc or 1, 0, args["url"], "", "", 0, "", "", {}, done.stderr.strip())
    path, rc, status, url, sha1, md5, size, checksum, *header_lines = lines
    reason, headers = _headers(header_lines)
    return Download(path, int(rc), int(status or 0), url, sha1, md5, int(size or 0), checksum, reason, headers,
                    done.stderr.strip())


def _curl_config(args: dict[str, Any]) -> str:
    """curl's configuration (read with ``-K -``): the URL (which may hold credentials), the headers and
    credentials, quoted as curl reads them."""
    lines = [f"url = {_quoted(args['url'])}",
             *(f"header = {_quoted(f'{name}: {value}')}" for name, value in (args.get("headers") or {}).items())]
    user = args.get("url_username", args.get("username"))
    if user is not None:
        password = args.get("url_password", args.get("password", ""))
        lines.append(f"user = {_quoted(f'{user}:{password}')}")
    return "".join(line + "\n" for line in lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _headers(lines: list[str]) -> tuple[str, dict[str, str]]:
    """The last response's reason phrase and headers (names in lower case) from curl's header dump."""
    reason, headers = "", {}
    for line in lines:
        if line.startswith("HTTP/"):
            reason, headers = line.split(" ", 2)[2].strip() if line.count(" ") >= 2 else "", {}
        elif ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return reason, headers


def _request_failure(download: Download) -> dict[str, Any] | None:
    """Ansible's failure of a request that got no file: curl's error, or an HTTP status of 400 or more."""
    if download.curl_rc != 0:
        return {"msg": f"Request failed: {download.error or f'curl exit status {download.curl_rc}'}"}
    if download.status >= 400:
        return {"msg": "Request failed", "status_code": download.status,
                "response": f"HTTP Error {download.status}: {download.reason}"}
    return None


def _reason_message(download: Download) -> str:
    """Ansible's ``msg`` of a successful request: ``OK (<Content-Length> bytes)``."""
    return f"{download.reason} ({download.headers.get('content-length', 'unknown')} bytes)"


def _file_name(download: Download) -> str:
    """The name of a file downloaded into a folder: Content-Disposition's, else the URL's last part."""
    disposition = download.headers.get("content-disposition", "")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    if match:
        return posixpath.basename(match.group(1))
    return posixpath.basename(unquote(urlsplit(download.url).path)) or "index.html"


def _checksum(args: dict[str, Any]) -> tuple[str, str] | None:
    """(algorithm, lower-case hex digest) of ``checksum``; None when it is not one."""
    algorithm, _, digest = str(args.get("checksum") or "").partition(":")
    digest = re.sub(r"\W+", "", digest).lower()
    if algorithm not in _ALGORITHMS or not digest or not re.fullmatch(r"[0-9a-f]+", digest):
        return None
    return algorithm, digest

