"""Jump-host connections shared by the hosts behind them: one per jump host chain and pool."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from collections.abc import Callable, Hashable

import fabric


@dataclass
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    connection: fabric.Connection | None = None


class Gateways:
    """Open jump-host connections by key; every target behind the same chain opens its channel
    (``direct-tcpip``) through the one connection, so a fleet behind a bastion logs in there once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shared: dict[Hashable, _Shared] = {}

    def shared(self, key: Hashable, gateway: fabric.Connection,
               open_chain: Callable[[fabric.Connection], None]) -> fabric.Connection:
        """The open connection for ``key``: ``gateway``, opened with ``open_chain`` (which raises
        when it cannot), if there is none yet or the one there has dropped."""
        with self._lock:
            shared = self._shared.setdefault(key, _Shared())
        with shared.lock:
            if shared.connection is None or not shared.connection.is_connected:
                if shared.connection is not None:
                    close_chain(shared.connection)
                open_chain(gateway)
                shared.connection = gateway
            return shared.connection

    def close_all(self) -> None:
        """Close every jump-host connection; safe from any thread, and twice."""
        with self._lock:
            shared = list(self._shared.values())
            self._shared.clear()
        for entry in shared:
            with entry.lock:
                if entry.connection is not None:
                    close_chain(entry.connection)
                    entry.connection = None


def chain(connection: fabric.Connection) -> list[fabric.Connection]:
    """The connection, then its jump host, then that one's, ..."""
    hops = []
    hop: object = connection
    while isinstance(hop, fabric.Connection):
        hops.append(hop)
        hop = hop.gateway
    return hops


def close_chain(connection: fabric.Connection) -> None:
    """Close a connection and the jump hosts it goes through."""
    for hop in chain(connection):
        hop.close()
