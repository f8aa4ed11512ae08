"""Big files: the time and peak memory of copying a large file to a lab host and fetching it back.

    .venv/bin/python -m bench.big_file [--sizes 256,1024] [--lab-dir DIR] [--out FILE]

For each size (MiB) it writes a source file, then measures, each as its own
child process (wall time from spawn to exit, peak RSS from GNU time):

- ``copy``: ``titan-ops run`` of a playbook with one ``copy`` of the file to lab1,
- ``copy-unchanged``: the same run again (checksums only, nothing sent),
- ``fetch``: ``titan-ops run`` of one ``fetch`` of it back (flat, to a fresh file),
- ``api-put`` / ``api-get``: ``SSHConnection.put(LocalFile.read(path))`` and ``get_into``,
- ``floor``: OpenSSH's own ``ssh lab1 'cat > file' < file`` (what the transfer costs without titan-ops).

Every copy is checked (SHA-1) against the source. Needs what the lab needs (root, openssh-server)
and GNU time (``apt-get install time``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from titan_ops import lab as lab_api

REMOTE = "/srv/titan/bench-big"
GNU_TIME = "/usr/bin/time"
API = """
import sys
from titan_ops.connection import ConnectionOptions, SSHConnection
from titan_ops.connection.base import HostAddress
from titan_ops.connection.payload import LocalFile
action, port, key, known_hosts, local, remote = sys.argv[1:]
lab1 = SSHConnection(HostAddress(name="lab1", hostname="127.0.0.1", port=int(port), user="root", key_file=key,
                                 known_hosts_file=known_hosts), ConnectionOptions())
if action == "put":
    lab1.put(LocalFile.read(local), remote)
else:
    with open(local, "wb") as sink:
        lab1.get_into(remote, sink)
"""


def measure(command: list[str]) -> dict[str, float]:
    """Wall time and peak RSS of ``command`` run as a child process (which must succeed).

    The peak comes from GNU time (``/usr/bin/time``, Debian's ``time``): a child forked from this
    Python process would count this process's memory in its own peak until it execs.
    """
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.monotonic()
        done = subprocess.run([GNU_TIME, "-f", "%M", "-o", report.name, *command], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        seconds = time.monotonic() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command[:4])} ... failed: {done.stderr}")
        peak_kib = int(report.read().split()[-1])
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_kib / 1024, 1)}


def sha1(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha1").hexdigest()


def write_source(path: Path, mib: int) -> None:
    """``mib`` MiB that do not compress (so no layer can cheat)."""
    block = os.urandom(1 << 20)
    with path.open("wb") as handle:
        for index in range(mib):
            handle.write(hashlib.sha256(b"%d" % index).digest() + block[32:])


def playbook(folder: Path, name: str, task: str) -> Path:
    path = folder / f"{name}.yml"
    path.write_text(f"- hosts: lab1\n  gather_facts: false\n  tasks:\n    - {task}\n")
    return path


def run_size(bed: lab_api.Lab, work: Path, mib: int) -> dict[str, dict[str, float]]:
    source = work / f"source-{mib}.bin"
    write_source(source, mib)
    expected = sha1(source)
    backing = bed.host_path("lab1", REMOTE)
    backing.mkdir(parents=True, exist_ok=True)
    for old in backing.iterdir():
        old.unlink()
    titan = [sys.executable, "-m", "titan_ops", "run", "-i", str(bed.inventory_path)]
    host = bed.host("lab1")
    ssh = ["ssh", "-p", str(host.port), "-i", str(bed.client_key_path),
           "-o", f"UserKnownHostsFile={bed.known_hosts_path}", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
           "root@127.0.0.1"]

    def api(action: str, local: Path, remote: str) -> list[str]:
        return [sys.executable, "-c", API, action, str(host.port), str(bed.client_key_path), str(bed.known_hosts_path),
                str(local), remote]

    copy = playbook(work, "copy", f"copy: {{src: {source}, dest: {REMOTE}/copied.bin}}")
    fetch = playbook(work, "fetch", f"fetch: {{src: {REMOTE}/copied.bin, dest: {work}/fetched-{mib}.bin, flat: true}}")
    results = {
        "copy": measure([*titan, str(copy)]),
        "copy-unchanged": measure([*titan, str(copy)]),
        "fetch": measure([*titan, str(fetch)]),
        "api-put": measure(api("put", source, f"{REMOTE}/put.bin")),
        "api-get": measure(api("get", work / f"got-{mib}.bin", f"{REMOTE}/put.bin")),
        "floor": measure(["sh", "-c", f'exec "$@" < {source}', "sh", *ssh, f"cat > {REMOTE}/floor.bin"]),
    }
    for copy_path in (backing / "copied.bin", work / f"fetched-{mib}.bin", backing / "put.bin",
                      work / f"got-{mib}.bin", backing / "floor.bin"):
        if sha1(copy_path) != expected:
            raise SystemExit(f"{copy_path} differs from the source")
    for leftover in [source, work / f"fetched-{mib}.bin", work / f"got-{mib}.bin", *backing.iterdir()]:
        leftover.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="256,1024", help="file sizes in MiB, comma-separated")
    parser.add_argument("--lab-dir", default=os.environ.get("TITAN_OPS_LAB_DIR"), help="the lab's folder")
    parser.add_argument("--out", help="also write the results as JSON to this file")
    args = parser.parse_args()
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} is missing: apt-get install time")
    bed = lab_api.up(hosts=1, directory=args.lab_dir)
    results = {}
    with tempfile.TemporaryDirectory(prefix="titan-ops-big-") as work:
        for mib in (int(size) for size in args.sizes.split(",")):
            results[f"{mib} MiB"] = run_size(bed, Path(work), mib)
            print(f"{mib} MiB: " + json.dumps(results[f"{mib} MiB"]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
