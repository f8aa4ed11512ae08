"""Real local receivers for the incident tests: an HTTP server that records what it is sent (a Slack-style
incoming webhook and a status page) and an SMTP server (aiosmtpd), both on loopback, each noting when
(by a clock the test gives) a message arrived; and a clock the test moves."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.serving import served

EXAMPLE_POLICY = Path(__file__).resolve().parent.parent / "inventory" / "incident-policy.yml"


Clock = Callable[[], datetime]


def system_time() -> datetime:
    return datetime.now(UTC)


class SteppedClock:
    """Real time that the test moves on: ``jump_to(moment)`` stops the clock there (what is due then is
    done exactly then), ``resume()`` lets it run on from that moment at the real pace. Injected into the
    watcher, the incident and the runs' recorder, it plays hours of an incident in minutes, its timeline
    in order."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._stopped: datetime | None = None

    def __call__(self) -> datetime:
        return self._stopped if self._stopped is not None else datetime.now(UTC) + self._offset

    def jump_to(self, moment: datetime) -> datetime:
        assert moment >= self(), f"the clock does not go back ({moment} < {self()})"
        self._stopped = moment
        return moment

    def resume(self) -> None:
        if self._stopped is not None:
            self._offset, self._stopped = self._stopped - datetime.now(UTC), None


@dataclass
class HttpReceiver:
    """Records each POST (path, headers, JSON body, ``at``: when it came, by the receiver's clock); answers
    500 on paths that contain ``refuse``; ``on_post(post)``, when given, runs before the answer."""

    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def http_receiver(clock: Clock = system_time,
                  on_post: Callable[[dict[str, Any]], None] | None = None) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            post = {"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"{}"), "at": clock()}
            receiver.posts.append(post)
            if on_post is not None:
                on_post(post)
            try:
                self.send_response(500 if "refuse" in self.path else 200)
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender is gone (on_post killed it)

        def log_message(self, *args: Any) -> None:
            pass

    with served(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        receiver.port = server.server_address[1]
        yield receiver


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmtpReceiver:
    """The mails received (sender, recipients, message) and when each came (``arrivals``, same order)."""

    port: int
    mails: list[tuple[str, list[str], Message]] = field(default_factory=list)
    arrivals: list[datetime] = field(default_factory=list)


@contextmanager
def smtp_receiver(clock: Clock = system_time) -> Iterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller

    receiver = SmtpReceiver(free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
            receiver.arrivals.append(clock())
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
