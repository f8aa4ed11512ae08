"""The tests' servers on loopback (socketserver's, such as http.server's), served in a thread of the test
process and stopped at once when the test is done."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

POLL_SECONDS = 0.02
"""How often the serving thread looks whether it is asked to stop: ``shutdown()`` waits for that look, and
socketserver's default (half a second) was most of a short test's time."""

Server = TypeVar("Server", bound=socketserver.BaseServer)


@contextmanager
def served(server: Server) -> Iterator[Server]:
    """``server`` answering in a daemon thread while the block runs; then shut down and its socket closed."""
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), name="test-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
