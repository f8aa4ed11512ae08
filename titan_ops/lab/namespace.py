"""Run a command inside a lab host: in its mount, pid and UTS namespaces (``nsenter``).

What starts there (PostgreSQL, Redis, pm2 and its apps) sees the host's own
``/opt/titan``, ``/var/lib/titan``, ... and shows up in the host's ``ps``;
it ends with the host when its sshd (the namespace's init) stops.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping

from titan_ops.lab.lab import Lab
from titan_ops.lab.sshd import SESSION_PATH, LabError


def run_in_host(lab: Lab, host: str, script: str, *, env: Mapping[str, str] | None = None,
                timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``/bin/sh -c`` inside ``host``, as root, with a clean environment.

    Output goes through a temporary file, not a pipe, so a daemon the script
    starts cannot keep this call waiting. With ``check``, a non-zero exit
    raises LabError with the script's output.
    """
    pid = lab.host(host).pid
    if pid is None:
        raise LabError(f"{host} is not running")
    environment = {"PATH": SESSION_PATH, "HOME": str(lab.directory / "hosts" / host / "home"), "LANG": "C.UTF-8",
                   **(env or {})}
    command = ["nsenter", f"--target={pid}", "--mount", "--uts", "--pid", "--", "/bin/sh", "-c", script]
    with tempfile.TemporaryFile(mode="w+") as output:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                              env=environment, cwd="/", timeout=timeout, text=True)
        output.seek(0)
        text = output.read()
    if check and done.returncode != 0:
        raise LabError(f"{host}: command failed (exit status {done.returncode}): {text.strip()[-2000:]}")
    return subprocess.CompletedProcess(command, done.returncode, text, "")
