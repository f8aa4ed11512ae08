"""An interrupted run loses nothing and leaves nothing behind (issue 12 §3, the engine and file side).

A real controller process (the CLI, or a script calling the API's ``put()``) is killed with SIGKILL,
SIGTERM or SIGINT while it writes a large file to a lab host; the host's file must be the old one or
the new one, never a part, and no ``.NAME.titan-ops-*`` temp file may stay. SIGTERM ends a run as
Ctrl-C does: remote commands ended, recap printed, incident timeline written.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from titan_ops.lab import Lab

SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]
BIG = 8 << 20
"""Larger than the SSH window, so that a write is in its middle when the controller is stopped."""
OLD = b"the old content\n"


def temp_files(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.titan-ops-*"))


def writers_of(path: Path) -> list[int]:
    """The processes (of any lab host) that hold ``path`` open."""
    wanted = path.stat()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for descriptor in (entry / "fd").iterdir():
                info = descriptor.stat()
                if (info.st_dev, info.st_ino) == (wanted.st_dev, wanted.st_ino):
                    found.append(int(entry.name))
                    break
        except OSError:
            continue  # gone, or not ours to look at
    return found


def kill_mid_transfer(process: subprocess.Popen, folder: Path, name: str, sig: signal.Signals, size: int) -> None:
    """Send ``sig`` to ``process`` in the middle of its write of ``size`` bytes to ``name``.

    As soon as a temp file of ``name`` has content, the process is stopped, the host's writer of the temp
    file found and stopped too, and the process let go on: it fills the SSH window and waits, the
    transfer surely unfinished. The temp file must be private and incomplete. Then ``sig`` goes to the
    process and, once it has ended, the host's writer is let go on too.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for temp in temp_files(folder, name):
            try:
                if temp.stat().st_size == 0:
                    continue
                process.send_signal(signal.SIGSTOP)
                writers = writers_of(temp)
                info = temp.stat()
            except FileNotFoundError:
                continue
            assert writers and info.st_mode & 0o777 == 0o600 and 0 < info.st_size < size
            for writer in writers:
                os.kill(writer, signal.SIGSTOP)
            process.send_signal(signal.SIGCONT)
            process.send_signal(sig)
            process.wait(240)
            for writer in writers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(writer, signal.SIGCONT)
            ending = time.monotonic() + 30  # the host's side of the write ends, or is ended
            while temp_files(folder, name) and time.monotonic() < ending:
                time.sleep(0.02)
            return
        time.sleep(0.002)
    raise AssertionError(f"no temp file of {name} seen with content (the process ended with {process.poll()})")


@pytest.fixture
def area(lab: Lab, request) -> tuple[str, Path]:
    """A fresh folder on lab1 (path as the host sees it, and its backing folder on the controller)."""
    remote = f"/srv/titan/interrupted-{request.node.name.replace('[', '-').strip(']')}"
    backing = lab.host_path("lab1", remote)
    backing.mkdir(parents=True, exist_ok=True)
    return remote, backing


PUT_SCRIPT = """
import sys
from titan_ops.connection import ConnectionOptions, SSHConnection
from titan_ops.connection.base import HostAddress
address = HostAddress(name="lab1", hostname="127.0.0.1", port=int(sys.argv[1]), user="root",
                      key_file=sys.argv[2], known_hosts_file=sys.argv[3])
SSHConnection(address, ConnectionOptions()).put(b"n" * int(sys.argv[5]), sys.argv[4])
print("put done")
"""


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_put_killed_mid_transfer_leaves_the_old_file_and_no_temp(lab, area, sig):
    remote, backing = area
    (backing / "state.bin").write_bytes(OLD)
    process = subprocess.Popen([sys.executable, "-c", PUT_SCRIPT, str(lab.host("lab1").port), str(lab.client_key_path),
                                str(lab.known_hosts_path), f"{remote}/state.bin", str(BIG)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        kill_mid_transfer(process, backing, "state.bin", sig, BIG)
    finally:
        process.kill()
    assert temp_files(backing, "state.bin") == []
    assert (backing / "state.bin").read_bytes() in (OLD, b"n" * BIG)


def _playbook(tmp_path: Path, module: str, remote: str) -> tuple[Path, bytes]:
    """A playbook writing ``remote``/target with ``module`` (a large new content), and that content."""
    line = "a line of the new content, long enough to make the file large quickly, with few lines (a template's "\
           "range is bounded): %06d\n"
    count = BIG // len(line % 0)
    new = "".join(line % number for number in range(count)).encode()
    (tmp_path / "big.txt").write_bytes(new)
    template = "{%% for number in range(%d) %%}%s{%% endfor %%}" % (count, line.replace("%06d", "{{ '%06d' % number }}"))
    (tmp_path / "big.j2").write_text(template)
    task = {
        "copy": f"copy: {{src: {tmp_path}/big.txt, dest: {remote}/target, mode: '0644'}}",
        "template": f"template: {{src: {tmp_path}/big.j2, dest: {remote}/target}}",
        "lineinfile": f"lineinfile: {{path: {remote}/target, regexp: '^the old', line: 'the new content'}}",
    }[module]
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(f"""
        - hosts: lab1
          gather_facts: false
          tasks:
            - {task}
        """))
    return playbook, new


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
@pytest.mark.parametrize("module", ["copy", "template", "lineinfile"])
def test_cli_killed_mid_write_leaves_old_or_new_and_no_temp(lab, area, tmp_path, module, sig):
    remote, backing = area
    playbook, new = _playbook(tmp_path, module, remote)
    if module == "lineinfile":  # it rewrites a large file, changing its first line
        old, expected_new = OLD + new, b"the new content\n" + new
    else:
        old, expected_new = OLD, new
    (backing / "target").write_bytes(old)
    process = subprocess.Popen([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i", str(lab.inventory_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        kill_mid_transfer(process, backing, "target", sig, len(expected_new))
    finally:
        process.kill()
    assert temp_files(backing, "target") == []
    assert (backing / "target").read_bytes() in (old, expected_new)


def test_the_next_write_removes_temp_files_of_dead_writers_only(lab, area, tmp_path):
    """A writer killed outright (its host crashed, say) leaves its temp file: the next write of the same
    path removes it; a temp file whose writer still runs (here pid 1 of the host, its sshd) stays."""
    remote, backing = area
    dead_pid = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # no process can have it
    dead = backing / f".target.titan-ops-{dead_pid}-0123456789ab"
    alive = backing / ".target.titan-ops-1-0123456789ab"
    other = backing / f".other.titan-ops-{dead_pid}-0123456789ab"
    for stale in (dead, alive, other):
        stale.write_bytes(b"a part")
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"- hosts: lab1\n  gather_facts: false\n  tasks:\n"
                        f"    - copy: {{content: \"fresh\\n\", dest: {remote}/target}}\n")
    done = subprocess.run([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i", str(lab.inventory_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (backing / "target").read_text() == "fresh\n"
    assert not dead.exists() and alive.exists() and other.exists()


def test_sigterm_ends_remote_commands_prints_the_recap_and_records_the_run(lab, tmp_path):
    """SIGTERM is handled as Ctrl-C: what runs on the hosts (a command, a child it put in the
    background, and one that ignores TERM) is ended, the recap is printed, and the incident timeline
    has the run."""
    marker = "83.17"
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(f"""
        - hosts: lab
          gather_facts: false
          tasks:
            - shell: sleep {marker} & (trap '' TERM; exec sleep {marker}) & sleep {marker}
            - command: echo never reached
        """))

    def running() -> list[str]:
        return subprocess.run(["pgrep", "-x", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout.split()

    incidents = tmp_path / "incidents"
    run = subprocess.Popen([sys.executable, "-m", "titan_ops", "run", str(playbook), "-i", str(lab.inventory_path),
                            "--incident", "INC-TERM", "--incident-dir", str(incidents)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(running()) < 3 * len(lab.hosts) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(running()) == 3 * len(lab.hosts)
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 99, stderr
    assert "PLAY RECAP" in stdout and "never reached" not in stdout and "Traceback" not in stderr
    assert "interrupted" in stdout
    deadline = time.monotonic() + 5
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running() == []
    entries = [json.loads(line) for line in (incidents / "INC-TERM" / "timeline.jsonl").read_text().splitlines()]
    runs = [entry for entry in entries if entry.get("kind") == "run"]
    assert len(runs) == 1 and runs[0]["outcome"]["interrupted"] is True
    assert runs[0]["outcome"]["exit_code"] == 99


def test_sigterm_ends_a_local_run_too(tmp_path):
    """The API's run (in the main thread, SIGTERM at its default) turns SIGTERM into an interrupted result."""
    script = tmp_path / "script.py"
    marker = f"{os.getpid() % 1000}.{time.time_ns() % 1000 + 1}"
    (tmp_path / "inventory.yml").write_text("all:\n  hosts:\n    here: {ansible_connection: local}\n")
    (tmp_path / "play.yml").write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n"
                                       f"    - shell: sleep {marker} & sleep {marker}\n")
    script.write_text(textwrap.dedent(f"""
        import titan_ops
        result = titan_ops.run({str(tmp_path / 'play.yml')!r}, {str(tmp_path / 'inventory.yml')!r})
        print("interrupted" if result.interrupted else "finished", result.exit_code)
        """))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)

    def running() -> list[str]:
        return subprocess.run(["pgrep", "-x", "-f", f"sleep {marker}"], capture_output=True, text=True).stdout.split()

    try:
        deadline = time.monotonic() + 30
        while len(running()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert stdout.split() == ["interrupted", "99"], stderr
    deadline = time.monotonic() + 5
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running() == []
