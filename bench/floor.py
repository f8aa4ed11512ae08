"""The floor: the cost of SSH itself, no framework.

Plain paramiko, one connection per host, a thread per host (as many threads
as hosts), each host's 12 commands run one after another on a channel each:
the same commands the workload's tasks boil down to (the copy and the
template are one ``cat >`` with the content on stdin). Prints the seconds
spent after start-up as JSON.

By default the TCP socket has Nagle's algorithm off and acknowledges at once
(TCP_NODELAY, TCP_QUICKACK after each read): sshd keeps Nagle on for
non-interactive sessions, so with paramiko's defaults each small reply waits
for Linux's delayed ACK, about 40 ms per command, which is not the cost of SSH
but of a socket setting. It also offers AES-GCM first, as titan-ops does: with
an AEAD cipher paramiko computes no HMAC in Python per packet, and lets an idle
transport thread wake every 2 s rather than paramiko's 0.1 s, as titan-ops does
(on a busy machine those wake-ups, a GIL hand-over each, cost more than the
commands). ``--naive`` keeps paramiko's defaults (that figure is reported as
``floor-naive``).

    python floor.py HOSTS.json [--naive]
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko

HERE = Path(__file__).resolve().parent
BENCH_DIR = "/srv/titan/bench"
COMMANDS = [
    "hostname",
    "uname -sr",
    "id -u",
    "date +%s",
    "df -P / | tail -n 1",
    "ps -e | wc -l",
    "ls -1 /opt/titan | wc -l",
]


def render(name: str) -> bytes:
    peers = "".join(f"peer.{i} = {peer}.{name}\n" for i, peer in enumerate(["alpha", "beta", "gamma"], 1))
    return (f"# rendered for {name}\n[service]\nhost = {name}\nport = 8080\ndir = {BENCH_DIR}\n{peers}").encode()


def run(client: paramiko.SSHClient, line: str, stdin: bytes | None = None) -> int:
    channel = client.get_transport().open_session()
    channel.exec_command(line)
    if stdin:
        channel.sendall(stdin)
    channel.shutdown_write()
    while not channel.eof_received:
        channel.recv(65536)
        if channel.recv_stderr_ready():
            channel.recv_stderr(65536)
    status = channel.recv_exit_status()
    channel.close()
    return status


QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class PromptSocket(socket.socket):
    """Acknowledges what it reads at once."""

    def recv(self, size: int, flags: int = 0) -> bytes:
        data = super().recv(size, flags)
        if QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        return data


def dial(host: dict) -> socket.socket:
    sock = PromptSocket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect((host["hostname"], host["port"]))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def aead_first(sock: socket.socket, **kwargs) -> paramiko.Transport:
    transport = paramiko.Transport(sock, **kwargs)
    transport.sock.settimeout(2.0)  # an idle transport thread wakes every 2 s, not 0.1 s, as in titan-ops
    options = transport.get_security_options()
    gcm = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
    options.ciphers = gcm + tuple(name for name in options.ciphers if name not in gcm)
    return transport


def work(host: dict, static: bytes, naive: bool) -> int:
    client = paramiko.SSHClient()
    client.load_host_keys(host["known_hosts"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(host["hostname"], port=host["port"], username=host["user"], key_filename=host["key"],
                   look_for_keys=False, allow_agent=False, timeout=30, sock=None if naive else dial(host),
                   transport_factory=None if naive else aead_first)
    failures = 0
    try:
        for line in COMMANDS + [f"echo '{host['name']} ok'"]:
            failures += run(client, line) != 0
        failures += run(client, f"mkdir -p -m 755 {BENCH_DIR}") != 0
        failures += run(client, f"cat > {BENCH_DIR}/bench.conf && chmod 644 {BENCH_DIR}/bench.conf", static) != 0
        failures += run(client, f"cat > {BENCH_DIR}/app.conf && chmod 644 {BENCH_DIR}/app.conf",
                        render(host["name"])) != 0
        failures += run(client, f"stat -c '%s %Y %a' {BENCH_DIR}/app.conf") != 0
    finally:
        client.close()
    return failures


def drive(work: Callable[[dict, bytes], int]) -> int:
    """``work(host, static file content)`` on every host of ``sys.argv[1]``, a thread per host; prints the
    seconds and the failed commands as JSON, returns the exit code."""
    start = time.monotonic()
    hosts = json.loads(Path(sys.argv[1]).read_text())
    static = (HERE / "workload" / "files" / "bench.conf").read_bytes()
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        failures = sum(pool.map(lambda host: work(host, static), hosts))
    print(json.dumps({"seconds": time.monotonic() - start, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    naive = "--naive" in sys.argv[2:]
    sys.exit(drive(lambda host, static: work(host, static, naive)))
