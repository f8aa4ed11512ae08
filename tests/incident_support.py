"""Real local receivers for the incident tests: an HTTP server that records what it is sent (a Slack-style
incoming webhook and a status page) and an SMTP server (aiosmtpd), both on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "inventory" / "incident-policy.yml"


@dataclass
class HttpReceiver:
    """Records each POST (path, headers, JSON body); answers 500 on paths that contain ``refuse``."""

    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.posts.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"{}")})
            self.send_response(500 if "refuse" in self.path else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpReceiver:
    port: int
    mails: list[tuple[str, list[str], Message]] = field(default_factory=list)


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller

    receiver = SmtpReceiver(free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
            receiver.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


def text_of(mail: Message) -> str:
    """The plain-text body of a mail."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def local_policy(folder: Path, http: HttpReceiver, smtp: SmtpReceiver, **changes: Any) -> Path:
    """The example policy with its channels on the local receivers (written to ``folder``)."""
    policy = yaml.safe_load(EXAMPLE_POLICY.read_text())
    policy["channels"] = {
        "slack-incidents": {"type": "slack", "audiences": ["internal", "escalation"], "url_env": "TEST_SLACK_WEBHOOK"},
        "status-page": {"type": "statuspage", "audiences": ["external"], "url": http.url("/api/incidents"),
                        "token_env": "TEST_STATUSPAGE_TOKEN"},
        "email-stakeholders": {"type": "email", "audiences": ["external", "ticket"], "smtp": f"127.0.0.1:{smtp.port}",
                               "secure": "none", "from": "incidents@titan.example",
                               "to": ["stakeholders@titan.example"]},
    }
    policy.update(changes)
    path = folder / "policy.yml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path
