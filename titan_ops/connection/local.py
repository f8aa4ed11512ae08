"""``ansible_connection: local``: commands and files on the controller, with the SSH connection's semantics."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from collections.abc import Mapping

from titan_ops.connection.base import (
    INPUT_REQUEST, Command, CommandInterrupted, CommandResult, ConnectionOptions, HostAddress, HostOutput,
    InputOnRequest, TransferError, shell_line,
)
from titan_ops.connection.payload import CHUNK, Payload, SourceChanged, chunks_of
from titan_ops.connection.transfer import local_replacement
from titan_ops.connection.limits import out_of_files, out_of_files_message
from titan_ops.errors import CommandTimeout, HostUnreachable

KILL_GRACE = 2.0


class LocalConnection:
    """Runs commands through ``/bin/sh -c`` in their own process group; a timeout ends the group."""

    def __init__(self, address: HostAddress, options: ConnectionOptions):
        self.address = address
        self._options = options
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._interrupted = False

    def interrupt(self) -> None:
        """End every command this connection is running, whole process groups (an interrupted run); they
        raise CommandInterrupted. TERM (and CONT, so that a stopped process gets it), KILL two seconds
        later to what is left (a process that traps TERM would keep the command's pipes open)."""
        with self._lock:
            self._interrupted = True
            running = list(self._running)
        for process in running:
            _signal_group(process.pid, signal.SIGTERM, signal.SIGCONT)
        _wait_groups_gone(running)
        for process in running:
            _signal_group(process.pid, signal.SIGKILL)

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
        """Run ``command`` locally; raise CommandTimeout after ending its process group."""
        inline = env if become else None  # sudo clears the environment; otherwise it is the process's, out of ps
        line = shell_line(command, env=inline, cwd=cwd, become=become, become_user=become_user)
        given = stdin.encode() if isinstance(stdin, str) else stdin
        data = given.data if isinstance(given, InputOnRequest) else given  # given at once: unasked, it is unread
        limit = timeout if timeout is not None else self._options.command_timeout
        start = datetime.now()
        try:
            pipe = os.pipe() if data else None
            process = subprocess.Popen(
                ["/bin/sh", "-c", line],
                stdin=pipe[0] if pipe else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env={**os.environ, **{name: str(value) for name, value in env.items()}} if env and not become
                else None,
            )
        except OSError as error:
            if pipe is not None:
                os.close(pipe[0])
                os.close(pipe[1])
            if out_of_files(error):
                raise HostUnreachable(f"{self.address.name}: {out_of_files_message()}") from None
            raise
        feed = None
        if pipe is not None:
            os.close(pipe[0])
            feed = _Input(pipe[1], data)
        with self._lock:
            self._running.add(process)
        try:
            stdout, stderr = _exchange(process, feed, limit)
        except subprocess.TimeoutExpired:
            _end_group(process)
            raise CommandTimeout(f"{self.address.name}: command timed out after {limit:g}s and was ended: {line}") \
                from None
        finally:
            with self._lock:
                self._running.discard(process)
            if feed is not None:
                feed.close()
        if self._interrupted:
            raise CommandInterrupted(f"{self.address.name}: interrupted; the command was ended")
        if feed is not None and feed.error is not None:
            raise feed.error
        if isinstance(given, InputOnRequest):
            stderr = stderr.replace(INPUT_REQUEST, b"", 1)
        return CommandResult(
            rc=process.returncode,
            stdout=HostOutput(stdout),
            stderr=HostOutput(stderr),
            start=start,
            end=datetime.now(),
            command=line,
        )

    def put(self, data: Payload, remote_path: str, mode: int | None = None) -> None:
        """Write ``data`` atomically: a temp file beside ``remote_path`` (0600), then a rename.

        ``mode`` None keeps the mode and owner of a file replaced (0644 for a new file).
        """
        target = Path(remote_path)
        try:
            with local_replacement(remote_path) as handle:
                for piece in chunks_of(data):
                    handle.write(piece)
                _set_permissions(handle.name, target, mode)
        except OSError as error:
            raise TransferError(f"{self.address.name}: cannot write {remote_path}: {error.strerror}") from None

    def get(self, remote_path: str) -> bytes:
        """The content of ``remote_path``."""
        try:
            return Path(remote_path).read_bytes()
        except OSError as error:
            raise TransferError(f"{self.address.name}: cannot read {remote_path}: {error.strerror}") from None

    def get_into(self, remote_path: str, sink: BinaryIO) -> None:
        """Write the content of ``remote_path`` to ``sink``, a chunk at a time."""
        try:
            with open(remote_path, "rb") as source:
                shutil.copyfileobj(source, sink, CHUNK)
        except OSError as error:
            raise TransferError(f"{self.address.name}: cannot read {remote_path}: {error.strerror}") from None

    def close(self) -> None:
        """Nothing to close."""


QUIET = 1.0
"""Seconds of silence on a command's output, once it exited, that end the reading of it: a background
process it left holding its stdout or stderr does not keep it running (ansible-core's run_command)."""


def _exchange(process: subprocess.Popen[bytes], feed: _Input | None, limit: float | None) -> tuple[bytes, bytes]:
    """Feed ``process`` its input and collect its stdout and stderr until it has exited and its output
    has closed or stayed quiet for :data:`QUIET` seconds; subprocess.TimeoutExpired after ``limit``."""
    assert process.stdout is not None and process.stderr is not None
    deadline = None if limit is None else time.monotonic() + limit
    stdout, stderr = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout.fileno(), selectors.EVENT_READ, stdout)
        selector.register(process.stderr.fileno(), selectors.EVENT_READ, stderr)
        if feed is not None:
            selector.register(feed.descriptor, selectors.EVENT_WRITE, feed)
        while selector.get_map():
            left = _left(deadline, limit)
            ready = selector.select(QUIET if left is None else min(QUIET, left))
            if not ready and process.poll() is not None:  # (what it wrote before it exited is ready: read)
                break
            for key, _ in ready:
                if isinstance(key.data, _Input):
                    if not key.data.send():
                        selector.unregister(key.fd)
                    continue
                chunk = os.read(key.fd, CHUNK)
                if chunk:
                    key.data.extend(chunk)
                else:
                    selector.unregister(key.fd)
    process.stdout.close()
    process.stderr.close()
    if process.returncode is None:  # (its output closed, its input written, before it exited)
        process.wait(_left(deadline, limit))
    return bytes(stdout), bytes(stderr)


def _left(deadline: float | None, limit: float | None) -> float | None:
    """Seconds left before ``deadline`` (None: no deadline); subprocess.TimeoutExpired once it passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise subprocess.TimeoutExpired("/bin/sh", limit or 0)
    return left


class _Input:
    """A command's input, written to its pipe as the pipe takes it (never blocking); ``error`` says why
    it stopped early (a controller file changed: the pipe is closed short, so the command's size check
    refuses it)."""

    def __init__(self, descriptor: int, data: Payload):
        os.set_blocking(descriptor, False)
        self.descriptor = descriptor
        self.error: SourceChanged | None = None
        self._pieces = chunks_of(data)
        self._pending: memoryview = memoryview(b"")
        self._open = True

    def send(self) -> bool:
        """Write what the pipe takes now; False once everything is written (the pipe is then closed),
        the command stopped reading, or the data failed."""
        try:
            while True:
                if not self._pending:
                    self._pending = memoryview(next(self._pieces))
                self._pending = self._pending[os.write(self.descriptor, self._pending):]
        except BlockingIOError:
            return True
        except StopIteration:
            pass
        except SourceChanged as error:
            self.error = error
        except OSError:
            pass  # the command ended without reading everything
        self.close()
        return False

    def close(self) -> None:
        """Close the pipe (EOF for the command), once."""
        if self._open:
            self._open = False
            os.close(self.descriptor)


def _set_permissions(temporary: str, target: Path, mode: int | None) -> None:
    if mode is not None:
        os.chmod(temporary, mode & 0o7777)
        return
    try:
        current = target.stat()
    except FileNotFoundError:
        os.chmod(temporary, 0o644)
        return
    shutil.copymode(target, temporary)
    try:
        os.chown(temporary, current.st_uid, current.st_gid)
    except PermissionError:
        pass  # not ours to give away; keep our own ownership


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """TERM the process group, KILL what is left of it after a grace period, and reap the process."""
    _signal_group(process.pid, signal.SIGTERM, signal.SIGCONT)
    _wait_groups_gone([process])
    _signal_group(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=KILL_GRACE)  # a daemon that left the group may hold the pipes


def _signal_group(group: int, *signals: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        for each in signals:
            os.killpg(group, each)


def _wait_groups_gone(processes: list[subprocess.Popen[bytes]]) -> None:
    """Wait up to KILL_GRACE until the process groups of ``processes`` are empty (their leaders reaped)."""
    deadline = time.monotonic() + KILL_GRACE
    while any(process.poll() is None or _group_left(process.pid) for process in processes) \
            and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_left(group: int) -> bool:
    """Whether process group ``group`` still has a process that is not a zombie (its leader is reaped by
    the caller). A zombie whose parent ended waits for the system's first process to reap it, which some
    (a container's) do late or never: it runs nothing, so it does not hold the group's end."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    try:
        processes = os.scandir("/proc")
    except OSError:
        return True  # (no /proc: every process of the group counts)
    with processes:
        return any(_running_in(group, entry.name) for entry in processes if entry.name.isdigit())


def _running_in(group: int, pid: str) -> bool:
    """Whether process ``pid`` is in process group ``group`` and not a zombie (from /proc/PID/stat)."""
    try:
        stat = Path("/proc", pid, "stat").read_bytes()
    except OSError:
        return False  # ended meanwhile
    state, _parent, process_group = stat[stat.rindex(b")") + 2:].split(maxsplit=3)[:3]
    return int(process_group) == group and state not in (b"Z", b"X")
