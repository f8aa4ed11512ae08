"""What every stand-in shares: its .env, its JSON state file, and an HTTP server with basic auth."""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
REQUIRED_ENV = ("TITAN_API_USER", "TITAN_API_PASSWORD")


class ConfigError(Exception):
    """The service's configuration is missing or broken: it must not start."""


def read_env(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (optionally quoted values, ``#`` comments); ConfigError for anything else."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if match is None:
            raise ConfigError(f"{path}:{number}: not a KEY=VALUE line")
        value = match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match.group(1)] = value
    missing = [key for key in REQUIRED_ENV if not values.get(key)]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    return values


class State:
    """A JSON document on disk, read at start and written (atomically) after every change."""

    def __init__(self, path: Path, initial: Callable[[], dict[str, Any]]):
        self.path = path
        self.initial = initial
        self.lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = initial()
            self.save()

    def reset(self) -> None:
        """Back to the initial state (the stand-ins' ``/_standin/reset``)."""
        with self.lock:
            self.data = self.initial()
            self.save()

    def save(self) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
        temporary.replace(self.path)


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def tcp_reachable(url: str | None, timeout: float = 0.5) -> bool:
    """Whether the host:port of ``url`` (``scheme://user:pass@host:port/...``) accepts a connection."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False


class Request:
    """One parsed request, as a route sees it."""

    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes):
        split = urlsplit(handler.path)
        self.method = handler.command
        self.path = split.path.rstrip("/") or "/"
        self.query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        self.headers = handler.headers
        self.body = body

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; ValueError when it is not one."""
        if not self.body:
            return {}
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


Response = tuple[int, Any] | tuple[int, Any, dict[str, str]]
"""(status, JSON payload) or (status, JSON payload, extra headers)."""
Route = Callable[[Request], Response]


class Service:
    """A stand-in: a name, routes, and which of them need basic auth."""

    def __init__(self, name: str, env: dict[str, str], public: tuple[str, ...] = ("/health",)):
        self.name = name
        self.env = env
        self.public = public
        self.routes: dict[tuple[str, str], Route] = {}

    def route(self, method: str, path: str) -> Callable[[Route], Route]:
        def register(function: Route) -> Route:
            self.routes[(method, path)] = function
            return function
        return register

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.env["TITAN_API_USER"]) and \
            hmac.compare_digest(password, self.env["TITAN_API_PASSWORD"])

    def handle(self, request: Request) -> Response:
        route = self.routes.get((request.method, request.path))
        if route is None:
            known = any(path == request.path for _, path in self.routes)
            return (405, {"error": "method not allowed"}) if known else (404, {"error": "not found"})
        if request.path not in self.public and not self.authorized(request):
            return 401, {"error": "authentication required"}
        try:
            return route(request)
        except ValueError as error:
            return 400, {"error": str(error)}

    def serve(self, port: int) -> None:
        """Serve on 127.0.0.1:``port`` until SIGTERM or SIGINT."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            server_version = f"{service.name}-standin"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, payload, *extra = service.handle(Request(self, self.rfile.read(length)))
                body = (json.dumps(payload) + "\n").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", f'Basic realm="{service.name}"')
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                print(f"{now_iso()} {self.address_string()} {format % args}", flush=True)

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True

        def stop(signum: int, _frame: Any) -> None:
            print(f"{now_iso()} {self.name}: signal {signum}, stopping", flush=True)
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        print(f"{now_iso()} {self.name} (stand-in) listening on 127.0.0.1:{port}", flush=True)
        server.serve_forever()
        server.server_close()


def load_env_or_exit(name: str) -> dict[str, str]:
    """The service's .env (``TITAN_ENV_FILE``, else ``./.env``), or exit 1 naming the problem."""
    path = Path(os.environ.get("TITAN_ENV_FILE", ".env"))
    try:
        return read_env(path)
    except ConfigError as error:
        print(f"{now_iso()} {name}: configuration error: {error}", file=sys.stderr, flush=True)
        sys.exit(1)


def state_path(name: str) -> Path:
    """Where the service keeps its state: ``$TITAN_STATE_DIR/NAME.json``."""
    return Path(os.environ.get("TITAN_STATE_DIR", "/var/lib/titan/standins")) / f"{name}.json"
