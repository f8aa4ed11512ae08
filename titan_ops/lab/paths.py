"""Where a lab keeps its files, and how a host's private paths map onto them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PRIVATE_PATHS: tuple[str, ...] = (
    "/opt/titan",
    "/etc/titan",
    "/var/lib/titan",
    "/var/log/titan",
    "/var/backups/titan",
    "/srv/titan",
    "/tmp",
)
"""Paths each lab host sees as its own (bind-mounted from the lab directory)."""


def default_directory() -> Path:
    """``$TITAN_OPS_LAB_DIR``, else ``~/.local/state/titan-ops/lab``."""
    configured = os.environ.get("TITAN_OPS_LAB_DIR")
    if configured:
        return Path(configured).expanduser().absolute()
    return Path.home() / ".local" / "state" / "titan-ops" / "lab"


def private_root(path: str) -> str | None:
    """The entry of PRIVATE_PATHS that holds ``path``, or None if ``path`` is shared."""
    pure = PurePosixPath(os.path.normpath(path))
    for root in PRIVATE_PATHS:
        if pure == PurePosixPath(root) or PurePosixPath(root) in pure.parents:
            return root
    return None


@dataclass(frozen=True)
class LabPaths:
    """The layout of one lab directory."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "lab.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory.yml"

    @property
    def client_key(self) -> Path:
        return self.root / "client_key"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    def host(self, name: str) -> HostPaths:
        return HostPaths(self.root / "hosts" / name)


@dataclass(frozen=True)
class HostPaths:
    """The files of one lab host: sshd's own and the backing of its private paths."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "sshd_config"

    @property
    def host_key(self) -> Path:
        return self.root / "ssh_host_ed25519_key"

    @property
    def pid_file(self) -> Path:
        """sshd's pid as the controller sees it (written by the launcher)."""
        return self.root / "sshd.pid"

    @property
    def ready_file(self) -> Path:
        """sshd's own PidFile (its pid inside the namespace): present once sshd listens."""
        return self.root / "sshd.ready"

    @property
    def log(self) -> Path:
        return self.root / "sshd.log"

    @property
    def home(self) -> Path:
        """An empty HOME for SSH sessions (no slow shell start-up files)."""
        return self.root / "home"

    @property
    def fs(self) -> Path:
        return self.root / "fs"

    def backing(self, path: str) -> Path:
        """The controller-side directory behind ``path`` on this host.

        Raises ValueError when ``path`` is not under one of PRIVATE_PATHS
        (the host shares it with the controller).
        """
        if private_root(path) is None:
            raise ValueError(f"{path} is not a per-host path (per-host paths: {', '.join(PRIVATE_PATHS)})")
        relative = PurePosixPath(os.path.normpath(path)).relative_to("/")
        return self.fs / relative
