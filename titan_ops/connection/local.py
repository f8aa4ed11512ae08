"""``ansible_connection: local``: commands and files on the controller, with the SSH connection's semantics."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from collections.abc import Mapping

from titan_ops.connection.base import (
    INPUT_REQUEST, Command, CommandResult, ConnectionOptions, HostAddress, InputOnRequest, TransferError, shell_line,
)
from titan_ops.errors import CommandTimeout

KILL_GRACE = 2.0


class LocalConnection:
    """Runs commands through ``/bin/sh -c`` in their own process group; a timeout ends the group."""

    def __init__(self, address: HostAddress, options: ConnectionOptions):
        self.address = address
        self._options = options
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def interrupt(self) -> None:
        """End every command this connection is running, whole process groups (an interrupted run)."""
        with self._lock:
            running = list(self._running)
        for process in running:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)

    def run(
        self,
        command: Command,
        *,
        stdin: str | bytes | InputOnRequest | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        become: bool = False,
        become_user: str | None = None,
    ) -> CommandResult:
        """Run ``command`` locally; raise CommandTimeout after ending its process group."""
        inline = env if become else None  # sudo clears the environment; otherwise it is the process's, out of ps
        line = shell_line(command, env=inline, cwd=cwd, become=become, become_user=become_user)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        limit = timeout if timeout is not None else self._options.command_timeout
        start = datetime.now()
        process = subprocess.Popen(
            ["/bin/sh", "-c", line],
            stdin=subprocess.PIPE if data else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, **{name: str(value) for name, value in env.items()}} if env and not become else None,
        )
        with self._lock:
            self._running.add(process)
        try:
            stdout, stderr = process.communicate(data or None, timeout=limit)
        except subprocess.TimeoutExpired:
            _end_group(process)
            raise CommandTimeout(f"{self.address.name}: command timed out after {limit:g}s and was ended: {line}") \
                from None
        finally:
            with self._lock:
                self._running.discard(process)
        if isinstance(stdin, InputOnRequest):  # given at once: what is not asked for is simply not read
            stderr = stderr.replace(INPUT_REQUEST, b"", 1)
        return CommandResult(
            rc=process.returncode,
            stdout=stdout.decode("utf-8", errors="replace"),
            stderr=stderr.decode("utf-8", errors="replace"),
            start=start,
            end=datetime.now(),
            command=line,
        )

    def put(self, data: bytes, remote_path: str, mode: int | None = None) -> None:
        """Write ``data`` atomically: a temp file beside ``remote_path``, then a rename.

        ``mode`` None keeps the mode and owner of a file replaced (0644 for a new file).
        """
        target = Path(remote_path)
        try:
            descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.titan-ops-", dir=target.parent)
        except OSError as error:
            raise TransferError(f"{self.address.name}: cannot write {remote_path}: {error.strerror}") from None
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            _set_permissions(temporary, target, mode)
            os.replace(temporary, target)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise TransferError(f"{self.address.name}: cannot write {remote_path}: {error.strerror}") from None

    def get(self, remote_path: str) -> bytes:
        """The content of ``remote_path``."""
        try:
            return Path(remote_path).read_bytes()
        except OSError as error:
            raise TransferError(f"{self.address.name}: cannot read {remote_path}: {error.strerror}") from None

    def close(self) -> None:
        """Nothing to close."""


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
    """TERM the process group, KILL it after a grace period, and reap the process."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(KILL_GRACE)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=KILL_GRACE)  # a daemon that left the group may hold the pipes
