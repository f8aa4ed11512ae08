"""``ansible_connection: local``: commands and files on the controller, with the SSH connection's semantics."""

from __future__ import annotations

import os
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
from titan_ops.connection.payload import CHUNK, LocalFile, Payload, SourceChanged, chunks_of
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
        streamed = data if isinstance(data, LocalFile) else None
        limit = timeout if timeout is not None else self._options.command_timeout
        start = datetime.now()
        try:
            pipe = os.pipe() if streamed is not None else None
            process = subprocess.Popen(
                ["/bin/sh", "-c", line],
                stdin=pipe[0] if pipe else subprocess.PIPE if data else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env={**os.environ, **{name: str(value) for name, value in env.items()}} if env and not become
                else None,
            )
        except OSError as error:
            if out_of_files(error):
                raise HostUnreachable(f"{self.address.name}: {out_of_files_message()}") from None
            raise
        feeder = None
        if pipe is not None and streamed is not None:
            os.close(pipe[0])
            feeder = _Feeder(pipe[1], streamed)
        with self._lock:
            self._running.add(process)
        try:
            stdout, stderr = process.communicate(None if feeder else data or None, timeout=limit)
        except subprocess.TimeoutExpired:
            _end_group(process)
            raise CommandTimeout(f"{self.address.name}: command timed out after {limit:g}s and was ended: {line}") \
                from None
        finally:
            with self._lock:
                self._running.discard(process)
            if feeder is not None:
                feeder.join()
        if self._interrupted:
            raise CommandInterrupted(f"{self.address.name}: interrupted; the command was ended")
        if feeder is not None and feeder.error is not None:
            raise feeder.error
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


class _Feeder(threading.Thread):
    """Writes a controller file to a command's input pipe, then closes it; ``error`` says why it stopped
    early (the file changed: the pipe is closed short, so the command's size check refuses it)."""

    def __init__(self, descriptor: int, source: LocalFile):
        super().__init__(name="titan-ops-stdin", daemon=True)
        self._descriptor = descriptor
        self._source = source
        self.error: SourceChanged | None = None
        self.start()

    def run(self) -> None:
        try:
            with open(self._descriptor, "wb") as pipe:
                for piece in self._source.chunks():
                    pipe.write(piece)
        except SourceChanged as error:
            self.error = error
        except OSError:
            pass  # the command ended without reading everything


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
    """Whether process group ``group`` still has a process (its leader, until reaped, counts)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
