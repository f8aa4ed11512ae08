"""The order in which the strategies run hosts' tasks with fewer forks than hosts, on local hosts: ``free``
lets the hosts take turns task by task, ``host_pinned`` keeps a fork with its host until the host is done
(ansible-core's documented behaviour, checked against it too)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

import titan_ops
from tests.engine_cases import inventory_document
from tests.oracle import QUIET_ENV, require_oracle

PLAYBOOK = """
- hosts: all
  gather_facts: false
  strategy: {strategy}
  tasks:
    - shell: echo {{{{ inventory_hostname }}}}-a >> {log}
    - shell: echo {{{{ inventory_hostname }}}}-b >> {log}
    - shell: echo {{{{ inventory_hostname }}}}-c >> {log}
"""


def _project(folder: Path, strategy: str) -> tuple[Path, Path, Path]:
    log = folder / "order.log"
    playbook = folder / "play.yml"
    playbook.write_text(PLAYBOOK.format(strategy=strategy, log=log))
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump(inventory_document(None)))
    return playbook, inventory, log


def _titan_order(folder: Path, strategy: str, forks: int) -> list[str]:
    playbook, inventory, log = _project(folder, strategy)
    assert titan_ops.run(playbook, inventory, forks=forks).exit_code == 0
    return log.read_text().split()


def _ansible_order(folder: Path, strategy: str, forks: int) -> list[str]:
    playbook, inventory, log = _project(folder, strategy)
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), "-f", str(forks), str(playbook)],
                          capture_output=True, text=True, timeout=300, cwd=folder, env={**os.environ, **QUIET_ENV})
    assert done.returncode == 0, done.stdout + done.stderr
    return log.read_text().split()


def _pinned(order: list[str], forks: int) -> bool:
    """Whether a host started only when one of the hosts before it had finished (with ``forks`` forks)."""
    finished: list[str] = []
    started: list[str] = []
    for line in order:
        host, task = line.split("-")
        if task == "a":
            if len(started) - len(finished) >= forks:
                return False
            started.append(host)
        elif task == "c":
            finished.append(host)
    return True


def _interleaved(order: list[str]) -> bool:
    """Whether every host ran its first task before any host ran its last."""
    first_last = min(index for index, line in enumerate(order) if line.endswith("-c"))
    return all(f"{host}-a" in order[:first_last] for host in ("h1", "h2", "h3"))


@pytest.mark.parametrize("forks", [1, 2])
def test_host_pinned_keeps_a_fork_with_its_host(tmp_path, forks):
    order = _titan_order(tmp_path, "host_pinned", forks)
    assert sorted(order) == sorted(f"{host}-{task}" for host in ("h1", "h2", "h3") for task in "abc")
    assert _pinned(order, forks), order
    if forks == 1:
        assert order == ["h1-a", "h1-b", "h1-c", "h2-a", "h2-b", "h2-c", "h3-a", "h3-b", "h3-c"]


def test_free_lets_the_hosts_take_turns(tmp_path):
    order = _titan_order(tmp_path, "free", 1)
    assert _interleaved(order) and not _pinned(order, 1), order


@pytest.mark.oracle
@pytest.mark.parametrize("strategy", ["free", "host_pinned"])
def test_ansible_orders_them_alike(tmp_path, strategy):
    order = _ansible_order(tmp_path, strategy, 1)
    if strategy == "host_pinned":
        assert order == ["h1-a", "h1-b", "h1-c", "h2-a", "h2-b", "h2-c", "h3-a", "h3-b", "h3-c"]
    else:
        assert _interleaved(order) and not _pinned(order, 1), order
