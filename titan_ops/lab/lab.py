"""Bring a lab of local SSH hosts up, report on it, take it down."""

from __future__ import annotations

import fcntl
import json
import os
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

import yaml

from titan_ops.connection.base import HostAddress
from titan_ops.lab import sshd
from titan_ops.lab.keys import ensure_key_pair
from titan_ops.lab.paths import PRIVATE_PATHS, LabPaths, default_directory
from titan_ops.lab.ports import port_free
from titan_ops.lab.sshd import LabError

PORT_RANGE = range(20000, 30000)  # below Linux's ephemeral ports (32768 and up)
START_TIMEOUT = 20.0
START_TIMEOUT_PER_HOST = 0.05  # a thousand hosts launched at once on a busy machine take their time
PORT_ATTEMPTS = 10
USER = "root"
HOSTNAME = "127.0.0.1"


@dataclass(frozen=True)
class LabHost:
    """One lab host: its inventory name, sshd port and pid (None when not running)."""

    name: str
    port: int
    pid: int | None = None

    @property
    def alive(self) -> bool:
        return self.pid is not None


class Lab:
    """A lab directory and the hosts recorded in it."""

    def __init__(self, directory: Path, hosts: list[LabHost]):
        self.directory = directory
        self.hosts = hosts
        self._paths = LabPaths(directory)

    @property
    def inventory_path(self) -> Path:
        return self._paths.inventory

    @property
    def known_hosts_path(self) -> Path:
        return self._paths.known_hosts

    @property
    def client_key_path(self) -> Path:
        return self._paths.client_key

    def host(self, name: str) -> LabHost:
        """The host called ``name``; KeyError if the lab has none."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def host_path(self, name: str, path: str) -> Path:
        """The controller-side file behind ``path`` as host ``name`` sees it (``path`` under PRIVATE_PATHS)."""
        self.host(name)
        return self._paths.host(name).backing(path)

    def address(self, name: str) -> HostAddress:
        """How to reach host ``name`` (what its inventory entry says)."""
        return HostAddress(
            name=name, hostname=HOSTNAME, port=self.host(name).port, user=USER,
            key_file=str(self.client_key_path), known_hosts_file=str(self.known_hosts_path),
        )

    def log_path(self, name: str) -> Path:
        """The sshd log of host ``name``."""
        return self._paths.host(name).log


def up(hosts: int = 3, directory: str | os.PathLike[str] | None = None) -> Lab:
    """Make sure hosts lab1..labN run; start the missing ones (in parallel) and write the inventory.

    Hosts already running are reused. Running hosts beyond N stay (and stay in
    the inventory): `up` never stops anything; to shrink, `down` then `up`.
    """
    if hosts < 1:
        raise LabError("a lab needs at least one host")
    if os.geteuid() != 0:
        raise LabError("the lab needs root: each host gets its own mount namespace")
    binary = sshd.find_sshd()
    version = sshd.sshd_version(binary)
    paths = LabPaths(_resolve(directory))
    paths.root.mkdir(parents=True, exist_ok=True)
    with _locked(paths):
        recorded = _load_state(paths)
        wanted = {f"lab{number}" for number in range(1, hosts + 1)}
        ports = {name: port for name, port in recorded.items()
                 if name in wanted or sshd.running_pid(paths.host(name)) is not None}
        ports.update({name: recorded.get(name, 0) for name in wanted})
        client_key = ensure_key_pair(paths.client_key, "titan-ops-lab-client")
        paths.authorized_keys.write_text(client_key + "\n")
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        stopped = [name for name in ports if sshd.running_pid(paths.host(name)) is None]
        try:
            _start(binary, version, paths, stopped, ports)
        except BaseException:
            for name in stopped:  # leave nothing half-started behind
                sshd.stop(paths.host(name))
            raise
        finally:
            _save_state(paths, ports)
        lab = _snapshot(paths, ports)
        _write_known_hosts(paths, lab)
        _write_inventory(paths, lab)
    return lab


def status(directory: str | os.PathLike[str] | None = None) -> Lab:
    """The lab's hosts with the pid of each running sshd (None when it is not running)."""
    paths = LabPaths(_resolve(directory))
    return _snapshot(paths, _load_state(paths))


def down(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Stop the sshd of every lab host (by its pid file); return the names stopped. Removes no file."""
    paths = LabPaths(_resolve(directory))
    if not paths.state.exists():
        return []
    with _locked(paths):
        return [name for name in _load_state(paths) if sshd.stop(paths.host(name))]


def _resolve(directory: str | os.PathLike[str] | None) -> Path:
    return Path(directory).expanduser().absolute() if directory is not None else default_directory()


@contextmanager
def _locked(paths: LabPaths) -> Iterator[None]:
    """Serialize `up` and `down` on one lab directory."""
    with open(paths.lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _load_state(paths: LabPaths) -> dict[str, int]:
    """Host name -> port, as last recorded (0: no port yet)."""
    try:
        recorded = json.loads(paths.state.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise LabError(f"{paths.state}: unreadable lab state: {error}") from None
    return {host["name"]: int(host["port"]) for host in recorded["hosts"]}


def _save_state(paths: LabPaths, ports: dict[str, int]) -> None:
    hosts = [{"name": name, "port": ports[name]} for name in _ordered(ports)]
    temporary = paths.state.with_suffix(".tmp")
    temporary.write_text(json.dumps({"hosts": hosts}, indent=2) + "\n")
    temporary.replace(paths.state)


def _ordered(names: dict[str, int] | list[str]) -> list[str]:
    """lab1, lab2, ..., lab10 (numeric order)."""
    return sorted(names, key=lambda name: (len(name), name))


def _snapshot(paths: LabPaths, ports: dict[str, int]) -> Lab:
    hosts = [LabHost(name, ports[name], sshd.running_pid(paths.host(name))) for name in _ordered(ports)]
    return Lab(paths.root, hosts)


def _start(binary: str, version: tuple[int, int], paths: LabPaths, names: list[str], ports: dict[str, int]) -> None:
    """Start the sshd of each host in ``names``, picking a free port for any whose port is taken."""
    for name in names:
        host = paths.host(name)
        host.root.mkdir(parents=True, exist_ok=True)
        host.home.mkdir(exist_ok=True)
        ensure_key_pair(host.host_key, f"titan-ops-lab-{name}")
        sshd.prepare_mount_points(host, paths.root)
    pending = list(names)
    for _attempt in range(PORT_ATTEMPTS):  # another process may take a port between our probe and sshd's bind
        _assign_ports(pending, ports, _first_port(paths))
        pending = _launch_all(binary, version, paths, pending, ports)
        if not pending:
            return
    raise LabError(f"no free port found for {', '.join(pending)}")


def _first_port(paths: LabPaths) -> int:
    """Where this lab directory starts looking for ports: its own region, so labs rarely race for one."""
    return PORT_RANGE.start + zlib.crc32(str(paths.root).encode()) % len(PORT_RANGE)


def _assign_ports(names: list[str], ports: dict[str, int], first: int) -> None:
    """Keep each host's recorded port while it is free; give the others the next free ports from ``first``."""
    taken = {port for name, port in ports.items() if name not in names}
    candidates = (PORT_RANGE.start + (first - PORT_RANGE.start + step) % len(PORT_RANGE)
                  for step in range(len(PORT_RANGE)))
    for name in names:
        if not (ports[name] and ports[name] not in taken and port_free(ports[name])):
            free = next((port for port in candidates if port not in taken and port_free(port)), None)
            if free is None:
                raise LabError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1} for {name}")
            ports[name] = free
        taken.add(ports[name])


def _launch_all(binary: str, version: tuple[int, int], paths: LabPaths, names: list[str],
                ports: dict[str, int]) -> list[str]:
    """Launch the hosts in parallel and wait until each listens; return those that lost their port."""
    offsets = {}
    for name in names:
        host = paths.host(name)
        host.config.write_text(sshd.render_config(host, paths, ports[name], version))
        host.pid_file.unlink(missing_ok=True)
        host.ready_file.unlink(missing_ok=True)
        offsets[name] = host.log.stat().st_size if host.log.exists() else 0
        sshd.launch(binary, version, name, host, paths.root)
    waiting = set(names)
    port_lost: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT + START_TIMEOUT_PER_HOST * len(names)
    while waiting:
        for name in list(waiting):
            host = paths.host(name)
            pid = sshd.read_pid(host)
            if pid is not None and host.ready_file.exists() and sshd.is_running(host, pid):
                waiting.discard(name)
                continue
            log = _log_since(host.log, offsets[name])
            if "Address already in use" in log or "Cannot bind any address" in log:
                waiting.discard(name)
                port_lost.append(name)
            elif (pid is not None and not sshd.is_alive(pid)) or time.monotonic() > deadline:
                raise LabError(f"{name}: sshd did not start: {_last_line(log) or 'no pid file'} (log: {host.log})")
        if waiting:
            time.sleep(0.01)
    return port_lost


def _log_since(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _write_known_hosts(paths: LabPaths, lab: Lab) -> None:
    lines = []
    for host in lab.hosts:
        key = paths.host(host.name).host_key.with_name("ssh_host_ed25519_key.pub").read_text().split()
        lines.append(f"[{HOSTNAME}]:{host.port} {key[0]} {key[1]}")
    paths.known_hosts.write_text("\n".join(lines) + "\n")


def _write_inventory(paths: LabPaths, lab: Lab) -> None:
    hosts = {
        host.name: {
            "ansible_host": HOSTNAME,
            "ansible_port": host.port,
            "ansible_user": USER,
            "ansible_ssh_private_key_file": str(paths.client_key),
            "ansible_ssh_known_hosts_file": str(paths.known_hosts),
            "lab_private_paths": list(PRIVATE_PATHS),
            "titan_lab": True,
        }
        for host in lab.hosts
    }
    document = {"all": {"children": {"lab": {"hosts": hosts}}}}
    header = "# Written by `titan-ops lab up`; rewritten on every run.\n"
    paths.inventory.write_text(header + yaml.safe_dump(document, sort_keys=False))
