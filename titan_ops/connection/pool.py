"""Choosing a connection for an address, and keeping one per host for a run."""

from __future__ import annotations

import threading

from titan_ops.connection.base import Connection, ConnectionOptions, HostAddress
from titan_ops.connection.gateways import Gateways
from titan_ops.connection.hostkeys import KnownHosts
from titan_ops.connection.identity import local_identity
from titan_ops.connection.local import LocalConnection
from titan_ops.connection.ssh import SSHConnection


def open_connection(
    address: HostAddress, options: ConnectionOptions | None = None, known_hosts: KnownHosts | None = None,
    gateways: Gateways | None = None,
) -> Connection:
    """A connection to ``address`` (SSH, or local for ``connection == "local"``); it connects on first use.
    SSH connections given the same ``gateways`` share their jump-host connections."""
    options = options or ConnectionOptions()
    if address.connection == "local":
        return LocalConnection(address, options)
    return SSHConnection(address, options, known_hosts, gateways)


class ConnectionPool:
    """One connection per host name, created on first ``get``; ``close_all`` is safe from any thread.
    The controller's user name and home are looked up when the pool is made, before any host is connected."""

    def __init__(self, options: ConnectionOptions | None = None):
        local_identity()
        self.options = options or ConnectionOptions()
        self._known_hosts = KnownHosts()
        self._gateways = Gateways()
        self._connections: dict[str, Connection] = {}
        self._lock = threading.Lock()

    def get(self, address: HostAddress) -> Connection:
        """The connection of ``address.name``, created (not yet opened) on first call."""
        with self._lock:
            connection = self._connections.get(address.name)
            if connection is None:
                connection = self._connections[address.name] = open_connection(
                    address, self.options, self._known_hosts, self._gateways
                )
            return connection

    def interrupt_all(self) -> None:
        """End every command every connection is running, all hosts at once (an interrupted run)."""
        with self._lock:
            connections = list(self._connections.values())
        enders = [threading.Thread(target=connection.interrupt, name="titan-ops-interrupt", daemon=True)
                  for connection in connections]
        for ender in enders:
            ender.start()
        for ender in enders:
            ender.join()

    def close_all(self) -> None:
        """Close every connection; the pool can be used again afterwards."""
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
        for connection in connections:
            connection.close()
        self._gateways.close_all()
