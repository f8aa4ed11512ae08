"""Connections to hosts: SSH through fabric/paramiko, or local through subprocess."""

from titan_ops.connection.address import address_from_vars
from titan_ops.connection.base import (
    Command, CommandResult, Connection, ConnectionOptions, HostAddress, TransferError, shell_line,
)
from titan_ops.connection.local import LocalConnection
from titan_ops.connection.pool import ConnectionPool, open_connection
from titan_ops.connection.ssh import SSHConnection

__all__ = [
    "Command", "CommandResult", "Connection", "ConnectionOptions", "ConnectionPool", "HostAddress",
    "LocalConnection", "SSHConnection", "TransferError", "address_from_vars", "open_connection", "shell_line",
]
