"""The controller transport: urllib from the titan-ops process itself."""

from __future__ import annotations

import base64
import http.client
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

from titan_ops.modules.uri.http import Request, Response


class _RedirectPolicy(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only when the request's ``follow_redirects`` allows it."""

    def __init__(self, request: Request):
        self._follow = request.follows_redirects

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if not self._follow:
            return None  # urllib then raises HTTPError: the 3xx becomes the response
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def basic_credentials(username: str, password: str | None) -> str:
    """The value of a Basic Authorization header."""
    return "Basic " + base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")


class UrllibTransport:
    """Sends requests with urllib; a challenge (401) is answered when credentials are given."""

    def send(self, request: Request) -> Response:
        """Send ``request`` from the controller."""
        headers = dict(request.headers)
        handlers: list[urllib.request.BaseHandler] = [_RedirectPolicy(request)]
        if request.username is not None:
            if request.force_basic_auth:
                headers["Authorization"] = basic_credentials(request.username, request.password)
            else:
                passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
                passwords.add_password(None, request.url, request.username, request.password or "")
                handlers.append(urllib.request.HTTPBasicAuthHandler(passwords))
        if not request.validate_certs:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            handlers.append(urllib.request.HTTPSHandler(context=context))
        opener = urllib.request.build_opener(*handlers)
        outgoing = urllib.request.Request(request.url, data=request.body, headers=headers, method=request.method)
        start = time.monotonic()
        try:
            with opener.open(outgoing, timeout=request.timeout) as answer:
                body = answer.read()
                return Response(answer.status, answer.url, list(answer.headers.items()), body,
                                time.monotonic() - start)
        except urllib.error.HTTPError as error:
            body = error.read() if error.fp is not None else b""
            return Response(error.code, error.url or request.url, list((error.headers or {}).items()), body,
                            time.monotonic() - start)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            return Response(-1, request.url, elapsed=time.monotonic() - start, error=f"Request failed: {error}")
