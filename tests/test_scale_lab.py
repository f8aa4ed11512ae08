"""A hundred lab hosts on one controller: what holds at 10 holds here (the 1,000-host runs are in bench/).

File descriptors and threads grow with hosts by the persistent connection only (its socket and
paramiko's transport thread), forks above the host count start no more than the hosts need, SSH
handshakes are taken a few dozen at a time, a host slow to answer costs its own timeout and nothing
else, and Ctrl-C ends what runs on every host.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import fabric
import pytest

import titan_ops
from tests.interrupt_support import interrupt_run
from titan_ops import lab as lab_api
from titan_ops.connection import ssh

pytestmark = pytest.mark.lab

HOSTS = 100
SMALL = 20


@pytest.fixture(scope="module")
def big_lab(tmp_path_factory):
    directory = tmp_path_factory.mktemp("big-lab")
    try:
        yield lab_api.up(hosts=HOSTS, directory=directory)
    finally:
        lab_api.down(directory)


def _inventory(big_lab, hosts: int, directory: Path) -> Path:
    """The big lab's inventory cut to its first ``hosts`` hosts."""
    import yaml

    document = yaml.safe_load(Path(big_lab.inventory_path).read_text())
    entries = document["all"]["children"]["lab"]["hosts"]
    kept = {name: entries[name] for name in list(entries)[:hosts]}
    path = directory / f"inventory-{hosts}.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"lab": {"hosts": kept}}}}, sort_keys=False))
    return path


def _playbook(directory: Path) -> Path:
    path = directory / "play.yml"
    path.write_text(
        "- hosts: lab\n  gather_facts: false\n  tasks:\n"
        "    - file: {path: /srv/titan/scale, state: directory}\n"
        "    - copy: {content: \"{{ inventory_hostname }}\\n\", dest: /srv/titan/scale/name}\n"
        "    - stat: {path: /srv/titan/scale/name}\n")
    return path


class Peaks(threading.Thread):
    """The most open file descriptors and threads this process had while running, and the threads it had
    before (``baseline``: pytest-xdist's worker, for one, has threads of its own)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.fds = self.threads = 0
        self.baseline = len(os.listdir("/proc/self/task"))
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.fds = max(self.fds, len(os.listdir("/proc/self/fd")))
            self.threads = max(self.threads, len(os.listdir("/proc/self/task")))
            self._halt.wait(0.005)

    def __enter__(self) -> Peaks:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._halt.set()
        self.join()


def _peaks(playbook: Path, inventory: Path, forks: int) -> tuple[Peaks, titan_ops.RunResult]:
    with Peaks() as peaks:
        result = titan_ops.run(playbook, inventory, forks=forks)
    return peaks, result


def test_fds_and_threads_grow_with_hosts_by_the_connection_alone(big_lab, tmp_path):
    """From 20 to 100 hosts at the same forks, a host adds its connection: one socket, and paramiko's
    one transport thread. Anything else held per host (a pipe per channel, a thread per command, a
    file left open) fails this."""
    playbook = _playbook(tmp_path)
    small, small_result = _peaks(playbook, _inventory(big_lab, SMALL, tmp_path), forks=5)
    large, large_result = _peaks(playbook, _inventory(big_lab, HOSTS, tmp_path), forks=5)
    assert small_result.ok and large_result.ok
    added = HOSTS - SMALL
    assert large.fds - small.fds <= added + 5, (small.fds, large.fds)
    assert large.threads - small.threads <= added + 5, (small.threads, large.threads)


def test_forks_above_the_host_count_start_what_the_hosts_need(big_lab, tmp_path, monkeypatch):
    """-f 1000 on 100 hosts: no more worker threads than hosts, and the handshakes taken a few dozen at
    a time (all at once, on a loaded controller, they ran past the connect timeout)."""
    opening = 0
    most = 0
    lock = threading.Lock()
    real_open = fabric.Connection.open

    def counted_open(self):
        nonlocal opening, most
        with lock:
            opening += 1
            most = max(most, opening)
        try:
            return real_open(self)
        finally:
            with lock:
                opening -= 1

    monkeypatch.setattr(fabric.Connection, "open", counted_open)
    peaks, result = _peaks(_playbook(tmp_path), _inventory(big_lab, HOSTS, tmp_path), forks=1000)
    assert result.ok, result.unreachable_hosts + result.failed_hosts
    assert sorted(result.stats) == sorted(f"lab{n}" for n in range(1, HOSTS + 1))
    assert peaks.threads - peaks.baseline <= 2 * HOSTS + 10  # a worker and a transport per host, not 1,000
    assert 1 < most <= ssh.HANDSHAKES_AT_ONCE


def test_a_host_slow_to_answer_costs_its_own_timeout_only(big_lab, tmp_path):
    """One sshd stopped (it accepts TCP but never answers) among 99 that answer: that host is
    unreachable with the reason, and every other host runs the whole play."""
    slow = big_lab.host("lab37")
    os.kill(slow.pid, signal.SIGSTOP)
    try:
        result = titan_ops.run(_playbook(tmp_path), _inventory(big_lab, HOSTS, tmp_path), forks=HOSTS,
                               connect_timeout=3)
    finally:
        os.kill(slow.pid, signal.SIGCONT)
    assert result.unreachable_hosts == ["lab37"]
    message = result.host_results("lab37")[0].result["msg"]
    assert message.startswith("lab37 (root@127.0.0.1:") and message.split("): ", 1)[1], message
    assert not result.failed_hosts
    for host, stats in result.stats.items():
        if host != "lab37":
            assert stats.ok == 3, (host, stats)



def test_ctrl_c_at_scale_ends_what_runs_on_every_host(big_lab, tmp_path):
    marker = "91.73"  # an unusual duration, to find these processes and no others
    playbook = tmp_path / "long.yml"
    playbook.write_text(f"- hosts: lab\n  gather_facts: false\n  tasks:\n    - shell: sleep {marker}\n"
                        "    - command: echo never reached\n")

    interrupt_run(["run", str(playbook), "-i", str(_inventory(big_lab, HOSTS, tmp_path)), "-f", str(HOSTS)],
                  marker, HOSTS)
