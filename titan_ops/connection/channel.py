"""One remote command on one SSH channel: stdin, output, exit status, and a deadline that ends it.

A command with a deadline is prefixed so the remote shell first reports its pid
on stderr (a marker line removed from the output). sshd makes that shell a
session and process group leader, so on timeout a second channel ends the whole
group. No extra round trip is spent on the normal path, and a command without a
deadline, which is never ended, does without the report's packet.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

import paramiko

from titan_ops.connection.base import INPUT_REQUEST, InputOnRequest
from titan_ops.connection.payload import Payload, SourceChanged, chunks_of, size_of

PID_LINE = re.compile(rb"\x1etitan-ops-pid (\d+)\n")
PID_GRACE = 2.0
KILL_TIMEOUT = 10.0
CHUNK = 1 << 16
WAKE_SLICE = 0.5
"""The longest a reader sleeps at once: Ctrl-C or SIGTERM may reach another thread than the main one,
and Python acts on it only when the main thread wakes."""


def wrap(line: str, report_pid: bool, *, input_now: bool, input_on_request: bool) -> str:
    """``line`` (preceded by the pid report if asked), its input settled so that we never send EOF late.

    Without input, stdin is /dev/null and we send no EOF at all. With input
    sent at once, what the command leaves unread is drained (a ``read``
    first, so a command that read everything costs no extra process), so the
    channel stays open until our EOF arrives. (An EOF that paramiko sends
    after the server closed the channel makes sshd drop the whole
    connection.) Input on request is sent only once the command asks for it,
    and a command that asks reads it all.
    """
    report = "printf '\\036titan-ops-pid %s\\n' \"$$\" >&2; " if report_pid else ""
    if input_on_request:
        return f"{report}{line}"
    if input_now:
        return f"{report}{line}; s=$?; if read -r _; then cat >/dev/null; fi; exit $s"
    return f"{report}exec </dev/null; {line}"


def kill_line(pid: int) -> str:
    """End process group ``pid`` (or process ``pid``): TERM (and CONT, so that a stopped process gets it),
    KILL after two seconds, wait until gone."""
    gone = "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do " \
           "kill -0 -- -$p 2>/dev/null || kill -0 $p 2>/dev/null || exit 0; sleep 0.1; done"
    return (
        f"p={pid}; kill -TERM -- -$p 2>/dev/null || kill -TERM $p 2>/dev/null; kill -CONT -- -$p 2>/dev/null; "
        f"{gone}; kill -KILL -- -$p 2>/dev/null; kill -KILL $p 2>/dev/null; {gone}"
    )


END_SESSIONS = (
    's=$(pgrep -P "$PPID" | grep -vx "$$"); [ -n "$s" ] || exit 0; '
    'left() { for p in $s; do { kill -0 -- "-$p" || kill -0 "$p"; } 2>/dev/null && return 0; done; return 1; }; '
    'for p in $s; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; kill -CONT -- "-$p" 2>/dev/null; '
    'done; '
    'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do left || exit 0; sleep 0.1; done; '
    'for p in $s; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; done'
)
"""End every other session of this SSH connection: the children of our shell's parent (the
connection's sshd) are the connection's sessions, each a process group. TERM (and CONT, so that a
stopped process gets it) to every group, KILL two seconds later to what is left of them (a process
that traps TERM and lingers, say: it would keep its session's channel open)."""


def end_sessions(transport: paramiko.Transport, open_timeout: float) -> None:
    """End everything the connection behind ``transport`` is running (for an interrupted run)."""
    run_quietly(transport, END_SESSIONS, open_timeout)


@dataclass
class Outcome:
    """What came back from one channel. ``rc`` is None when the deadline ended the command."""

    rc: int | None
    stdout: bytes
    stderr: bytes


class ChannelClosed(Exception):
    """The channel closed without an exit status (the connection died)."""


def execute(
    transport: paramiko.Transport,
    line: str,
    stdin: Payload | InputOnRequest | None,
    deadline: float | None,
    open_timeout: float,
    sudo: bool = False,
    preamble: bytes = b"",
    sink: BinaryIO | None = None,
) -> Outcome:
    """Run ``line`` on a new channel of ``transport``; on ``deadline`` end the remote process group.

    ``sudo``: the command runs through sudo, so the kill does too. ``preamble``
    is sent at once, before ``stdin`` (the environment the line reads first).
    ``sink`` receives stdout as it arrives instead of the outcome. SourceChanged
    when a file given as input changed while it was sent.
    """
    channel = transport.open_session(timeout=open_timeout)
    with channel:
        reports_pid = deadline is not None
        requested = stdin.data if isinstance(stdin, InputOnRequest) else None
        given = None if isinstance(stdin, InputOnRequest) else stdin
        on_request = requested is not None and size_of(requested) > 0
        input_now = bool(preamble) or (given is not None and size_of(given) > 0)
        channel.exec_command(wrap(line, reports_pid, input_now=input_now, input_on_request=on_request))
        feeder = Feeder(channel)
        if on_request and preamble:
            feeder.send_all(preamble)  # the rest, and EOF, once the command asks
        elif input_now:
            feeder.send(preamble, given or b"")
        reader = _Reader(channel, reports_pid, feeder, requested, sink)
        finished = reader.read_until(deadline) and channel.status_event.wait(remaining(deadline))
        if feeder.error is not None:
            raise feeder.error
        if not finished:
            pid = reader.pid_within(PID_GRACE)
            if pid is not None:
                end_group(transport, pid, sudo, open_timeout)
            return Outcome(None, bytes(reader.stdout), bytes(reader.stderr))
        if channel.exit_status == -1 and not transport.is_active():
            raise ChannelClosed("connection lost while the command ran")
        return Outcome(channel.exit_status, bytes(reader.stdout), bytes(reader.stderr))


class Feeder:
    """Sends a command's input, then EOF (unless ``eof`` is False: a shell session's channel stays
    open): inline when it fits the channel's window, else from a thread, so that a command that writes
    much before it reads cannot deadlock. Input is handed over in pieces (never re-copied per packet,
    never read whole from a file); ``error`` says why it stopped early."""

    def __init__(self, channel: paramiko.Channel, eof: bool = True):
        self.channel = channel
        self.error: SourceChanged | None = None
        self.thread: threading.Thread | None = None
        self._eof = eof

    def send(self, *payloads: Payload) -> None:
        """Send ``payloads`` in order, then EOF (if asked)."""
        if sum(size_of(payload) for payload in payloads) <= self.channel.out_window_size:
            self._feed(payloads)
        else:
            self.thread = threading.Thread(target=self._feed, args=(payloads,), name="titan-ops-stdin", daemon=True)
            self.thread.start()

    def send_all(self, data: bytes | memoryview) -> None:
        """Send ``data`` (no EOF); OSError when the channel closed."""
        view = memoryview(data)
        while view:
            sent = self.channel.send(view)
            if not sent:
                raise OSError("the channel closed")
            view = view[sent:]

    def _feed(self, payloads: tuple[Payload, ...]) -> None:
        try:
            for payload in payloads:
                for piece in chunks_of(payload):
                    self.send_all(piece)
        except SourceChanged as error:
            self.error = error  # EOF now: what arrived is short, and the receiver's size check refuses it
        except OSError:
            return  # the command ended without reading everything, or the connection is gone
        if self._eof or self.error is not None:
            with contextlib.suppress(OSError):
                self.channel.shutdown_write()


class _Reader:
    """Drains stdout (into ``sink`` if given) and stderr of a channel, picking the pid report (and the
    request for ``requested`` input, which ``feeder`` then sends) out of stderr."""

    def __init__(self, channel: paramiko.Channel, reports_pid: bool, feeder: Feeder,
                 requested: Payload | None = None, sink: BinaryIO | None = None):
        self.channel = channel
        self._reports_pid = reports_pid
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.pid: int | None = None
        self._feeder = feeder
        self._requested = requested
        self._out = sink.write if sink is not None else self.stdout.extend
        self._wake = Wake()
        channel.in_buffer.set_event(self._wake)
        channel.in_stderr_buffer.set_event(self._wake)

    def read_until(self, deadline: float | None, *, pid: bool = False) -> bool:
        """Read until EOF (or, with ``pid``, the pid report): True; or until ``deadline``: False."""
        while True:
            self._wake.event.clear()
            ended = self.channel.eof_received or self.channel.closed
            self._drain()
            if ended or (pid and self.pid is not None):
                return True
            left = remaining(deadline)
            if left == 0:
                return False
            self._wake.event.wait(WAKE_SLICE if left is None else min(left, WAKE_SLICE))

    def pid_within(self, seconds: float) -> int | None:
        """The remote pid, waiting up to ``seconds`` for its report."""
        self.read_until(time.monotonic() + seconds, pid=True)
        return self.pid

    def _drain(self) -> None:
        channel = self.channel
        while channel.recv_ready():
            self._out(channel.recv(CHUNK))
        while channel.recv_stderr_ready():
            self.stderr += channel.recv_stderr(CHUNK)
        if self._reports_pid and self.pid is None:
            match = PID_LINE.search(self.stderr)
            if match:
                self.pid = int(match.group(1))
                del self.stderr[match.start():match.end()]
        if self._requested is not None:
            at = self.stderr.find(INPUT_REQUEST)
            if at >= 0:
                del self.stderr[at:at + len(INPUT_REQUEST)]
                if size_of(self._requested):  # empty input was settled at once (no more may follow its EOF)
                    self._feeder.send(self._requested)
                self._requested = None


class Wake:
    """The event paramiko sets when a channel buffer gets data or closes (instead of
    ``channel.fileno()``, a pipe written on every packet). Only the reader clears it: paramiko
    clears its event when a read empties one buffer, which would lose a wake-up for the other."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        self.event.set()

    def clear(self) -> None:
        """Ignored (see the class)."""

    def is_set(self) -> bool:
        return self.event.is_set()


def remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def end_group(transport: paramiko.Transport, pid: int, sudo: bool, open_timeout: float) -> None:
    """End process group ``pid`` on the host (:func:`kill_line`), through sudo for a become command's."""
    kill = kill_line(pid)
    run_quietly(transport, f"sudo -n /bin/sh -c {shlex.quote(kill)}" if sudo else kill, open_timeout)


def run_quietly(transport: paramiko.Transport, line: str, open_timeout: float) -> None:
    """Run a helper command, wait for it, ignore its output (used to end a timed-out command)."""
    try:
        channel = transport.open_session(timeout=open_timeout)
        with channel:
            channel.exec_command(f"exec </dev/null; {line}")
            channel.status_event.wait(KILL_TIMEOUT)
    except (paramiko.SSHException, OSError, EOFError):
        pass  # the connection is gone; so is the session and its processes
