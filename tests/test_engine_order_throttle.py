"""The play keyword ``order`` and the keyword ``throttle`` on local hosts, and against ansible-core.

``order`` puts the play's hosts in an order before they are batched: the hosts run each task, and each batch,
in it, and ``ansible_play_batch`` lists them in it (``ansible_play_hosts`` and ``ansible_play_hosts_all`` stay
in inventory order, as in ansible-core). ``throttle`` lets at most N hosts run a task at once: each host's task
writes ``start HOST`` and ``end HOST`` to a shared log, and the log shows how many ran at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from concurrent.futures import CancelledError, Future
from pathlib import Path
from typing import Any

import pytest
import yaml

import titan_ops
from tests.local_oracle import ORACLE_PYTHON
from tests.oracle import QUIET_ENV, require_oracle
from titan_ops.engine.throttle import Throttle
from titan_ops.errors import PlaybookError

HOSTS = ("hb", "ha", "hd", "hc")
"""The inventory's hosts, in its order (not sorted)."""

EXPECTED = {
    "inventory": ["hb", "ha", "hd", "hc"],
    "reverse_inventory": ["hc", "hd", "ha", "hb"],
    "sorted": ["ha", "hb", "hc", "hd"],
    "reverse_sorted": ["hd", "hc", "hb", "ha"],
}

ORDER_PLAY = """
- hosts: all
  gather_facts: false
  order: "{{ wanted }}"
  serial: "{{ batch_size }}"
  vars:
    wanted: "{{ myorder }}"
  tasks:
    - shell: echo {{ inventory_hostname }} >> {{ base }}/ran.log
    - copy:
        dest: "{{ base }}/{{ inventory_hostname }}.json"
        content: "{{ {'batch': ansible_play_batch, 'hosts': ansible_play_hosts, 'all': ansible_play_hosts_all,
                     'play_hosts': play_hosts} | to_json }}"
"""

THROTTLE_PLAY = """
- hosts: all
  gather_facts: false
  strategy: {strategy}
  throttle: {play_throttle}
  tasks:
    - block:
        - shell: |
            flock {{{{ base }}}}/lock -c 'echo start {{{{ inventory_hostname }}}} >> {{{{ base }}}}/marks.log'
            sleep 0.1
            flock {{{{ base }}}}/lock -c 'echo end {{{{ inventory_hostname }}}} >> {{{{ base }}}}/marks.log'
          throttle: "{{{{ task_throttle }}}}"
      throttle: 4
"""


def _inventory(folder: Path) -> Path:
    inventory = folder / "inventory.yml"
    local = {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {host: dict(local) for host in HOSTS}}}, sort_keys=False))
    return inventory


def _write(folder: Path, name: str, text: str) -> tuple[Path, Path, Path]:
    """``text`` as playbook ``name`` in ``folder``, its inventory, and an empty ``base`` folder for its files."""
    playbook = folder / name
    playbook.write_text(text)
    base = folder / "base"
    base.mkdir(exist_ok=True)
    return playbook, _inventory(folder), base


def _ansible(playbook: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook), *args], capture_output=True,
                          text=True, timeout=300, cwd=playbook.parent, env={**os.environ, **QUIET_ENV})


def _order_seen(base: Path) -> tuple[list[str], dict[str, Any]]:
    """The hosts in the order they ran the task, and each host's play host lists."""
    ran = (base / "ran.log").read_text().split()
    return ran, {host: json.loads((base / f"{host}.json").read_text()) for host in HOSTS}


def _most_at_once(base: Path) -> int:
    """The most hosts between their ``start`` and their ``end`` at any one point of the marks."""
    running: set[str] = set()
    most = 0
    for line in (base / "marks.log").read_text().splitlines():
        mark, host = line.split()
        if mark == "start":
            running.add(host)
            most = max(most, len(running))
        else:
            running.remove(host)
    assert not running
    return most


def _assert_refused(playbook: Path, inventory: Path, base: Path, key: str, line: int, message: str) -> None:
    """The run is refused with exit code 5, ``message`` located at ``key`` on ``line``, before ``base/touched``
    (the playbook's first task) is written."""
    with pytest.raises(PlaybookError) as raised:
        titan_ops.run(playbook, inventory, extra_vars={"base": str(base)})
    assert raised.value.exit_code == 5 and raised.value.key == key and message in raised.value.message
    assert str(raised.value.location).startswith(f"{playbook}:{line}:")
    assert not (base / "touched").exists()


# -- order ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [0, 1])
@pytest.mark.parametrize("order", sorted(EXPECTED))
def test_order_takes_the_hosts_in_it(tmp_path, order, batch_size):
    playbook, inventory, base = _write(tmp_path, "play.yml", ORDER_PLAY)
    result = titan_ops.run(playbook, inventory, forks=1,
                           extra_vars={"base": str(base), "myorder": order, "batch_size": batch_size})
    assert result.exit_code == 0, result.error
    ran, lists = _order_seen(base)
    assert ran == EXPECTED[order]
    for host, seen in lists.items():
        assert seen["batch"] == seen["play_hosts"] == ([host] if batch_size else EXPECTED[order])
        assert seen["hosts"] == seen["all"] == list(HOSTS)  # inventory order, whatever the play's order


def test_order_shuffle_takes_every_host_once(tmp_path):
    playbook, inventory, base = _write(tmp_path, "play.yml", ORDER_PLAY)
    result = titan_ops.run(playbook, inventory, forks=1,
                           extra_vars={"base": str(base), "myorder": "shuffle", "batch_size": 1})
    assert result.exit_code == 0, result.error
    ran, _ = _order_seen(base)
    assert sorted(ran) == sorted(HOSTS)


def test_order_picks_the_host_of_run_once(tmp_path):
    playbook, inventory, base = _write(tmp_path, "play.yml", """
- hosts: all
  gather_facts: false
  order: reverse_sorted
  tasks:
    - shell: echo {{ inventory_hostname }} > {{ base }}/once
      run_once: true
""")
    assert titan_ops.run(playbook, inventory, extra_vars={"base": str(base)}).exit_code == 0
    assert (base / "once").read_text().split() == ["hd"]


@pytest.mark.parametrize(("value", "message"), [
    ("bogus", "Invalid 'order' specified for inventory hosts: bogus"),
    ("5", "Invalid 'order' specified for inventory hosts: 5"),
    ('"{{ nope }}"', "'nope' is undefined"),
    ('"{{ \'upside_down\' }}"', "Invalid 'order' specified for inventory hosts: upside_down"),
])
def test_an_invalid_order_is_refused_before_any_host_is_touched(tmp_path, value, message):
    playbook, inventory, base = _write(tmp_path, "play.yml", f"""
- hosts: all
  gather_facts: false
  tasks:
    - shell: touch {{{{ base }}}}/touched
- hosts: all
  gather_facts: false
  order: {value}
  tasks:
    - debug:
""")
    _assert_refused(playbook, inventory, base, "order", 8, message)


# -- throttle ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["linear", "free", "host_pinned"])
def test_throttle_1_runs_the_hosts_one_after_another(tmp_path, strategy):
    playbook, inventory, base = _write(tmp_path, "play.yml", THROTTLE_PLAY.format(strategy=strategy,
                                                                                   play_throttle=0))
    result = titan_ops.run(playbook, inventory, forks=4, extra_vars={"base": str(base), "task_throttle": 1})
    assert result.exit_code == 0, result.error
    assert _most_at_once(base) == 1
    if strategy == "linear":  # one after another in the play's order
        marks = (base / "marks.log").read_text().split("\n")
        assert marks[:-1] == [f"{mark} {host}" for host in HOSTS for mark in ("start", "end")]


@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_throttle_2_runs_at_most_two_hosts_at_once(tmp_path, strategy):
    playbook, inventory, base = _write(tmp_path, "play.yml", THROTTLE_PLAY.format(strategy=strategy,
                                                                                   play_throttle=0))
    result = titan_ops.run(playbook, inventory, forks=4, extra_vars={"base": str(base), "task_throttle": 2})
    assert result.exit_code == 0, result.error
    assert _most_at_once(base) <= 2


def test_throttle_is_inherited_from_the_play_and_from_imports(tmp_path):
    (tmp_path / "marked.yml").write_text("""
- shell: |
    flock {{ base }}/lock -c 'echo start {{ inventory_hostname }} >> {{ base }}/marks.log'
    sleep 0.1
    flock {{ base }}/lock -c 'echo end {{ inventory_hostname }} >> {{ base }}/marks.log'
""")
    playbook, inventory, base = _write(tmp_path, "play.yml", """
- hosts: all
  gather_facts: false
  throttle: "{{ one }}"
  vars:
    one: 1
  tasks:
    - import_tasks: marked.yml
- hosts: all
  gather_facts: false
  tasks:
    - import_tasks: marked.yml
      throttle: 1
""")
    result = titan_ops.run(playbook, inventory, forks=4, extra_vars={"base": str(base)})
    assert result.exit_code == 0, result.error
    assert _most_at_once(base) == 1
    assert len((base / "marks.log").read_text().splitlines()) == 16


@pytest.mark.parametrize(("text", "message"), [
    ("    - debug:\n      throttle: abc\n", "Failed to convert the throttle value to an integer: 'abc'"),
    ("    - block: [{debug: {}}]\n      throttle: 1.5\n", "must be of type"),
    ("    - include_tasks: other.yml\n      throttle: 1\n", "'throttle' is not a keyword of "
     "include_tasks"),
    ("    - include_role: {name: r}\n      throttle: 1\n", "'throttle' is not a keyword of "
     "include_role"),
])
def test_a_bad_throttle_is_refused_before_any_host_is_touched(tmp_path, text, message):
    (tmp_path / "other.yml").write_text("- debug:\n")
    (tmp_path / "roles" / "r" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "r" / "tasks" / "main.yml").write_text("- debug:\n")
    playbook, inventory, base = _write(tmp_path, "play.yml", f"""
- hosts: all
  gather_facts: false
  tasks:
    - shell: touch {{{{ base }}}}/touched
{text}""")
    _assert_refused(playbook, inventory, base, "throttle", 7, message)


@pytest.mark.parametrize(("value", "message"), [
    ("{{ nope }}", "'nope' is undefined"),
    ("{{ '1.5' }}", "Failed to convert the throttle value to an integer: '1.5'"),
])
def test_a_throttle_that_renders_to_no_integer_ends_the_run(tmp_path, value, message):
    playbook, inventory, base = _write(tmp_path, "play.yml", f"""
- hosts: all
  gather_facts: false
  tasks:
    - shell: touch {{{{ base }}}}/{{{{ inventory_hostname }}}}
    - debug:
      throttle: "{value}"
      ignore_errors: true
    - shell: touch {{{{ base }}}}/after
""")
    result = titan_ops.run(playbook, inventory, extra_vars={"base": str(base)})
    assert result.exit_code == 1 and "Failed to convert the throttle value to an integer: " in result.error
    assert message in result.error and str(result.error).startswith(f"{playbook}:6:")
    assert sorted(os.listdir(base)) == sorted(HOSTS)  # the first task ran, nothing after the throttled one


class _HeldDispatcher:
    """Runs nothing until told: each submitted piece of work waits, in order, for :meth:`finish`."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, Future[Any]]] = []

    def submit(self, host: str, work: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        self.submitted.append((host, future))
        return future

    def running(self) -> list[str]:
        return [host for host, future in self.submitted if not future.done()]

    def finish(self, host: str) -> None:
        next(future for name, future in self.submitted if name == host).set_result(host)


def test_the_throttle_starts_the_hosts_in_turn_as_slots_free_up():
    dispatcher = _HeldDispatcher()
    throttle = Throttle(2)
    futures = {host: throttle.submit(dispatcher, host, str, host) for host in ("h1", "h2", "h3", "h4", "h5")}
    assert dispatcher.running() == ["h1", "h2"]
    futures["h3"].cancel()  # (an interrupted run drops what has not started)
    dispatcher.finish("h2")
    assert futures["h2"].result() == "h2"
    assert dispatcher.running() == ["h1", "h4"]  # the cancelled h3 gave its turn to the next
    dispatcher.finish("h1")
    dispatcher.finish("h4")
    assert dispatcher.running() == ["h5"]
    dispatcher.finish("h5")
    assert [host for host, _ in dispatcher.submitted] == ["h1", "h2", "h4", "h5"]
    with pytest.raises(CancelledError):
        futures["h3"].result()


def test_the_throttle_holds_a_host_that_runs_inline_until_a_slot_is_free():
    dispatcher = _HeldDispatcher()
    throttle = Throttle(1)
    throttle.submit(dispatcher, "h1", str, "h1")
    done: list[str] = []
    waiter = threading.Thread(target=lambda: done.append(throttle.run(str, "h2")))
    waiter.start()
    waiter.join(0.05)
    assert done == []  # h1 holds the only slot
    dispatcher.finish("h1")
    waiter.join(30)
    assert done == ["h2"]


# -- against ansible-core ---------------------------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("order", sorted(EXPECTED))
def test_ansible_orders_the_hosts_alike(tmp_path, order):
    playbook, inventory, base = _write(tmp_path, "play.yml", ORDER_PLAY)
    done = _ansible(playbook, inventory, "-f", "1", "-e", f"base={base} myorder={order} batch_size=1")
    assert done.returncode == 0, done.stdout + done.stderr
    ran, lists = _order_seen(base)
    assert ran == EXPECTED[order]
    for host, seen in lists.items():
        assert seen["batch"] == seen["play_hosts"] == [host]
        assert seen["hosts"] == seen["all"] == list(HOSTS)


@pytest.mark.oracle
def test_ansible_refuses_an_invalid_order_and_a_throttle_on_include_tasks(tmp_path):
    playbook, inventory, _ = _write(tmp_path, "play.yml", "- hosts: all\n  order: bogus\n  tasks: [{debug: {}}]\n")
    done = _ansible(playbook, inventory)
    assert done.returncode == 5 and "Invalid 'order' specified for inventory hosts: bogus" in done.stdout + done.stderr
    (tmp_path / "other.yml").write_text("- debug:\n")
    playbook, inventory, _ = _write(tmp_path, "include.yml",
                                    "- hosts: all\n  tasks:\n    - include_tasks: other.yml\n      throttle: 1\n")
    done = _ansible(playbook, inventory)
    assert done.returncode != 0 and "'throttle' is not a valid attribute" in done.stdout + done.stderr


@pytest.mark.oracle
@pytest.mark.parametrize("strategy", ["linear", "free"])
def test_ansible_throttles_alike(tmp_path, strategy):
    playbook, inventory, base = _write(tmp_path, "play.yml", THROTTLE_PLAY.format(strategy=strategy,
                                                                                   play_throttle=0))
    done = _ansible(playbook, inventory, "-f", "4", "-e", f"base={base} task_throttle=1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _most_at_once(base) == 1
    if strategy == "linear":
        marks = (base / "marks.log").read_text().split("\n")
        assert marks[:-1] == [f"{mark} {host}" for host in HOSTS for mark in ("start", "end")]


@pytest.mark.oracle
def test_ansible_ends_the_run_on_a_throttle_of_no_integer(tmp_path):
    playbook, inventory, base = _write(tmp_path, "play.yml", """
- hosts: all
  gather_facts: false
  tasks:
    - shell: touch {{ base }}/{{ inventory_hostname }}
    - debug:
      throttle: "{{ nope }}"
      ignore_errors: true
    - shell: touch {{ base }}/after
""")
    done = _ansible(playbook, inventory, "-e", f"base={base}")
    assert done.returncode == 1
    assert "Failed to convert the throttle value to an integer: 'nope' is undefined" in done.stdout + done.stderr
    assert sorted(os.listdir(base)) == sorted(HOSTS)
