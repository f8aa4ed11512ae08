"""What every stand-in shares: its .env, its JSON state file, and an HTTP server with basic auth."""

from __future__ import annotations

import base64
import hashlib
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
from typing import Any, TextIO
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
REQUIRED_ENV = ("TITAN_API_USER", "TITAN_API_PASSWORD")


def log_line(text: str, stream: TextIO | None = None) -> None:
    """Write one log line in a single write. pm2 prefixes each chunk it reads with the time and drops
    a chunk's text after its last newline, so a line written as text then newline (``print`` on an
    unbuffered stream) can vanish from the log when pm2 reads the newline together with the next line."""
    target = stream or sys.stdout
    target.write(f"{text}\n")
    target.flush()


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


def redis_answers(url: str | None, timeout: float = 0.5) -> bool:
    """Whether the Redis of ``url`` (``redis://[:password@]host:port/db``) answers PING, after AUTH if a
    password is given (a wrong password is not an answer)."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        return False
    commands = b""
    if parts.password:
        secret = parts.password.encode()
        commands += b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret)
    commands += b"*1\r\n$4\r\nPING\r\n"
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as connection:
            connection.sendall(commands)
            answer = b""
            while answer.count(b"\r\n") < (2 if parts.password else 1):
                chunk = connection.recv(256)
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return False
    lines = answer.split(b"\r\n")[:-1]
    return bool(lines) and lines[-1] == b"+PONG" and all(line.startswith(b"+") for line in lines)


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


Gauge = Callable[[], float]
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Service:
    """A stand-in: a name, routes, which of them need basic auth, and what every stand-in shares.

    Every stand-in serves ``GET /metrics`` (Prometheus text format: requests by
    status, error lines logged, resident memory, and the service's own
    ``gauges``), and the fault switches tests and drills use:
    ``POST /_standin/log-errors`` ``{"count", "message"}`` (error lines on
    stderr, as a failing service writes them), ``/_standin/leak``
    ``{"mb"}`` (memory held until the process ends), ``/_standin/crash``
    ``{"times"}`` (exit now, and at the next ``times - 1`` starts: a restart loop)
    and, with a ``websocket`` path, ``/_standin/websocket`` ``{"up": false}``.
    """

    def __init__(self, name: str, env: dict[str, str], public: tuple[str, ...] = ("/health",),
                 websocket: str | None = None):
        self.name = name
        self.env = env
        self.public = (*public, "/metrics")
        self.websocket = websocket
        self.websocket_up = True
        self.routes: dict[tuple[str, str], Route] = {}
        self.gauges: dict[str, tuple[str, Gauge]] = {}
        self.requests: dict[int, int] = {}
        self.errors_logged = 0
        self.leaked: list[bytearray] = []
        self._add_shared_routes()

    def route(self, method: str, path: str) -> Callable[[Route], Route]:
        def register(function: Route) -> Route:
            self.routes[(method, path)] = function
            return function
        return register

    def gauge(self, name: str, help_text: str, read: Gauge) -> None:
        """Export ``read()`` as the gauge ``name`` on ``/metrics``."""
        self.gauges[name] = (help_text, read)

    def reset_faults(self) -> None:
        """Free the leaked memory and switch the WebSocket back on (part of each ``/_standin/reset``)."""
        self.leaked.clear()
        self.websocket_up = True

    def log_error(self, message: str) -> None:
        """One error line on stderr (pm2 files it in the app's .err.log, with its time)."""
        self.errors_logged += 1
        log_line(f"ERROR {self.name}: {message}", sys.stderr)

    def metrics(self) -> str:
        """The Prometheus text exposition of this stand-in."""
        service = self.name
        lines = ["# HELP titan_http_requests_total Requests answered, by status code.",
                 "# TYPE titan_http_requests_total counter"]
        lines += [f'titan_http_requests_total{{service="{service}",code="{code}"}} {count}'
                  for code, count in sorted(self.requests.items())]
        lines += ["# HELP titan_errors_total Error lines the service logged.", "# TYPE titan_errors_total counter",
                  f'titan_errors_total{{service="{service}"}} {self.errors_logged}',
                  "# HELP process_resident_memory_bytes Resident memory size in bytes.",
                  "# TYPE process_resident_memory_bytes gauge",
                  f"process_resident_memory_bytes {resident_memory_bytes()}"]
        for name, (help_text, read) in sorted(self.gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f'{name}{{service="{service}"}} {read():g}']
        return "\n".join(lines) + "\n"

    def _add_shared_routes(self) -> None:
        @self.route("POST", "/_standin/log-errors")
        def log_errors(request: Request) -> Response:
            body = request.json()
            count = int(body.get("count", 1))
            if not 1 <= count <= 10000:
                raise ValueError("count must be from 1 to 10000")
            for number in range(count):
                self.log_error(f"{body.get('message', 'request failed')} ({number + 1}/{count})")
            return 200, {"logged": count}

        @self.route("POST", "/_standin/leak")
        def leak(request: Request) -> Response:
            megabytes = int(request.json().get("mb", 64))
            if not 1 <= megabytes <= 2048:
                raise ValueError("mb must be from 1 to 2048")
            self.leaked.append(bytearray(b"\x01" * (megabytes << 20)))
            return 200, {"held_mb": sum(len(block) for block in self.leaked) >> 20}

        @self.route("POST", "/_standin/crash")
        def crash(request: Request) -> Response:
            times = int(request.json().get("times", 1))
            if not 1 <= times <= 20:
                raise ValueError("times must be from 1 to 20")
            crash_path(self.name).write_text(str(times - 1))
            threading.Timer(0.2, lambda: os._exit(1)).start()
            return 200, {"crashing": times}

        @self.route("POST", "/_standin/websocket")
        def websocket(request: Request) -> Response:
            if self.websocket is None:
                return 404, {"error": "no websocket here"}
            self.websocket_up = bool(request.json().get("up", True))
            return 200, {"up": self.websocket_up}

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
        if request.method == "GET" and request.path == "/metrics":
            return 200, self.metrics(), {"Content-Type": "text/plain; version=0.0.4"}
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
                if service.websocket and self.path == service.websocket and \
                        self.headers.get("Upgrade", "").lower() == "websocket":
                    self._websocket()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                status, payload, *extra = service.handle(Request(self, self.rfile.read(length)))
                service.requests[status] = service.requests.get(status, 0) + 1
                headers = {"Content-Type": "application/json", **(extra[0] if extra else {})}
                body = (payload if isinstance(payload, str) else json.dumps(payload) + "\n").encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", f'Basic realm="{service.name}"')
                self.end_headers()
                self.wfile.write(body)

            def _websocket(self) -> None:
                """RFC 6455's handshake, one text frame (a snapshot), a close frame; 503 while switched off."""
                key = self.headers.get("Sec-WebSocket-Key", "")
                if not service.websocket_up or not key:
                    service.requests[503] = service.requests.get(503, 0) + 1
                    self.send_error(503 if key else 400)
                    return
                service.requests[101] = service.requests.get(101, 0) + 1
                accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
                self.send_response(101)
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept)
                self.end_headers()
                snapshot = json.dumps({"type": "snapshot", "service": service.name, "at": now_iso()}).encode()
                self.wfile.write(bytes([0x81, len(snapshot)]) + snapshot + bytes([0x88, 0x02, 0x03, 0xE8]))
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                log_line(f"{now_iso()} {self.address_string()} {format % args}")

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True

        def stop(signum: int, _frame: Any) -> None:
            log_line(f"{now_iso()} {self.name}: signal {signum}, stopping")
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log_line(f"{now_iso()} {self.name} (stand-in) listening on 127.0.0.1:{port}")
        server.serve_forever()
        server.server_close()


def resident_memory_bytes() -> int:
    """This process's resident set size (``/proc/self/statm``)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def crash_path(name: str) -> Path:
    """Where a crash loop counts the starts it still has to fail."""
    return state_path(name).with_suffix(".crash")


def crash_if_looping(name: str) -> None:
    """Exit 1 at start while a crash loop (``/_standin/crash`` with ``times`` > 1) has starts left."""
    path = crash_path(name)
    try:
        left = int(path.read_text())
    except (OSError, ValueError):
        return
    if left <= 0:
        path.unlink(missing_ok=True)
        return
    path.write_text(str(left - 1))
    log_line(f"{now_iso()} {name}: crash loop (stand-in fault), {left - 1} more", sys.stderr)
    sys.exit(1)


def load_env_or_exit(name: str) -> dict[str, str]:
    """The service's .env (``TITAN_ENV_FILE``, else ``./.env``), or exit 1 naming the problem."""
    path = Path(os.environ.get("TITAN_ENV_FILE", ".env"))
    try:
        return read_env(path)
    except ConfigError as error:
        log_line(f"{now_iso()} {name}: configuration error: {error}", sys.stderr)
        sys.exit(1)


def state_path(name: str) -> Path:
    """Where the service keeps its state: ``$TITAN_STATE_DIR/NAME.json``."""
    return Path(os.environ.get("TITAN_STATE_DIR", "/var/lib/titan/standins")) / f"{name}.json"
