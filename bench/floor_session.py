"""Below the per-command floor: the floor's 12 commands through one shell session per host.

``floor.py`` opens a channel per command, and with it a session in sshd and a shell
on the host: the floor of that design. Here each host gets one channel running
``/bin/sh`` for the whole run, and every command is written to its input, framed
so that its exit status and the end of its stdout and stderr can be told apart:

    { COMMAND
    } </dev/null; printf '\\036N %d\\n' $?; printf '\\036N\\n' >&2

(N numbers the commands of the session). The files are written with ``printf``
and their content quoted on the line, since the session's input is the shell's
script. No agent and no Python on the host. Prints the seconds spent after
start-up as JSON, as ``floor.py`` does.

    python floor_session.py HOSTS.json
"""

from __future__ import annotations

import re
import select
import shlex
import sys

import paramiko

from floor import BENCH_DIR, COMMANDS, aead_first, dial, drive, render

CHUNK = 1 << 16


class Session:
    """One ``/bin/sh`` on one channel; ``run`` sends a command and reads its framed outcome."""

    def __init__(self, client: paramiko.SSHClient):
        self.channel = client.get_transport().open_session()
        self.channel.exec_command("exec /bin/sh")
        self.number = 0
        self.stdout = bytearray()
        self.stderr = bytearray()

    def run(self, line: str) -> tuple[int, bytes, bytes]:
        self.number += 1
        number = self.number
        self.channel.sendall(f"{{ {line}\n}} </dev/null; printf '\\036{number} %d\\n' $?; "
                             f"printf '\\036{number}\\n' >&2\n".encode())
        status = re.compile(rb"\x1e%d (\d+)\n" % number)
        done = b"\x1e%d\n" % number
        while True:
            out, err = status.search(self.stdout), self.stderr.find(done)
            if out and err >= 0:
                rc, stdout, stderr = int(out.group(1)), bytes(self.stdout[:out.start()]), bytes(self.stderr[:err])
                del self.stdout[:out.end()]  # (the match reads the buffer: take what it found first)
                del self.stderr[:err + len(done)]
                return rc, stdout, stderr
            if self.channel.exit_status_ready() and not (self.channel.recv_ready() or
                                                          self.channel.recv_stderr_ready()):
                raise EOFError("the session's shell ended")
            select.select([self.channel], [], [], 1.0)
            while self.channel.recv_ready():
                self.stdout += self.channel.recv(CHUNK)
            while self.channel.recv_stderr_ready():
                self.stderr += self.channel.recv_stderr(CHUNK)

    def close(self) -> None:
        self.channel.close()


def write(path: str, content: bytes) -> str:
    """The line that writes ``content`` to ``path`` (content quoted: the session's input is its script)."""
    quoted = shlex.quote(content.decode())
    return f"printf '%s' {quoted} > {path} && chmod 644 {path}"


def work(host: dict, static: bytes) -> int:
    client = paramiko.SSHClient()
    client.load_host_keys(host["known_hosts"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(host["hostname"], port=host["port"], username=host["user"], key_filename=host["key"],
                   look_for_keys=False, allow_agent=False, timeout=30, sock=dial(host),
                   transport_factory=aead_first)
    failures = 0
    try:
        session = Session(client)
        lines = COMMANDS + [f"echo '{host['name']} ok'", f"mkdir -p -m 755 {BENCH_DIR}",
                            write(f"{BENCH_DIR}/bench.conf", static),
                            write(f"{BENCH_DIR}/app.conf", render(host["name"])),
                            f"stat -c '%s %Y %a' {BENCH_DIR}/app.conf"]
        for line in lines:
            failures += session.run(line)[0] != 0
        session.close()
    finally:
        client.close()
    return failures


if __name__ == "__main__":
    sys.exit(drive(work))
