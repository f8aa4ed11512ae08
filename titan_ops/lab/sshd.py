"""One lab host's OpenSSH daemon: its config, its start in a private mount namespace, its stop."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

from titan_ops.errors import TitanOpsError
from titan_ops.lab.paths import PRIVATE_PATHS, HostPaths, LabPaths

SESSION_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class LabError(TitanOpsError):
    """The lab cannot be brought up, inspected or stopped."""


def find_sshd() -> str:
    """The absolute path of sshd (sshd refuses to run from a relative one)."""
    found = shutil.which("sshd", path=f"/usr/sbin:/usr/local/sbin:/sbin:{os.environ.get('PATH', '')}")
    if found is None:
        raise LabError("sshd not found: install openssh-server (apt-get install -y openssh-server)")
    return os.path.abspath(found)


def sshd_version(sshd: str) -> tuple[int, int]:
    """OpenSSH's (major, minor), from ``sshd -V``."""
    output = subprocess.run([sshd, "-V"], capture_output=True, text=True).stderr
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", output)
    if match is None:
        raise LabError(f"{sshd} is not OpenSSH: {output.strip()}")
    return int(match.group(1)), int(match.group(2))


def render_config(host: HostPaths, lab: LabPaths, port: int, version: tuple[int, int]) -> str:
    """sshd_config for one host: loopback, key-only root login, a clean and fast session environment."""
    lines = [
        "# Written by titan-ops lab; rewritten on every `titan-ops lab up`.",
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {host.host_key}",
        f"PidFile {host.ready_file}",
        f"AuthorizedKeysFile {lab.authorized_keys}",
        "UsePAM no",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "AllowTcpForwarding yes",
        "X11Forwarding no",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        "MaxSessions 500",
        "MaxStartups 500:30:1000",
        # An empty HOME: bash started by sshd reads ~/.bashrc, whose slow
        # start-up code (pyenv and the like) would cost every command.
        f"SetEnv HOME={host.home} PATH={SESSION_PATH}",
        "Subsystem sftp internal-sftp",
        "LogLevel INFO",
    ]
    if version >= (9, 8):
        # Every lab client comes from 127.0.0.1: never lock it out.
        lines.append("PerSourcePenalties no")
    return "\n".join(lines) + "\n"


def bind_mounts(host: HostPaths, lab_root: Path) -> list[tuple[Path, str]]:
    """(source, target) bind mounts giving ``host`` its own PRIVATE_PATHS.

    When the lab directory lies under a private path (e.g. /tmp), it is first
    bound into the host's copy, so sshd still finds its files there.
    """
    mounts: list[tuple[Path, str]] = []
    for private in PRIVATE_PATHS:
        backing = host.backing(private)
        try:
            inner = lab_root.relative_to(private)
        except ValueError:
            inner = None
        if inner is not None:
            mounts.append((lab_root, str(backing / inner)))
        mounts.append((backing, private))
    return mounts


def prepare_mount_points(host: HostPaths, lab_root: Path) -> None:
    """Create the backing directories and the (empty) mount points they cover."""
    for source, target in bind_mounts(host, lab_root):
        Path(target).mkdir(parents=True, exist_ok=True)
        if source != lab_root:
            source.mkdir(parents=True, exist_ok=True)
    host.backing("/tmp").chmod(0o1777)


def launch(sshd: str, version: tuple[int, int], name: str, host: HostPaths, lab_root: Path) -> None:
    """Start sshd for ``host`` in its own mount, pid and UTS namespaces, in the background.

    sshd is the init of its pid namespace: it reaps orphans, ``ps`` on the host
    shows only that host's processes, and ending sshd ends all of them. The
    namespace init first records its pid as the controller sees it. Before
    OpenSSH 9.8, ``-r`` (no re-exec per connection) saves ~8 ms per connection.
    """
    steps = [
        "while read -r key value _; do if [ \"$key\" = NSpid: ]; then "
        f"echo \"$value\" > {shlex.quote(str(host.pid_file))}; break; fi; done < /proc/self/status",
        "mount -t proc proc /proc",
        f"hostname {shlex.quote(name)}",
        *(f"mount --rbind {shlex.quote(str(source))} {shlex.quote(target)}"
          for source, target in bind_mounts(host, lab_root)),
        f"exec {shlex.quote(sshd)} -D{' -r' if version < (9, 8) else ''}"
        f" -f {shlex.quote(str(host.config))} -E {shlex.quote(str(host.log))}",
    ]
    namespaces = ["unshare", "--mount", "--propagation", "private", "--uts", "--pid", "--fork", "--kill-child"]
    command = shlex.join([*namespaces, "/bin/sh", "-ec", "\n".join(steps)])
    with open(host.log, "ab") as log:
        subprocess.run(["/bin/sh", "-c", f"{command} &"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                       start_new_session=True, check=True)


def read_pid(host: HostPaths) -> int | None:
    """The pid in the host's pid file, if the file exists and holds one."""
    try:
        return int(host.pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def is_running(host: HostPaths, pid: int) -> bool:
    """Whether ``pid`` is a live sshd (or its launcher) started with this host's config."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(host.config).encode() in cmdline and is_alive(pid)


def running_pid(host: HostPaths) -> int | None:
    """The pid of this host's running sshd, or None."""
    pid = read_pid(host)
    return pid if pid is not None and is_running(host, pid) else None


def stop(host: HostPaths, grace: float = 5.0) -> bool:
    """Stop this host's sshd (TERM, then KILL after ``grace`` seconds); True if one was running."""
    pid = running_pid(host)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while is_running(host, pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.01)
    return True
