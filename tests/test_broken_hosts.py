"""Broken hosts get a clear word, never a traceback (issue 12 §4).

Real misbehaving TCP servers on 127.0.0.1 (silent, closing at once, speaking HTTP, an SSH banner then
silence) and a controller out of file descriptors: one line per host naming what happened, the host
unreachable, the others finish, the recap and the exit code right (as ansible-core's, by the oracle).
"""

from __future__ import annotations

import os
import pwd
import resource
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.engine.results import Status
from tests.forked_cli import run_cli
from tests.oracle import QUIET_ENV, require_oracle

BEHAVIOURS = {
    "silent": None,
    "closes": b"",
    "http": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "banner": b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
}
"""What each server sends when a client connects (None: nothing, ever; b"": it closes at once)."""

CONNECT_TIMEOUT = 1
"""Seconds a host may stay silent (``-T``): the silent and the banner-only servers take that long each."""

EXPECTED = {
    "silent": f"the host accepted the connection but sent nothing for {CONNECT_TIMEOUT}s (no SSH banner)",
    "closes": "the host accepted the connection and closed it at once, without an SSH banner (no SSH server?)",
    "http": "not an SSH server: the host answered 'HTTP/1.1 400 Bad Request'",
    "banner": f"the host sent its SSH banner (SSH-2.0-OpenSSH_9.2p1 Debian-2) then nothing for {CONNECT_TIMEOUT}s "
              "(the key exchange timed out)",
}


class BrokenServer:
    """A TCP server on 127.0.0.1 that greets every client with ``greeting`` (see BEHAVIOURS)."""

    def __init__(self, greeting: bytes | None):
        self.greeting = greeting
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.greeting == b"":
                client.close()
                continue
            if self.greeting:
                client.sendall(self.greeting)
            self.clients.append(client)  # kept open, and never answered again

    def close(self) -> None:
        self.listener.close()
        for client in self.clients:
            client.close()


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Path]:
    """An inventory: a host per misbehaving server, and a healthy local host ``fine``."""
    servers = {name: BrokenServer(greeting) for name, greeting in BEHAVIOURS.items()}
    hosts = {name: {"ansible_host": "127.0.0.1", "ansible_port": server.port, "ansible_user": "root"}
             for name, server in servers.items()}
    hosts["fine"] = {"ansible_connection": "local"}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    try:
        yield inventory
    finally:
        for server in servers.values():
            server.close()


PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - command: echo one
    - command: echo two
"""


def test_each_broken_host_gets_one_line_and_the_others_finish(broken, tmp_path):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    result = titan_ops.run(playbook, broken, connect_timeout=CONNECT_TIMEOUT, forks=5)
    hosts = yaml.safe_load(broken.read_text())["all"]["hosts"]
    for name, reason in EXPECTED.items():
        [outcome] = result.host_results(name)
        assert outcome.status is Status.UNREACHABLE
        assert outcome.msg == f"{name} (root@127.0.0.1:{hosts[name]['ansible_port']}): {reason}"
    assert [r.status for r in result.host_results("fine")] == [Status.CHANGED, Status.CHANGED]
    assert result.exit_code == 4


def test_the_cli_prints_no_traceback_for_broken_hosts(broken, tmp_path):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    done = run_cli(["run", playbook, "-i", broken, "-T", str(CONNECT_TIMEOUT)])
    assert done.returncode == 4
    assert done.stderr == ""
    unreachable = [line for line in done.stdout.splitlines() if "UNREACHABLE!" in line]
    assert sorted(line.split("[")[1].split("]")[0] for line in unreachable) == sorted(EXPECTED)
    assert all(EXPECTED[line.split("[")[1].split("]")[0]] in line for line in unreachable)
    assert "PLAY RECAP" in done.stdout


# -- the controller out of file descriptors --------------------------------------------------------

def _many_aliases(lab, tmp_path: Path, count: int) -> Path:
    """An inventory of ``count`` hosts that are all lab1 (each one a connection of its own)."""
    lab1 = yaml.safe_load(Path(lab.inventory_path).read_text())["all"]["children"]["lab"]["hosts"]["lab1"]
    address = {key: value for key, value in lab1.items() if key.startswith("ansible_")}
    inventory = tmp_path / "many.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {f"n{number:03d}": address for number in range(count)}}}))
    return inventory


def _run_limited(playbook: Path, inventory: Path, soft: int, hard: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i", str(inventory), "-f", "20"],
                          capture_output=True, text=True, timeout=600,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))


def test_out_of_file_descriptors_makes_hosts_unreachable_with_one_line(lab, tmp_path):
    """200 hosts under a hard open-file limit of 128: the hosts that cannot get a socket are
    unreachable, each with a line saying why; the others finish; recap and exit code are right."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    done = _run_limited(playbook, _many_aliases(lab, tmp_path, 200), 128, 128)
    assert done.returncode == 4 and done.stderr == "", done.stderr[-3000:]
    recap = done.stdout.split("PLAY RECAP", 1)[1]
    finished = [line for line in recap.splitlines() if "ok=2 " in " ".join(line.split())]
    unreachable = [line for line in done.stdout.splitlines() if "UNREACHABLE!" in line]
    assert finished and unreachable and len(finished) + len(unreachable) == 200
    exhausted = "the controller ran out of open files (limit 128, hard limit 128)"
    assert any(exhausted in line for line in unreachable)
    assert all(exhausted in line or "timed out" in line for line in unreachable)  # a busy machine: timeouts too


HEARD_WITHOUT_DESCRIPTORS = """
import os
from titan_ops.connection.ssh import _what_was_heard

class Greeted:
    greeting, peer_closed = b"SSH-2.0-evil\\x1b[2J\\xff\\r\\n", False

held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass  # every descriptor taken: nothing can be loaded from disk now
print(_what_was_heard(Greeted(), 2))
"""


def test_what_a_host_said_is_named_when_no_descriptor_is_left():
    """The line for a host that sent a banner is built with no descriptor left (a codec loaded on first
    use made it a traceback), and a terminal's control bytes in it are escaped."""
    done = subprocess.run([sys.executable, "-c", HEARD_WITHOUT_DESCRIPTORS], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == ("the host sent its SSH banner (SSH-2.0-evil\\x1b[2J\\xff) then nothing for 2s "
                           "(the key exchange timed out)\n")


CONNECTED_WITHOUT_DESCRIPTORS = """
import os
from titan_ops.connection.base import HostAddress
from titan_ops.connection.identity import expand_home
from titan_ops.connection.pool import ConnectionPool
from titan_ops.errors import HostUnreachable

connection = ConnectionPool().get(HostAddress("gone", "127.0.0.1", port=9))
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass  # every descriptor taken: the password database cannot be read now
try:
    connection.transport
except HostUnreachable as error:
    print(error)
print(expand_home("~/.ssh/known_hosts"), os.environ.get("USER"), os.environ.get("HOME"))
"""


def test_no_descriptor_left_and_no_user_in_the_environment_is_one_line():
    """With USER, LOGNAME and HOME unset (as under some runners), paramiko and fabric look the user and
    home up in the password database for every connection: a KeyError traceback once descriptors ran out.
    The host is unreachable with one line; titan-ops's own lookups use the identity the pool looked up
    while descriptors were free, and the process's environment is left as it was."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("LOGNAME", "USER", "LNAME", "USERNAME", "HOME")}
    done = subprocess.run([sys.executable, "-c", CONNECTED_WITHOUT_DESCRIPTORS], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]
    unreachable, identity = done.stdout.splitlines()
    assert unreachable.startswith("gone (127.0.0.1:9): the controller ran out of open files"), unreachable
    assert identity == f"{pwd.getpwuid(os.getuid()).pw_dir}/.ssh/known_hosts None None"


def test_the_open_file_limit_is_raised_where_the_hard_limit_allows(lab, tmp_path):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    done = _run_limited(playbook, _many_aliases(lab, tmp_path, 200), 128, min(hard, 4096))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "UNREACHABLE!" not in done.stdout


# -- the exit code of failed and unreachable hosts, as ansible-core's ---------------------------------

EXIT_CASES = {
    "failed-and-unreachable": """
        - hosts: all
          gather_facts: false
          tasks:
            - command: "{{ 'false' if inventory_hostname == 'broken' else 'true' }}"
        """,
    "any-errors-fatal": """
        - hosts: all
          gather_facts: false
          any_errors_fatal: true
          tasks:
            - command: "{{ 'false' if inventory_hostname == 'broken' else 'true' }}"
            - command: "true"
        """,
    "max-fail-stops-the-run": """
        - hosts: gone,fine
          gather_facts: false
          tasks:
            - command: "true"
        - hosts: broken,fine
          gather_facts: false
          max_fail_percentage: 10
          tasks:
            - command: "{{ 'false' if inventory_hostname == 'broken' else 'true' }}"
        """,
    "unreachable-does-not-count-for-max-fail": """
        - hosts: gone,fine
          gather_facts: false
          max_fail_percentage: 10
          tasks:
            - command: "true"
            - command: "true"
        """,
}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Hosts: ``broken`` (fails its task), ``gone`` (a closed port: unreachable), ``fine``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    inventory = tmp_path / "mixed.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {
        "broken": {"ansible_connection": "local"}, "fine": {"ansible_connection": "local"},
        "gone": {"ansible_host": "127.0.0.1", "ansible_port": closed, "ansible_user": "root"}}}}))
    return inventory


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(EXIT_CASES))
def test_exit_code_and_recap_match_ansible(mixed, tmp_path, case):
    playbook = tmp_path / f"{case}.yml"
    playbook.write_text(textwrap.dedent(EXIT_CASES[case]))
    env = {**os.environ, **QUIET_ENV, "ANSIBLE_HOST_KEY_CHECKING": "False"}
    theirs = subprocess.run([str(require_oracle()), "-i", str(mixed), str(playbook)], capture_output=True, text=True,
                            env=env, timeout=300)
    ours = subprocess.run([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i", str(mixed),
                           "--no-host-key-checking"], capture_output=True, text=True, timeout=300)
    assert ours.returncode == theirs.returncode, theirs.stdout + ours.stdout

    def recap(stdout: str) -> list[str]:
        return sorted(" ".join(line.split()) for line in stdout.split("PLAY RECAP", 1)[1].splitlines() if " : " in line)

    assert recap(ours.stdout) == recap(theirs.stdout)
