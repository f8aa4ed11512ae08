"""``ansible_connection: local``: the SSH connection's semantics on the controller."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time

import pytest

from titan_ops.connection import ConnectionOptions, HostAddress, LocalConnection, TransferError
from titan_ops.connection import local as local_connection
from titan_ops.connection.base import CommandInterrupted
from titan_ops.errors import CommandTimeout


@pytest.fixture
def local() -> LocalConnection:
    return LocalConnection(HostAddress(name="controller", hostname="localhost", connection="local"),
                           ConnectionOptions(command_timeout=30))


@pytest.fixture
def kill_grace(monkeypatch: pytest.MonkeyPatch) -> float:
    """A shorter grace between TERM and KILL (2 s in titan-ops) for the tests that wait it out: the same
    steps, in half the time."""
    monkeypatch.setattr(local_connection, "KILL_GRACE", 1.0)
    return local_connection.KILL_GRACE


def test_list_items_arrive_as_data(local, tmp_path):
    items = ["a b", "c'd", "g;h", f"$(touch {tmp_path}/pwned)", "x\ny", "*"]
    assert local.run(["printf", "[%s]\\n", *items]).stdout == "".join(f"[{i}]\n" for i in items)
    assert not (tmp_path / "pwned").exists()


def test_string_runs_through_the_shell(local):
    result = local.run("echo $((1 + 2)); echo oops >&2; exit 4")
    assert (result.rc, result.stdout, result.stderr) == (4, "3\n", "oops\n")


def test_stdin_env_and_cwd(local, tmp_path):
    assert local.run(["cat"], stdin="héllo").stdout == "héllo"
    assert local.run(["wc", "-c"], stdin=b"\x00" * 300000).stdout.strip() == "300000"
    assert local.run(["cat"]).stdout == ""
    result = local.run(["sh", "-c", 'printf "%s|%s" "$A" "$PWD"'], env={"A": "x $(y)"}, cwd=str(tmp_path))
    assert result.stdout == f"x $(y)|{tmp_path}"


def test_output_written_before_the_command_exits_is_never_lost(local, monkeypatch):
    """A command that answers its input and exits while the reader is still busy writing that input (here:
    held up once the input is written, as a loaded machine does): its answer is read, not cut off because
    the exit was seen in a round that only wrote input."""
    send = local_connection._Input.send

    def slow_send(self: local_connection._Input) -> bool:
        more = send(self)
        if not more:
            time.sleep(0.3)  # the command reads its input to the end, answers and exits meanwhile
        return more

    monkeypatch.setattr(local_connection._Input, "send", slow_send)
    assert local.run(["wc", "-c"], stdin=b"\0" * 300000).stdout.strip() == "300000"
    assert local.run(["cat"], stdin="héllo").stdout == "héllo"


def test_a_background_process_holding_the_output_does_not_hold_the_command(local, tmp_path):
    """As ansible-core's run_command: once the command exited, its output is read while it keeps coming
    and ends after a quiet second, not when a background process it left (still running) closes it."""
    marker = f"{secrets.randbelow(10**6) + 10**6}"
    pid = tmp_path / "pid"
    try:
        result = local.run(f"(sleep 0.2; echo late; echo err >&2) & sleep {marker} & echo $! > {pid}; echo early",
                           timeout=10)
        assert (result.rc, result.stdout, result.stderr) == (0, "early\nlate\n", "err\n")
        assert live(f"sleep {marker}")
    finally:
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGKILL)
    assert local.run(["true"], stdin=b"\0" * 300000).rc == 0  # input it never reads


def live(marker: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if marker in line and not line.strip().startswith("Z")]


def test_timeout_ends_the_process_group(local, kill_grace):
    marker = f"{secrets.randbelow(10**6) + 10**6}"  # unique: other test runs may share this machine
    with pytest.raises(CommandTimeout, match="timed out after 0.5s"):
        local.run(f"sleep {marker}1 & trap '' TERM; sleep {marker}2", timeout=0.5)
    assert live(f"sleep {marker}") == []


def test_timeout_gives_the_group_its_grace_when_the_leader_is_gone(local, tmp_path, kill_grace):
    """TERM ends the group's leader at once; a process that cleans up on TERM still gets its grace
    before KILL, as with interrupt and over SSH."""
    cleaned = tmp_path / "cleaned"
    with pytest.raises(CommandTimeout):
        local.run(f"(trap 'sleep 0.3; echo yes > {cleaned}; exit 1' TERM; sleep 30 & wait) & wait", timeout=0.5)
    assert cleaned.read_text() == "yes\n"


ORPHANED_ZOMBIES = """
import ctypes, os, signal, subprocess, sys
from titan_ops.connection.local import _group_left

ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans become ours
leader = subprocess.Popen(["/bin/sh", "-c", "sleep 30 & echo $!; sleep 30 & echo $!; wait"],
                          stdout=subprocess.PIPE, text=True, start_new_session=True)
orphans = [int(leader.stdout.readline()) for _ in range(2)]
running = _group_left(leader.pid)
os.killpg(leader.pid, signal.SIGKILL)
leader.wait()
for orphan in orphans:  # each a zombie now, never reaped (as under a first process that does not reap)
    os.waitid(os.P_PID, orphan, os.WEXITED | os.WNOWAIT)
print(running, _group_left(leader.pid))
"""


def test_a_group_of_zombies_that_no_one_reaps_has_ended():
    """Processes of a command's group that ended after the command's shell are zombies until the system's
    first process reaps them, late or never in some containers: the group has ended all the same (a timeout
    waited the whole grace for them)."""
    done = subprocess.run([sys.executable, "-c", ORPHANED_ZOMBIES], capture_output=True, text=True, timeout=60)
    assert (done.stdout, done.stderr) == ("True False\n", "")


def test_interrupt_ends_the_running_process_groups(local, kill_grace):
    marker = f"{secrets.randbelow(10**6) + 10**6}"  # unique: other test runs may share this machine
    raised: list[BaseException] = []

    def command() -> None:
        try:
            local.run(f"sleep {marker}1 & (trap '' TERM; exec sleep {marker}1) & sleep {marker}2")
        except CommandInterrupted as error:
            raised.append(error)

    worker = threading.Thread(target=command)
    worker.start()
    while len(live(f"sleep {marker}")) < 3:
        time.sleep(0.05)
    local.interrupt()
    worker.join(10)
    assert not worker.is_alive() and "interrupted" in str(raised[0])
    deadline = time.monotonic() + 5
    while live(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live(f"sleep {marker}") == []


def test_put_is_atomic_with_mode_and_get(local, tmp_path):
    target = tmp_path / "engine.conf"
    local.put(b"one", str(target), 0o600)
    assert target.read_bytes() == b"one" and target.stat().st_mode & 0o7777 == 0o600
    local.put(b"two", str(target))
    assert local.get(str(target)) == b"two" and target.stat().st_mode & 0o7777 == 0o600
    local.put(b"new", str(tmp_path / "fresh"))
    assert (tmp_path / "fresh").stat().st_mode & 0o7777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engine.conf", "fresh"]


def test_put_and_get_failures(local, tmp_path):
    with pytest.raises(TransferError, match="cannot write"):
        local.put(b"x", str(tmp_path / "missing" / "f"))
    with pytest.raises(TransferError, match="cannot read"):
        local.get(str(tmp_path / "absent"))
