"""``--force-handlers`` and ``--start-at-task``, on the local connection and against ansible-core."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.errors import PlaybookError
from tests.oracle import QUIET_ENV, require_oracle
from tests.test_checks_modules import ORACLE_PYTHON, RECORDER

FORCE = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: notify, command: echo notify, notify: handler}
    - {name: fail one, fail: {msg: boom}, when: inventory_hostname == 'h1'}
    - {name: after, debug: {msg: after}}
  post_tasks:
    - {name: post, debug: {msg: post}}
  handlers:
    - {name: handler, debug: {msg: "handler on {{ inventory_hostname }}"}}
- hosts: all
  gather_facts: false
  tasks:
    - {name: second play, debug: {msg: second}}
"""

START = """
- hosts: all
  gather_facts: true
  tasks:
    - {name: one, debug: {msg: 1}}
    - block:
        - {name: two, debug: {msg: 2}}
        - {name: three, debug: {msg: 3}}
    - {name: four, command: echo 4, notify: handler}
  handlers:
    - {name: handler, debug: {msg: handled}}
- hosts: all
  gather_facts: false
  tasks:
    - {name: five, debug: {msg: 5}}
"""


def _project(folder: Path, text: str) -> tuple[Path, Path]:
    playbook = folder / "play.yml"
    playbook.write_text(text)
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: {
        "ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON} for name in ("h1", "h2")}}}))
    return playbook, inventory


def _ran(result) -> list[tuple[str, str]]:
    return sorted((r.task, r.host) for r in result.host_results("h1") + result.host_results("h2"))


def test_force_handlers_runs_them_on_failed_hosts(tmp_path):
    playbook, inventory = _project(tmp_path, FORCE)
    forced = titan_ops.run(playbook, inventory, force_handlers=True)
    plain = titan_ops.run(playbook, inventory)
    assert ("handler", "h1") in _ran(forced) and ("handler", "h1") not in _ran(plain)
    assert ("handler", "h2") in _ran(plain)
    assert ("second play", "h1") not in _ran(forced)
    assert forced.exit_code == plain.exit_code == 2


def test_start_at_task(tmp_path):
    playbook, inventory = _project(tmp_path, START)
    ran = [r.task for r in titan_ops.run(playbook, inventory, start_at_task="th*").host_results("h1")]
    assert ran == ["Gathering Facts", "three", "four", "handler", "five"]
    ran = [r.task for r in titan_ops.run(playbook, inventory, start_at_task="five").host_results("h1")]
    assert ran == ["five"]
    with pytest.raises(PlaybookError, match='no task matches --start-at-task "nosuch"'):
        titan_ops.run(playbook, inventory, start_at_task="nosuch")


def _ansible_ran(playbook: Path, inventory: Path, *options: str) -> tuple[int, list[tuple[str, str]]]:
    done = subprocess.run([str(require_oracle()), "-i", str(inventory), str(playbook), *options], capture_output=True,
                          text=True, env={**os.environ, **QUIET_ENV, **RECORDER}, timeout=120)
    report = yaml.safe_load(done.stdout[done.stdout.index("{"):])
    return done.returncode, sorted((task["task"]["name"], host) for play in report["plays"] for task in play["tasks"]
                                   for host in task["hosts"])


@pytest.mark.oracle
@pytest.mark.parametrize("text,options,keywords", [
    (FORCE, ["--force-handlers"], {"force_handlers": True}),
    (FORCE, [], {}),
    (START, ["--start-at-task", "three"], {"start_at_task": "three"}),
    (START, ["--start-at-task", "t*"], {"start_at_task": "t*"}),
])
def test_run_options_match_ansible(tmp_path, text, options, keywords):
    playbook, inventory = _project(tmp_path, text)
    code, theirs = _ansible_ran(playbook, inventory, *options)
    result = titan_ops.run(playbook, inventory, **keywords)
    assert _ran(result) == theirs
    assert result.exit_code == code


def test_gathered_facts_are_in_ansible_facts_without_their_prefix(tmp_path):
    """As ansible-core: ``ansible_facts.kernel`` is the ``ansible_kernel`` variable."""
    playbook, inventory = _project(tmp_path, "- hosts: h1\n  gather_facts: true\n  tasks:\n    - debug: {msg: \""
                                   "{{ ansible_facts.system }} {{ ansible_facts.kernel == ansible_kernel }} "
                                   "{{ ansible_facts.ansible_kernel is defined }}\"}\n")
    result = titan_ops.run(playbook, inventory)
    assert [task.msg for task in result.host_results("h1")] == [None, "Linux True False"]
