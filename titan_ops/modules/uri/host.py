"""The host transport: curl on the target host, over the host's connection.

Every option, the URL and the credentials included, goes to curl as a config
file on its standard input (``curl -q --config -``), so nothing of the
request shows in the host's process list. curl writes the body to stdout
and, after a marker on stderr, its ``%{json}`` and ``%{header_json}``
write-out (curl 7.83 or later).
"""

from __future__ import annotations

import json
from typing import Any

from titan_ops.modules.base import HostContext
from titan_ops.modules.uri.http import Request, Response

MARKER = "@@titan-ops-uri@@"
COMMAND = ["curl", "-q", "--config", "-"]
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"})


def _option(name: str, value: Any = None) -> str:
    """One line of a curl config file, the value quoted with curl's escapes."""
    if value is None:
        return name
    return f'{name} = "{str(value).translate(_ESCAPES)}"'


def curl_config(request: Request) -> str:
    """The config file (curl's long options, one a line) that sends ``request``."""
    lines = [_option("url", request.url), "silent", "show-error",
             _option("max-time", request.timeout),
             _option("write-out", f"%{{stderr}}{MARKER}%{{json}}{MARKER}%{{header_json}}")]
    if request.method == "HEAD":
        lines += ["head", _option("output", "/dev/null")]
    elif not (request.method == "GET" and request.body is None) and \
            not (request.method == "POST" and request.body is not None):
        lines.append(_option("request", request.method))
    lines += [_option("header", f"{name}: {value}") for name, value in request.headers.items()]
    if request.body is not None:
        lines.append(_option("data-raw", request.body.decode("utf-8")))
    if request.username is not None:
        lines += [_option("user", f"{request.username}:{request.password or ''}"),
                  "basic" if request.force_basic_auth else "anyauth"]
    if not request.validate_certs:
        lines.append("insecure")
    if request.follows_redirects:
        lines += ["location", _option("max-redirs", 50)]
    return "\n".join(lines) + "\n"


class CurlTransport:
    """Sends requests with curl on the host behind ``host`` (its become and environment apply)."""

    def __init__(self, host: HostContext):
        self.host = host

    def send(self, request: Request) -> Response:
        """Run curl on the host and read its answer."""
        done = self.host.run(COMMAND, stdin=curl_config(request))
        errors, _, trailer = done.stderr.partition(MARKER)
        if not trailer:
            detail = errors.strip() or f"exit status {done.rc}"
            if done.rc == 127:
                detail = f"curl is not installed on {self.host.host}: {detail}"
            return Response(-1, request.url, error=f"Request failed: {detail}")
        summary_text, _, headers_text = trailer.partition(MARKER)
        try:
            summary = json.loads(summary_text)
            header_lists = json.loads(headers_text) if headers_text.strip() else {}
        except ValueError:
            return Response(-1, request.url, error=f"Request failed: curl too old or unreadable write-out: "
                                                   f"{trailer.strip()[:200]}")
        elapsed = float(summary.get("time_total") or 0.0)
        if done.rc != 0:
            detail = errors.strip() or summary.get("errormsg") or f"curl exit status {done.rc}"
            return Response(-1, request.url, elapsed=elapsed, error=f"Request failed: {detail}")
        headers = [(name, value) for name, values in header_lists.items() for value in values]
        return Response(int(summary.get("response_code") or summary.get("http_code") or -1),
                        summary.get("url_effective") or request.url, headers, done.stdout.encode("utf-8"), elapsed)
