"""``uri``: one HTTP request, from the controller or from the host.

The request runs on the controller (urllib) when the task's connection is
local (``delegate_to: localhost`` or ``ansible_connection: local``), and on
the host (curl over its connection) otherwise. Like ansible-core, uri does
not run at all in check mode.
"""

from __future__ import annotations

import http
import json
import urllib.parse
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.uri.controller import UrllibTransport
from titan_ops.modules.uri.host import CurlTransport
from titan_ops.modules.uri.http import Request, Response, Transport

NOT_IN_CHECK_MODE = "This action (uri) does not support check mode."
_CONTENT_TYPES = {"json": "application/json", "form-urlencoded": "application/x-www-form-urlencoded"}


class BodyError(ValueError):
    """The body cannot be encoded in the asked format."""


def transport_for(host: HostContext) -> Transport:
    """urllib on the controller for a local connection, else curl on the host."""
    if host.connection.address.connection == "local":
        return UrllibTransport()
    return CurlTransport(host)


def encode_body(body: Any, body_format: str) -> bytes | None:
    """The bytes sent for ``body`` in ``body_format`` (None: no body)."""
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    if body_format == "json":
        return json.dumps(body).encode("utf-8")
    if body_format == "form-urlencoded" and isinstance(body, (dict, list)):
        pairs = body.items() if isinstance(body, dict) else body
        return urllib.parse.urlencode(list(pairs), doseq=True).encode("ascii")
    raise BodyError(f"a {type(body).__name__} body needs body_format json or form-urlencoded; "
                    f"with body_format {body_format} the body must be a string")


def without_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without its ``user:password@`` part, and that user and password."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), \
        _unquote(parts.username), _unquote(parts.password)


def _unquote(value: str | None) -> str | None:
    return None if value is None else urllib.parse.unquote(value)


def build_request(args: dict[str, Any]) -> Request:
    """The request ``args`` describe; raises BodyError for a body that does not fit its format."""
    url, url_user, url_password = without_credentials(args["url"])
    body_format = args.get("body_format", "raw")
    headers = {str(name): str(value) for name, value in (args.get("headers") or {}).items()}
    body = encode_body(args.get("body"), body_format)
    if body is not None and body_format in _CONTENT_TYPES and \
            not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = _CONTENT_TYPES[body_format]
    follow = args.get("follow_redirects", "safe")
    if isinstance(follow, bool):
        follow = "all" if follow else "none"
    username = args.get("url_username", url_user)
    return Request(
        url=url,
        method=args.get("method", "GET").upper(),
        headers=headers,
        body=body,
        username=None if username is None else str(username),
        password=args.get("url_password", url_password),
        force_basic_auth=bool(args.get("force_basic_auth", False)),
        timeout=float(args.get("timeout", 30)),
        validate_certs=bool(args.get("validate_certs", True)),
        follow_redirects=follow,
    )


def build_result(args: dict[str, Any], request: Request, response: Response) -> dict[str, Any]:
    """Ansible's uri result: response headers as lower-cased keys, status, url, msg, json, content."""
    result: dict[str, Any] = {}
    for name, value in response.headers:
        key = name.lower().replace("-", "_")
        result[key] = f"{result[key]}, {value}" if key in result else value
    final_url = without_credentials(response.url)[0]
    if "location" in result:
        result["location"] = urllib.parse.urljoin(final_url, result["location"])
    result.update({"changed": False, "status": response.status, "url": final_url,
                   "elapsed": int(response.elapsed), "redirected": final_url != request.url})
    content_type = result.get("content_type", "")
    if response.body and ("/json" in content_type or "+json" in content_type):
        try:
            result["json"] = json.loads(response.body)
        except ValueError:
            pass
    if args.get("return_content", False):
        result["content"] = response.body.decode("utf-8", errors="replace")
    expected = args.get("status_code", [200])
    expected = expected if isinstance(expected, list) else [expected]
    if response.error is not None:
        summary = response.error
    elif 200 <= response.status < 300:
        summary = f"OK ({result.get('content_length', 'unknown')} bytes)"
    else:
        summary = f"HTTP Error {response.status}: {_phrase(response.status)}"
    if response.status in expected:
        result["msg"] = summary
    else:
        result.update({"failed": True, "msg": f"Status code was {response.status} and not {expected}: {summary}"})
    return result


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class Uri(Module):
    """Send an HTTP request and check the status of the answer."""

    name = "uri"
    description = ("Send an HTTP(S) request and check the answer's status: from the controller when the task "
                   "is delegated to localhost (or the connection is local), else with curl on the host.")
    supports_check_mode = False
    check_mode_message = NOT_IN_CHECK_MODE
    schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string", "minLength": 1,
                    "description": "The URL (http or https); a `user:password@` in it is used as credentials."},
            "method": {"type": "string", "pattern": "^[A-Za-z]+$", "default": "GET",
                       "description": "The HTTP method (GET, POST, PUT, DELETE, HEAD, PATCH, ...)."},
            "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
                        "description": "Request headers, name to value."},
            "body": {"description": "The request body: a string, or a mapping or list encoded by `body_format`."},
            "body_format": {"enum": ["raw", "json", "form-urlencoded"], "default": "raw",
                            "description": "How a non-string body is encoded; json and form-urlencoded also set "
                                           "the Content-Type header unless `headers` has one."},
            "url_username": {"type": "string", "description": "The user name for HTTP Basic authentication."},
            "url_password": {"type": "string",
                             "description": "The password for HTTP Basic authentication (never shown, never put "
                                            "on a command line)."},
            "force_basic_auth": {"type": "boolean", "default": False,
                                 "description": "Send the credentials with the first request instead of waiting "
                                                "for a 401 challenge."},
            "status_code": {"type": ["integer", "array"], "items": {"type": "integer"}, "default": [200],
                            "description": "The status code, or the list of codes, that mean success."},
            "return_content": {"type": "boolean", "default": False,
                               "description": "Return the body as `content` (a JSON body is always returned as "
                                              "`json`)."},
            "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 30,
                        "description": "Seconds the whole request may take."},
            "validate_certs": {"type": "boolean", "default": True,
                               "description": "Verify the server's TLS certificate."},
            "follow_redirects": {"enum": ["safe", "all", "none", True, False], "default": "safe",
                                 "description": "Follow redirects: safe (for GET and HEAD only), all (true), "
                                                "none (false)."},
        },
        "required": ["url"],
        "additionalProperties": False,
    }

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        try:
            request = build_request(args)
        except BodyError as error:
            return Decision(False, {"msg": str(error)}, failed=True)
        return Decision(True, plan=request)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        request: Request = decision.plan
        return build_result(args, request, transport_for(host).send(request))
