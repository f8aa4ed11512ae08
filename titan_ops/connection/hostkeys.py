"""Host key verification against known_hosts files: never a prompt, never an auto-add."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping

import paramiko

from titan_ops.connection.identity import expand_home

DEFAULT_USER_FILES = "~/.ssh/known_hosts ~/.ssh/known_hosts2"
DEFAULT_GLOBAL_FILES = "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"


class UnknownHostKey(paramiko.SSHException):
    """The server's key is in none of the known_hosts files."""

    def __init__(self, key_name: str, key: paramiko.PKey, files: tuple[str, ...]):
        self.key_name = key_name
        listed = ", ".join(files) or "no known_hosts file"
        super().__init__(
            f"host key for {key_name} is UNKNOWN ({key.get_name()} {key.fingerprint} is not in {listed}); "
            "add it to known_hosts or turn host key checking off explicitly"
        )


def changed_key_message(key_name: str, error: paramiko.BadHostKeyException) -> str:
    """The one-line story of a host key that differs from the known one."""
    return (
        f"host key for {key_name} has CHANGED (server offers {error.key.get_name()} {error.key.fingerprint}, "
        f"known_hosts expects {error.expected_key.get_name()} {error.expected_key.fingerprint}); "
        "possible man-in-the-middle attack, refusing to connect"
    )


def host_key_name(hostname: str, port: int) -> str:
    """How known_hosts names a host: ``host`` on port 22, ``[host]:port`` elsewhere."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def known_hosts_files(ssh_config: Mapping[str, object], extra: Iterable[str | None]) -> tuple[str, ...]:
    """The files to check, as OpenSSH would (ssh_config's User/GlobalKnownHostsFile), plus ``extra``."""
    user = str(ssh_config.get("userknownhostsfile", DEFAULT_USER_FILES)).split()
    system = str(ssh_config.get("globalknownhostsfile", DEFAULT_GLOBAL_FILES)).split()
    files = [expand_home(path) for path in [*user, *system, *(e for e in extra if e)]]
    return tuple(dict.fromkeys(files))


class _Reject(paramiko.MissingHostKeyPolicy):
    def __init__(self, files: tuple[str, ...]):
        self.files = files

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise UnknownHostKey(hostname, key, tuple(f for f in self.files if os.path.exists(f)))


class _AcceptWithoutSaving(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        return None


class KnownHosts:
    """known_hosts files, each parsed once (until it changes) and shared by many connections."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[tuple[int, int], paramiko.HostKeys]] = {}
        self._lock = threading.Lock()

    def _file(self, path: str) -> paramiko.HostKeys | None:
        try:
            status = os.stat(path)
        except OSError:
            return None
        stamp = (status.st_mtime_ns, status.st_size)
        with self._lock:
            cached = self._parsed.get(path)
            if cached is None or cached[0] != stamp:
                keys = paramiko.HostKeys()
                keys.load(path)
                cached = self._parsed[path] = (stamp, keys)
        return cached[1]

    def secure(self, client: paramiko.SSHClient, key_name: str, files: tuple[str, ...], checking: bool,
               accept_new: bool = False) -> None:
        """Make ``client`` accept only the keys known for ``key_name`` (or, unchecked, any key); with
        ``accept_new`` (StrictHostKeyChecking=accept-new) a host with no known key is accepted too, but
        a changed key is refused (nothing is written to known_hosts)."""
        if not checking:
            client.set_missing_host_key_policy(_AcceptWithoutSaving())
            return
        known = client.get_host_keys()
        for path in files:
            keys = self._file(path)
            found = keys.lookup(key_name) if keys is not None else None
            for key_type, key in (found or {}).items():
                known.add(key_name, key_type, key)
        client.set_missing_host_key_policy(_AcceptWithoutSaving() if accept_new else _Reject(files))
