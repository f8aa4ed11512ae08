"""One long-lived shell per host on one SSH channel, each command framed through it (``ansible_titan_session``).

A channel per command costs a session in sshd and a login shell on the host. A
session pays that once: its channel runs ``exec /bin/sh``, and every command
is written to that shell's input as one line (T a random token, new for each
command, never on a command line of the host)::

    printf '\\036T%s\\n' "<$$"; printf '\\036T%s\\n' '<' >&2; ( eval 'LINE' ) </dev/null;
    printf '\\036T%s\\n' "=$?"; printf '\\036T%s\\n' '>' >&2

(one line: the break is for reading).

The command's stdout is what comes between ``T<`` and ``T=STATUS`` on the
channel's stdout, its stderr what comes between ``T<`` and ``T>`` on its
stderr; what the host prints is data, and cannot end a frame without the
token. ``eval`` in a subshell keeps the session from the command's ``exit``,
``cd``, ``exec`` and syntax errors. Input is framed by length: the line reads
it with ``head -c SIZE`` (which never reads past it) and drains what the
command leaves, and the controller sends it only once ``T<`` shows that the
shell has read the whole line (``sh`` reads its script in blocks: input sent
along with the line would be taken for script). Input on request waits for
the command's request, then a ``1`` line and the input; a command that ends
without asking gets a ``0`` line.

One difference remains from a channel per command: a channel ends once every
process holding the command's output has closed it, so a command that leaves
a background process writing to its stdout or stderr waits for it (as with
ansible); through the session the command ends when it exits. Output that
comes outside a frame makes the session drop itself (the host goes on with
channels), so such output is never taken for a later command's, unless the
process writes it only while the host's next command runs.

A deadline kills the session's process group (the shell, the command and its
children: sshd made the shell a group leader, ``$$`` in ``T<`` names it) and
drops the session. A session that ends before a command started
(:class:`SessionLost`) leaves that command to a channel of its own; one that
ends while a command runs gives that command exit status -1, once. Either way
the connection goes on with a channel per command (see ``ssh.py``).
"""

from __future__ import annotations

import re
import secrets
import shlex
import time
from typing import BinaryIO

import paramiko

from titan_ops.connection.base import INPUT_REQUEST, InputOnRequest
from titan_ops.connection.channel import (
    CHUNK, PID_GRACE, WAKE_SLICE, ChannelClosed, Feeder, Outcome, Wake, end_group, remaining,
)
from titan_ops.connection.payload import Payload, size_of

SHELL = "exec /bin/sh"
ENDED_NOTE = b"titan-ops: the host's shell session ended while the command ran\n"


class SessionLost(Exception):
    """The session's shell was gone before the command started: nothing of it ran."""


def frame_line(token: str, line: str, now: int, later: int | None) -> bytes:
    """The shell line that runs ``line`` framed by ``token``: ``now`` bytes of input read at once, and
    with ``later`` (input on request) a go line, then ``later`` bytes if it is ``1``."""
    mark = f"printf '\\036{token}%s\\n'"
    command = f"( eval {shlex.quote(line)} )"
    feeds = [f"head -c {now}"] if now else []
    if later is not None:
        feeds.append(f'read -r go; [ "$go" != 1 ] || head -c {later}')
    if feeds:
        done = f"{mark} '!' >&2; " if later is not None else ""
        run = f"{{ {'; '.join(feeds)}; }} | ( {command}; s=$?; {done}cat >/dev/null; exit $s )"
    else:
        run = f"{command} </dev/null"
    return f"{mark} \"<$$\"; {mark} '<' >&2; {run}; {mark} \"=$?\"; {mark} '>' >&2\n".encode()


class ShellSession:
    """One ``/bin/sh`` on one channel of ``transport``, running one command at a time."""

    def __init__(self, transport: paramiko.Transport, open_timeout: float):
        self.transport = transport
        self._open_timeout = open_timeout
        self.channel = transport.open_session(timeout=open_timeout)
        try:
            self.channel.exec_command(SHELL)
        except BaseException:
            self.channel.close()
            raise
        self.wake = Wake()
        self.channel.in_buffer.set_event(self.wake)
        self.channel.in_stderr_buffer.set_event(self.wake)
        self.pid: int | None = None
        self.usable = True

    def execute(self, line: str, stdin: Payload | InputOnRequest | None, deadline: float | None,
                sudo: bool = False, preamble: bytes = b"", sink: BinaryIO | None = None) -> Outcome:
        """Run ``line`` as :func:`titan_ops.connection.channel.execute` does, through the session.

        SessionLost when the shell was gone before the command started; ChannelClosed when the
        connection died. The session is left unusable after a deadline, a death or a changed source.
        """
        requested = stdin.data if isinstance(stdin, InputOnRequest) else None
        given = None if isinstance(stdin, InputOnRequest) else stdin
        later = size_of(requested) if requested is not None and size_of(requested) else None
        now = [part for part in (preamble, given) if part is not None and size_of(part)]
        token = secrets.token_hex(12)
        frame = _Frame(token, sink, on_request=requested is not None)
        try:
            self.channel.sendall(frame_line(token, line, sum(map(size_of, now)), later))
        except (OSError, EOFError, paramiko.SSHException):
            self.usable = False
            raise SessionLost("the session's shell is gone") from None
        feeder = Feeder(self.channel, eof=False)
        while True:
            self.wake.event.clear()
            ended = self.channel.eof_received or self.channel.closed
            self._drain(frame)
            if frame.started and now:
                feeder.send(*now)
                now = []
            if later is not None and (frame.asked or frame.finished_unasked):
                if feeder.thread is not None:
                    feeder.thread.join()  # the input sent at once (the environment) goes first
                if frame.asked:
                    feeder.send(b"1\n", requested)
                else:
                    feeder.send(b"0\n")
                later = None
            if frame.complete:
                break
            if ended:
                return self._ended(frame)
            left = remaining(deadline)
            if left == 0:
                return self._time_out(frame, sudo)
            self.wake.event.wait(WAKE_SLICE if left is None else min(left, WAKE_SLICE))
        if feeder.error is not None:
            self.usable = False  # its EOF ends the shell after this command
            raise feeder.error
        if frame.stray:
            self.close()  # a background process writes on (see the module's docstring): channels from now on
        return Outcome(frame.status, bytes(frame.stdout), bytes(frame.stderr))

    def close(self) -> None:
        """Close the channel: the shell reads EOF and ends."""
        self.usable = False
        self.channel.close()

    def _drain(self, frame: _Frame) -> None:
        while self.channel.recv_ready():
            frame.take_stdout(self.channel.recv(CHUNK))
        while self.channel.recv_stderr_ready():
            frame.take_stderr(self.channel.recv_stderr(CHUNK))
        if frame.pid is not None:
            self.pid = frame.pid

    def _ended(self, frame: _Frame) -> Outcome:
        """The shell ended before the frame did (killed, or the connection lost)."""
        self.close()
        if not self.transport.is_active():
            raise ChannelClosed("connection lost while the command ran")
        if not frame.started:
            raise SessionLost("the session's shell ended before the command started")
        frame.flush()
        return Outcome(-1, bytes(frame.stdout), bytes(frame.stderr) + ENDED_NOTE)

    def _time_out(self, frame: _Frame, sudo: bool) -> Outcome:
        """End the session's process group (the command's with it) and drop the session."""
        grace = time.monotonic() + PID_GRACE
        while self.pid is None and not (self.channel.eof_received or self.channel.closed):
            self.wake.event.clear()
            self._drain(frame)
            left = remaining(grace)
            if self.pid is not None or left == 0:
                break
            self.wake.event.wait(min(left, WAKE_SLICE))
        if self.pid is not None:
            end_group(self.transport, self.pid, sudo, self._open_timeout)
        self.close()
        frame.flush()
        return Outcome(None, bytes(frame.stdout), bytes(frame.stderr))


class _Frame:
    """Picks one command's output, exit status, and the session's requests out of the channel's streams."""

    def __init__(self, token: str, sink: BinaryIO | None, on_request: bool):
        mark = b"\x1e" + token.encode()
        self._start_out = re.compile(re.escape(mark) + rb"<(\d+)\n")
        self._status = re.compile(re.escape(mark) + rb"=(\d+)\n")
        self._start_err = mark + b"<\n"
        self._end_err = mark + b">\n"
        self._done_err = mark + b"!\n"
        self._hold = len(mark) + 24  # a marker split across reads is held back until it is whole
        self._out = bytearray()
        self._err = bytearray()
        self._write = sink.write if sink is not None else None
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.pid: int | None = None
        self.status: int | None = None
        self.started = False
        self._err_started = False
        self._err_ended = False
        self._on_request = on_request
        self.asked = False
        self.finished_unasked = False
        self.stray = False
        """Output outside the frame came: an earlier command left a process writing to the session."""

    @property
    def complete(self) -> bool:
        return self.status is not None and self._err_ended

    def take_stdout(self, data: bytes) -> None:
        self._out += data
        if not self.started:
            match = self._start_out.search(self._out)
            if match is None:
                self._drop_before(self._out)
                return
            self.started, self.pid = True, int(match.group(1))
            self.stray |= match.start() > 0
            del self._out[:match.end()]
        if self.status is not None:
            self.stray |= bool(self._out)  # after the frame: a background process of the command writing on
            self._out.clear()
            return
        match = self._status.search(self._out)
        if match is not None:
            self.status = int(match.group(1))
            self._emit(self._out[:match.start()])
            self._out.clear()
        elif len(self._out) > self._hold:
            self._emit(self._out[:-self._hold])
            del self._out[:-self._hold]

    def take_stderr(self, data: bytes) -> None:
        self._err += data
        if not self._err_started:
            at = self._err.find(self._start_err)
            if at < 0:
                self._drop_before(self._err)
                return
            self._err_started = True
            self.stray |= at > 0
            del self._err[:at + len(self._start_err)]
        if self._err_ended:
            self.stray |= bool(self._err)
            self._err.clear()
            return
        if self._on_request and not self.asked and (at := self._err.find(INPUT_REQUEST)) >= 0:
            self.asked = True
            del self._err[at:at + len(INPUT_REQUEST)]
        if (at := self._err.find(self._done_err)) >= 0:
            self.finished_unasked = not self.asked
            del self._err[at:at + len(self._done_err)]
        at = self._err.find(self._end_err)
        if at >= 0:
            self._err_ended = True
            self.stderr += self._err[:at]
            self._err.clear()
        elif len(self._err) > self._hold:
            self.stderr += self._err[:-self._hold]
            del self._err[:-self._hold]

    def _drop_before(self, buffer: bytearray) -> None:
        """Drop what came before the frame's start, but a start marker's beginning."""
        at = buffer.rfind(b"\x1e")
        keep = at if at >= 0 and len(buffer) - at < self._hold else len(buffer)
        self.stray |= keep > 0
        del buffer[:keep]

    def flush(self) -> None:
        """Give what was held back as a possible marker to the output: the frame ended early."""
        if self.started and self.status is None:
            self._emit(self._out)
        if self._err_started and not self._err_ended:
            self.stderr += self._err
        self._out.clear()
        self._err.clear()

    def _emit(self, data: bytearray) -> None:
        if self._write is not None:
            self._write(bytes(data))
        else:
            self.stdout += data
