"""Runs over a Dask distributed cluster: the same recaps, exit codes, host state and events as a local run.

Two kinds of cluster, each started once for the module: a LocalCluster (two worker
processes), and a real ``dask scheduler`` with two ``dask worker`` processes, all on
127.0.0.1. A worker killed mid-run, a scheduler that is not there, and secrets kept
off the scheduler are tested on clusters of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import titan_ops
from tests import cluster_support
from tests.interrupt_support import interrupt_run
from tests.oracle import titan_stats
from tests.test_differential import CASES, CASES_DIR, _clean, _snapshot
from titan_ops.connection.ssh import SSHConnection
from titan_ops.engine import events
from titan_ops.errors import ClusterError

class EventLog:
    """The events a run emits, each as the fields a renderer prints, progress left out (it is timing)."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.HostTaskDone):
            result = event.result
            self.events.append(("done", result.task, result.host, result.status.value, result.changed,
                                result.ignored, result.rescued, result.result.get("msg")))
        elif isinstance(event, events.TaskStarted):
            self.events.append(("task", event.name, event.module, event.hosts, event.handler))
        elif isinstance(event, events.PlayStarted):
            self.events.append(("play", event.name, event.hosts))
        elif isinstance(event, events.Included):
            self.events.append(("included", Path(event.path).name, event.hosts))
        elif not isinstance(event, events.TaskProgress):
            self.events.append((type(event).__name__,))

    def in_order(self) -> dict[str, Any]:
        """What must be alike between two runs of a playbook: the events in order between any two of them
        that concern no single host (plays, tasks), each host's own events in order, and all of them. A
        local run too emits the host results of a task (every task, with ``strategy: free``) as the hosts
        finish."""
        hosts = sorted({event[2] for event in self.events if event[0] == "done"})
        return {
            "all": sorted(self.events, key=repr),
            "shared": [event for event in self.events if event[0] != "done" and not _one_host(event)],
            **{host: [event for event in self.events if _concerns(event, host)] for host in hosts},
        }


def _one_host(event: tuple[Any, ...]) -> bool:
    return event[0] == "task" and len(event[3]) == 1


def _concerns(event: tuple[Any, ...], host: str) -> bool:
    if event[0] == "done":
        return event[2] == host
    if event[0] == "task":
        return host in event[3]
    return event[0] in ("play", "included") and host in event[-1]


@pytest.fixture(scope="module")
def distributed() -> ModuleType:
    """Dask's ``distributed`` (the cluster extra; its tests are skipped without it), imported by the tests that
    need a cluster only: not when the tests are collected (most of a second)."""
    return pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def local_cluster(distributed):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def dask_processes(distributed, tmp_path_factory):
    processes = cluster_support.start(tmp_path_factory.mktemp("dask"), workers=2)
    try:
        yield processes
    finally:
        processes.stop()


@pytest.fixture(scope="module")
def local_outcomes():
    """The local run of each case, once for the module."""
    return {}


def _outcome(lab, name: str, options: dict, cluster: Any = None) -> tuple[Any, ...]:
    _clean(lab)
    log = EventLog()
    result = titan_ops.run(CASES_DIR / name, lab.inventory_path, forks=3, subscribers=[log], cluster=cluster,
                           **options)
    files = _snapshot(lab)
    _clean(lab)
    return titan_stats(result), result.exit_code, files, log.in_order()


@pytest.fixture
def controller_without_ssh(monkeypatch):
    """A cluster run must not open one SSH connection on the controller: every host's lives on a worker."""
    def refuse(self):
        raise AssertionError(f"the controller opened an SSH connection to {self.address.name}")

    monkeypatch.setattr(SSHConnection, "_connect", refuse)


@pytest.mark.parametrize("kind", ["LocalCluster", "dask-processes"])
@pytest.mark.parametrize("name,options", CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_the_differential_corpus_runs_alike_on_a_cluster(request, lab, local_outcomes, kind, name, options):
    key = (name, repr(options))
    if key not in local_outcomes:
        local_outcomes[key] = _outcome(lab, name, options)
    address = (request.getfixturevalue("local_cluster") if kind == "LocalCluster"
               else request.getfixturevalue("dask_processes").address)
    request.getfixturevalue("controller_without_ssh")
    stats, code, files, log = _outcome(lab, name, options, cluster=address)
    local_stats, local_code, local_files, local_log = local_outcomes[key]
    assert stats == local_stats
    assert code == local_code
    assert files == local_files
    assert log == local_log


def test_secrets_reach_the_worker_but_never_the_scheduler_or_logs(lab, tmp_path, distributed, dask_processes,
                                                                 controller_without_ssh):
    """A secret in a task's environment and in a no_log task's arguments goes to the host's worker (the
    host gets it), but no task key or spec given to the scheduler, no event and no log line of the
    scheduler or the workers holds it."""
    from tests import cluster_plugins  # (it imports distributed)

    secret = "s3cr3t-" + "9f27c41e" * 3
    playbook = tmp_path / "secret.yml"
    playbook.write_text(
        "- hosts: lab\n  gather_facts: false\n  tasks:\n"
        "    - shell: mkdir -p /srv/titan/diff && printf %s \"$TITAN_TOKEN\" | wc -c > /srv/titan/diff/token\n"
        "      environment: {TITAN_TOKEN: '{{ api_token }}'}\n"
        "    - shell: printf %s '{{ api_token }}' | md5sum > /srv/titan/diff/digest\n"
        "      no_log: true\n")
    with distributed.Client(dask_processes.address, set_as_default=False) as observer:
        observer.register_plugin(cluster_plugins.GraphRecorder())
        try:
            _clean(lab)
            result = titan_ops.run(playbook, lab.inventory_path, forks=3, extra_vars={"api_token": secret},
                                   cluster=dask_processes.address)
            tokens = [lab.host_path(host, "/srv/titan/diff/token").read_text().strip() for host in lab_hosts()]
        finally:
            _clean(lab)
        given = observer.run_on_scheduler(lambda dask_scheduler: dask_scheduler.plugins[
            cluster_plugins.GraphRecorder.name].seen)
        shown = observer.run_on_scheduler(_scheduler_state) + repr(observer.get_worker_logs())
        observer.unregister_scheduler_plugin(cluster_plugins.GraphRecorder.name)
    assert result.exit_code == 0, result.to_dict()
    assert tokens == [str(len(secret))] * 3  # the secret did reach the hosts, through their workers
    assert [entry for entry in given if "titan-ops-shard-" in entry]  # the recorder saw the shards arrive
    assert not [entry for entry in given if secret in entry]
    assert secret not in shown
    assert secret not in dask_processes.log_text()


def lab_hosts() -> tuple[str, ...]:
    return ("lab1", "lab2", "lab3")


def _scheduler_state(dask_scheduler) -> str:  # noqa: ANN001 - run on the scheduler
    """What the scheduler shows of its tasks (its dashboard's sources): keys, transitions, events, logs."""
    return repr((list(dask_scheduler.tasks), list(dask_scheduler.transition_log), dask_scheduler.get_events(),
                 dask_scheduler.get_logs()))


def test_a_worker_lost_mid_run_makes_its_hosts_unreachable_and_the_rest_finishes(lab, tmp_path, distributed):
    playbook = tmp_path / "long.yml"
    playbook.write_text(
        "- hosts: lab\n  gather_facts: false\n  tasks:\n"
        "    - shell: touch /tmp/cluster-started; sleep 3; rm -f /tmp/cluster-started\n"
        "    - command: echo after\n")
    processes = cluster_support.start(tmp_path / "dask", workers=2)
    hosts = lab_hosts()

    def kill_when_started() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(lab.host_path(host, "/tmp/cluster-started").exists() for host in hosts):
                processes.workers[0].kill()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_when_started)
    killer.start()
    try:
        result = titan_ops.run(playbook, lab.inventory_path, forks=3, cluster=processes.address)
    finally:
        killer.join()
        processes.stop()
    assert processes.workers[0].returncode is not None
    lost = sorted(result.unreachable_hosts)
    assert lost and len(lost) < len(hosts), result.to_dict()
    for host in lost:
        message = result.host_results(host)[-1].result["msg"]
        assert "Dask worker" in message and "was lost" in message, message
        assert result.stats[host].unreachable == 1
    for host in set(hosts) - set(lost):
        assert (result.stats[host].ok, result.stats[host].failed) == (2, 0)
    assert result.exit_code == 4


def _cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "titan_ops", *argv], capture_output=True, text=True, timeout=120,
                          env=env)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_scheduler_that_is_not_there_starts_nothing(lab, tmp_path, monkeypatch):
    playbook = tmp_path / "touch.yml"
    playbook.write_text("- hosts: lab\n  gather_facts: false\n  tasks:\n    - command: touch /tmp/cluster-touched\n")
    address = f"tcp://127.0.0.1:{_free_port()}"
    by_option = _cli("run", str(playbook), "-i", str(lab.inventory_path), "-T", "1", "--cluster", address)
    monkeypatch.setenv("TITAN_OPS_CLUSTER", address)
    by_environment = _cli("run", str(playbook), "-i", str(lab.inventory_path), "-T", "1", env=dict(os.environ))
    for done in (by_option, by_environment):
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        assert done.stderr.startswith(f"ERROR! cannot reach the Dask scheduler at {address}: ")
        assert len(done.stderr.strip().splitlines()) == 1
    assert not any(lab.host_path(host, "/tmp/cluster-touched").exists() for host in lab_hosts())


def test_a_cluster_run_without_dask_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n")
    with pytest.raises(ClusterError, match=r"pip install 'titan-ops\[cluster\]'"):
        titan_ops.run(playbook, inventory, cluster="local:1")


@pytest.mark.parametrize("spec", ["local:0", "local:two"])
def test_a_local_cluster_needs_a_worker_count(tmp_path, monkeypatch, spec):
    """Refused before Dask is imported (a second or so), so also where the cluster extra is missing."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n")
    with pytest.raises(ClusterError, match="positive integer"):
        titan_ops.run(playbook, inventory, cluster=spec)


def test_ctrl_c_on_a_cluster_ends_what_runs_on_the_hosts(lab, dask_processes, tmp_path):
    """Ctrl-C on the controller ends the hosts' commands through their workers, and the recap is printed."""
    marker = "83.29"  # an unusual duration, to find these processes and no others
    playbook = tmp_path / "long.yml"
    playbook.write_text(f"- hosts: lab\n  gather_facts: false\n  tasks:\n    - shell: sleep {marker}\n"
                        "    - command: echo never reached\n")

    interrupt_run(["run", str(playbook), "-i", str(lab.inventory_path), "--cluster", dask_processes.address],
                  marker, len(lab_hosts()))
