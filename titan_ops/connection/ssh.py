"""SSH connections through fabric/paramiko: one persistent connection per host, and a channel per command
or, with ``ansible_titan_session``, one shell session per host that commands are framed through (the
channel per command stays its fallback)."""

from __future__ import annotations

import logging
import re
import shlex
import socket
import threading
import time
from datetime import datetime
from typing import Any, BinaryIO
from collections.abc import Mapping

import fabric
import paramiko

from titan_ops.connection import base, channel
from titan_ops.connection.base import (
    Command, CommandInterrupted, CommandResult, ConnectionOptions, HostAddress, HostOutput, InputOnRequest,
    TransferError, environment_on_input, shell_line,
)
from titan_ops.connection.gateways import Gateways, chain
from titan_ops.connection.payload import Payload
from titan_ops.connection.session import SessionLost, ShellSession
from titan_ops.connection.identity import local_identity, user_unknown_to_libraries
from titan_ops.connection.limits import no_descriptor_left, out_of_files, out_of_files_message
from titan_ops.connection.hostkeys import (
    KnownHosts, UnknownHostKey, changed_key_message, host_key_name, known_hosts_files,
)
from titan_ops.connection.transfer import put_line
from titan_ops.errors import CommandTimeout, HostUnreachable

QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
GREETING_KEPT = 512
"""Bytes of what a host sends first kept to describe a host that does not speak SSH."""
AEAD_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
HANDSHAKES_AT_ONCE = 32
"""SSH handshakes under way at once in one process. A handshake is mostly the controller's CPU (key
exchange, host key check, signing the login) under one GIL: a thousand begun together all finish
late, past the connect timeout, where a few dozen at a time each finish in milliseconds. The wait
for a turn is not counted in the host's timeout."""
_handshakes = threading.BoundedSemaphore(HANDSHAKES_AT_ONCE)
IDLE_WAKE_SECONDS = 2.0
"""How often the thread of an idle connection wakes up to look around (paramiko's default is 0.1 s:
a thousand idle connections woke the controller ten thousand times a second, most of its CPU at 1,000
hosts). Closing does not wait for it: the socket is shut down first."""

logging.getLogger("paramiko").addHandler(logging.NullHandler())  # its transport threads log tracebacks of
# failed connections; the host's result says what happened, in one line


class SSHConnection:
    """A lazily opened, thread-safe SSH connection to one host.

    ssh_config (``~/.ssh/config`` or ``options.ssh_config_file``), agent keys, the
    key file, user, port and a jump host (``address.jump_host`` or ProxyJump) are
    honoured. Host keys are checked against known_hosts unless
    ``options.host_key_checking`` is False.
    """

    def __init__(self, address: HostAddress, options: ConnectionOptions, known_hosts: KnownHosts | None = None,
                 gateways: Gateways | None = None):
        self.address = address
        self._options = options
        self._known_hosts = known_hosts or KnownHosts()
        self._gateways = gateways or Gateways()
        self._owns_gateways = gateways is None
        self._lock = threading.Lock()
        self._fabric: fabric.Connection | None = None
        self._running = 0
        self._interrupted = False
        self._session: ShellSession | None = None
        self._session_busy = False
        self._session_wanted = base.SESSION_DEFAULT if address.session is None else address.session

    # -- the link -----------------------------------------------------------
    @property
    def transport(self) -> paramiko.Transport:
        """The open paramiko transport, connecting first if needed (HostUnreachable on failure)."""
        with self._lock:
            if self._fabric is None or not self._fabric.is_connected:
                self._close_locked()
                try:
                    self._fabric = self._connect()
                except OSError as error:  # reading ssh_config, keys or known_hosts
                    reason = out_of_files_message() if out_of_files(error) else f"{error.strerror}: {error.filename}"
                    raise self._unreachable(reason) from None
                except KeyError:  # paramiko looked the controller's user up in the password database, in vain
                    if not user_unknown_to_libraries():
                        raise
                    # (a user the database gave before any host was connected is there: it could not be read)
                    unreadable = local_identity().user is not None or no_descriptor_left()
                    raise self._unreachable(out_of_files_message() if unreadable
                                            else "the controller's user is in neither USER nor the password database")\
                        from None
            return self._fabric.transport

    def _unreachable(self, reason: str) -> HostUnreachable:
        user = f"{self.address.user}@" if self.address.user else ""
        return HostUnreachable(f"{self.address.name} ({user}{self.address.hostname}:{self.address.port}): {reason}")

    def interrupt(self) -> None:
        """End every command this connection is running, whole process groups (an interrupted run); they
        raise CommandInterrupted."""
        with self._lock:
            self._interrupted = True
            busy = self._fabric is not None and self._fabric.is_connected and self._running > 0
            transport = self._fabric.transport if busy else None
        if transport is not None:
            channel.end_sessions(transport, self._options.connect_timeout)

    def close(self) -> None:
        """Close the connection (and its jump host connection unless a pool shares it); safe from any
        thread, and twice."""
        with self._lock:
            self._close_locked()
        if self._owns_gateways:
            self._gateways.close_all()

    def _close_locked(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._fabric is not None:
            self._fabric.close()
            self._fabric = None

    def _connect(self) -> fabric.Connection:
        address = self.address
        config = fabric.Config(runtime_ssh_path=self._options.ssh_config_file)
        gateway: fabric.Connection | str | None = None
        if address.jump_host:
            gateway = fabric.Connection(address.jump_host, config=config)
        elif address.proxy_command:  # fabric runs it as the connection's ProxyCommand
            gateway = _expand_proxy_command(address.proxy_command, address)

        target = fabric.Connection(
            address.hostname,
            user=address.user,
            port=address.port if address.port != 22 else None,
            config=config,
            gateway=gateway,
        )
        if isinstance(target.gateway, fabric.Connection):
            key = (tuple((hop.user, hop.host, hop.port) for hop in chain(target.gateway)), address.key_file,
                   address.known_hosts_file)
            target.gateway = self._gateways.shared(key, target.gateway, lambda gateway: self._open(gateway, target))
        self._open(target, target)
        return target

    def _open(self, connection: fabric.Connection, target: fabric.Connection) -> None:
        """Open ``connection`` and the jump hosts it goes through that are not open yet, the outermost
        first, so that a failure names its hop; HostUnreachable (naming ``target``) on failure."""
        hops = [hop for hop in chain(connection) if not hop.is_connected]
        for hop in hops:
            self._prepare(hop, password=self.address.password if hop is target else None, target=hop is target)
        for hop in reversed(hops):
            try:
                with _handshakes:
                    if not hop.gateway:
                        hop.connect_kwargs["sock"] = _dial(hop.host, hop.port, self._timeout(hop is target))
                    hop.open()
                if hop is target and self.address.keepalive:
                    hop.transport.set_keepalive(self.address.keepalive)
            except Exception as error:  # noqa: BLE001 - every failure to connect makes the host unreachable
                reason = self._describe_failure(hop, target, error)  # before our closing is taken for the host's
                for opened in hops:
                    opened.client.close()
                    if "sock" in opened.connect_kwargs:
                        opened.connect_kwargs["sock"].close()
                raise HostUnreachable(reason) from None

    def _timeout(self, target: bool) -> float:
        """The connect timeout: the host's own (``ConnectTimeout``) for the target, else the run's."""
        if target and self.address.connect_timeout is not None:
            return self.address.connect_timeout
        return self._options.connect_timeout

    def _prepare(self, hop: fabric.Connection, password: str | None, target: bool) -> None:
        """Give ``hop`` our timeouts, keys and host key policy (fabric's default auto-adds keys); the
        host's own ssh options apply to the target, not to its jump hosts (as with OpenSSH's -J)."""
        timeout = self._timeout(target)
        keys = list(hop.connect_kwargs.get("key_filename") or [])
        if self.address.key_file:
            keys.insert(0, self.address.key_file)
        kwargs: dict[str, Any] = dict(
            hop.connect_kwargs,
            timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
            transport_factory=_aead_first_transport,
        )
        if keys:
            kwargs["key_filename"] = list(dict.fromkeys(keys))
        if password:
            kwargs["password"] = password
        checking, accept_new = self._options.host_key_checking, False
        if target:
            if self.address.compress:
                kwargs["compress"] = True
            if self.address.identities_only and self.address.key_file:
                kwargs.update(key_filename=[self.address.key_file], allow_agent=False, look_for_keys=False)
            if self.address.host_key_checking is not None:
                checking = self.address.host_key_checking != "no"
                accept_new = self.address.host_key_checking == "accept-new"
        hop.connect_kwargs = kwargs
        hop.connect_timeout = None  # given through connect_kwargs, as a float
        files = known_hosts_files(hop.ssh_config, (self.address.known_hosts_file, *self._options.known_hosts_files))
        self._known_hosts.secure(hop.client, host_key_name(hop.host, hop.port), files, checking, accept_new)

    def _describe_failure(self, hop: fabric.Connection, target: fabric.Connection, error: Exception) -> str:
        where = f"{self.address.name} ({_endpoint(target)})"
        if hop is not target:
            where += f" via jump host {_endpoint(hop)}"
        timeout = self._timeout(hop is target)
        sock = hop.connect_kwargs.get("sock")
        heard = _what_was_heard(sock, timeout) if isinstance(sock, _PromptSocket) else None
        return f"{where}: {_reason(hop, error, timeout, heard)}"

    # -- commands -----------------------------------------------------------
    def run(
        self,
        command: Command,
        *,
        stdin: str | Payload | InputOnRequest | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        become: bool = False,
        become_user: str | None = None,
    ) -> CommandResult:
        """Run ``command`` on a new channel; raise CommandTimeout (after ending it) or HostUnreachable."""
        hidden, inline = environment_on_input(env)
        line = shell_line(command, env=inline, cwd=cwd, become=become, become_user=become_user,
                          reads_env=bool(hidden))
        data = stdin.encode() if isinstance(stdin, str) else stdin
        start = datetime.now()
        outcome = self._execute(line, data, timeout, sudo=become, preamble=hidden)
        return CommandResult(
            rc=outcome.rc if outcome.rc is not None else -1,
            stdout=HostOutput(outcome.stdout),
            stderr=HostOutput(outcome.stderr),
            start=start,
            end=datetime.now(),
            command=line,
        )

    def put(self, data: Payload, remote_path: str, mode: int | None = None) -> None:
        """Write ``data`` (bytes, or a controller file streamed) to ``remote_path`` atomically: a temp file
        beside it, its size checked, then ``mv -f``. A transfer cut short (the controller killed, the
        connection lost) replaces nothing.

        ``mode`` None keeps the mode and owner of a file replaced (0644 for a new file).
        """
        outcome = self._execute(put_line(remote_path, mode, data), data, None)
        if outcome.rc != 0:
            raise TransferError(f"{self.address.name}: cannot write {remote_path}: {_last_line(outcome.stderr)}")

    def get(self, remote_path: str) -> bytes:
        """The content of ``remote_path``."""
        return self._read(remote_path, None).stdout

    def get_into(self, remote_path: str, sink: BinaryIO) -> None:
        """Write the content of ``remote_path`` to ``sink`` as it arrives."""
        self._read(remote_path, sink)

    def _read(self, remote_path: str, sink: BinaryIO | None) -> channel.Outcome:
        outcome = self._execute(shlex.join(["cat", "--", remote_path]), None, None, sink=sink)
        if outcome.rc != 0:
            raise TransferError(f"{self.address.name}: cannot read {remote_path}: {_last_line(outcome.stderr)}")
        return outcome

    def _execute(self, line: str, stdin: Payload | InputOnRequest | None, timeout: float | None,
                 sudo: bool = False, preamble: bytes = b"", sink: BinaryIO | None = None) -> channel.Outcome:
        transport = self.transport
        limit = timeout if timeout is not None else self._options.command_timeout
        deadline = None if limit is None else time.monotonic() + limit
        with self._lock:
            self._running += 1
        try:
            outcome = None
            session = self._take_session(transport)
            if session is not None:
                try:
                    outcome = session.execute(line, stdin, deadline, sudo=sudo, preamble=preamble, sink=sink)
                except SessionLost:
                    pass  # nothing of the command ran: it runs on a channel, as the host's next ones do
                finally:
                    self._give_back(session)
            if outcome is None:
                if self._interrupted:
                    raise CommandInterrupted(f"{self.address.name}: interrupted before the command started")
                outcome = channel.execute(
                    transport, line, stdin, deadline, self._options.connect_timeout,
                    sudo=sudo, preamble=preamble, sink=sink,
                )
        except (paramiko.SSHException, channel.ChannelClosed, OSError, EOFError) as error:
            raise HostUnreachable(f"{self.address.name} ({_endpoint(self._fabric)}): {error}") from None
        finally:
            with self._lock:
                self._running -= 1
        if self._interrupted:
            raise CommandInterrupted(f"{self.address.name}: interrupted; the command was ended on the host")
        if outcome.rc is None:
            raise CommandTimeout(f"{self.address.name}: command timed out after {limit:g}s and was ended: {line}")
        return outcome

    def _take_session(self, transport: paramiko.Transport) -> ShellSession | None:
        """The host's shell session, opened on first use, for one command; None when sessions are off
        for this host, when it is running another command (that one takes a channel), or when it could
        not be opened (the host goes on with a channel per command)."""
        with self._lock:
            if not self._session_wanted or self._session_busy:
                return None
            self._session_busy = True
            session = self._session
        if session is not None:
            if session.transport is transport:
                return session
            session.close()  # of a connection since lost and opened again
        try:
            session = ShellSession(transport, self._options.connect_timeout)
        except (paramiko.SSHException, OSError, EOFError):
            with self._lock:
                self._session_busy = self._session_wanted = False
            return None
        with self._lock:
            self._session = session
        return session

    def _give_back(self, session: ShellSession) -> None:
        """Return the session after a command; one that ended or was dropped is not replaced: the host
        goes on with a channel per command."""
        with self._lock:
            self._session_busy = False
            if not session.usable:
                self._session_wanted = False
                if self._session is session:
                    self._session = None


class _PromptSocket(socket.socket):
    """A TCP socket that acknowledges what it reads at once.

    sshd keeps Nagle's algorithm on for non-interactive sessions, so a small
    packet it sends while an earlier one is unacknowledged waits for our ACK,
    which Linux delays by up to 40 ms (the first command on every connection
    paid that). TCP_QUICKACK after each read (Linux only) removes the wait.

    It also keeps the first bytes the host sent, and whether it closed the
    connection, to say what a host that does not speak SSH did.
    """

    greeting: bytes = b""
    peer_closed: bool = False

    def recv(self, size: int, flags: int = 0) -> bytes:
        try:
            data = super().recv(size, flags)
        except (ConnectionResetError, BrokenPipeError):
            self.peer_closed = True
            raise
        if QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        if len(self.greeting) < GREETING_KEPT:
            self.greeting += data[:GREETING_KEPT - len(self.greeting)]
            self.peer_closed = not data
        return data

    def close(self) -> None:
        """Shut down, then close: the transport thread waiting in ``recv`` wakes at once, and the host
        sees the connection end now rather than when that wait times out."""
        try:
            self.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # not connected, or already shut down
        super().close()
    def send(self, data: Any, flags: int = 0) -> int:
        try:
            return super().send(data, flags)
        except (ConnectionResetError, BrokenPipeError):
            self.peer_closed = True
            raise


def _expand_proxy_command(command: str, address: HostAddress) -> str:
    """``command`` with OpenSSH's tokens expanded: %h the host, %p the port, %r the user, %% a percent."""
    tokens = {"h": address.hostname, "p": str(address.port), "r": address.user or "", "%": "%"}
    return re.sub(r"%([hpr%])", lambda match: tokens[match.group(1)], command)


def _dial(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection with Nagle's algorithm off and prompt ACKs (see _PromptSocket)."""
    failure: OSError = OSError(f"no address for {host}")
    for family, kind, protocol, _name, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = _PromptSocket(family, kind, protocol)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as error:
            sock.close()
            failure = error
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise failure


def _aead_first_transport(sock: Any, **kwargs: Any) -> paramiko.Transport:
    """A transport that offers AES-GCM first (the server may still pick another cipher).

    With an AEAD cipher paramiko computes no HMAC and compares no MAC in
    Python for each packet: the controller's largest per-packet cost.
    """
    transport = paramiko.Transport(sock, **kwargs)
    transport.sock.settimeout(IDLE_WAKE_SECONDS)
    options = transport.get_security_options()
    try:
        options.ciphers = AEAD_CIPHERS + tuple(name for name in options.ciphers if name not in AEAD_CIPHERS)
    except ValueError:
        pass  # a paramiko without AES-GCM: its own order
    return transport


def _endpoint(connection: fabric.Connection | None) -> str:
    if connection is None:
        return "not connected"
    return f"{connection.user}@{connection.host}:{connection.port}"


def _what_was_heard(sock: _PromptSocket, timeout: float) -> str | None:
    """What a host whose TCP port answered did instead of speaking SSH; None when it spoke SSH
    beyond its banner (then the error says more)."""
    greeting = sock.greeting
    if not greeting:
        if sock.peer_closed:
            return "the host accepted the connection and closed it at once, without an SSH banner (no SSH server?)"
        return f"the host accepted the connection but sent nothing for {timeout:g}s (no SSH banner)"
    first = greeting.split(b"\n", 1)[0].strip()
    # ascii() escapes what a terminal would act on, with no codec loaded from disk when first used (a
    # controller out of file descriptors could not load it, and needs this line then most)
    shown = ascii(first[:80].decode("latin-1"))[1:-1]
    if not first.startswith(b"SSH-"):
        return f"not an SSH server: the host answered '{shown}'"
    if greeting.strip() != first:
        return None
    if sock.peer_closed:
        return f"the host sent its SSH banner ({shown}) and closed the connection"
    return f"the host sent its SSH banner ({shown}) then nothing for {timeout:g}s (the key exchange timed out)"


def _reason(hop: fabric.Connection, error: Exception, timeout: float, heard: str | None = None) -> str:
    """One line saying why connecting failed (``heard``: what the host did, if it did not speak SSH)."""
    if out_of_files(error):
        return out_of_files_message()
    if isinstance(error, UnknownHostKey):
        return str(error)
    if isinstance(error, paramiko.BadHostKeyException):
        return changed_key_message(host_key_name(hop.host, hop.port), error)
    if isinstance(error, paramiko.AuthenticationException):
        return f"authentication failed for user {hop.user}: {error}"
    if heard is not None:
        return heard
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g}s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {hop.host}: {error.strerror}"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else 'connection failed'}"


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else "failed"
