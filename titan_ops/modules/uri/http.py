"""What the uri module asks of a transport, and what a transport gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Request:
    """One HTTP request, fully built: the body is already encoded."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    force_basic_auth: bool = False
    """Send the credentials with the first request instead of after a 401 challenge."""
    timeout: float = 30.0
    validate_certs: bool = True
    follow_redirects: str = "safe"
    """``none``, ``safe`` (GET and HEAD only) or ``all``."""

    @property
    def follows_redirects(self) -> bool:
        """Whether a redirect answer to this request is followed."""
        return self.follow_redirects == "all" or (self.follow_redirects == "safe"
                                                   and self.method in ("GET", "HEAD"))


@dataclass
class Response:
    """The final answer (after redirects), or ``status == -1`` and ``error`` when there was none."""

    status: int
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None


class Transport(Protocol):
    """Sends a request from somewhere (the controller, a host) and returns the response."""

    def send(self, request: Request) -> Response:
        """Send ``request``; a failed exchange is a Response with status -1, never an exception."""
        ...
