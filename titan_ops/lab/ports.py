"""Free loopback ports for the lab's daemons."""

from __future__ import annotations

import socket


def port_free(port: int) -> bool:
    """Whether a listener could bind 127.0.0.1:``port`` (TIME_WAIT addresses are reusable, as for sshd)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
