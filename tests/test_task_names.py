"""How tasks are named on the console and in --list-tasks, as ansible-playbook names them: an unnamed task by
its module as written (``ansible.builtin.command``), an include by itself with its own banner before what it
includes (``include_role : NAME``, ``included: NAME for HOSTS``, one line per loop item)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.forked_cli import run_cli
from tests.oracle import QUIET_ENV, require_oracle
from titan_ops.engine import events
from titan_ops.redaction import MASK, Redactor

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  roles:
    - shown
  tasks:
    - ansible.builtin.command: "true"
      changed_when: false
    - action: ansible.legacy.command true
      changed_when: false
    - local_action:
        module: ansible.builtin.debug
        msg: local
    - debug: msg=plain
    - include_role: {name: shown}
    - ansible.builtin.include_role: {name: shown}
    - name: a named include
      ansible.builtin.include_tasks: more.yml
    - include_tasks: more.yml
      when: false
    - include_tasks: more.yml
      loop: [1, {a: 1}]
    - include_role: {name: shown}
      loop: [2]
      loop_control: {label: "L{{ item }}"}
"""
FILES = {"more.yml": "- ansible.builtin.debug: msg=more\n",
         "roles/shown/tasks/main.yml": "- debug: msg=role\n- ansible.builtin.debug: msg=fqcn\n"}
SHOWN = [
    "TASK [shown : debug]", "TASK [shown : ansible.builtin.debug]",
    "TASK [ansible.builtin.command]", "TASK [ansible.legacy.command]", "TASK [ansible.builtin.debug]",
    "TASK [debug]",
    "TASK [include_role : shown]", "included: shown for h",
    "TASK [shown : debug]", "TASK [shown : ansible.builtin.debug]",
    "TASK [ansible.builtin.include_role : shown]", "included: shown for h",
    "TASK [shown : debug]", "TASK [shown : ansible.builtin.debug]",
    "TASK [a named include]", "included: {folder}/more.yml for h", "TASK [ansible.builtin.debug]",
    "TASK [include_tasks]", "skipping: [h]",
    "TASK [include_tasks]", "included: {folder}/more.yml for h => (item=1)",
    "included: {folder}/more.yml for h => (item={{'a': 1}})",
    "TASK [ansible.builtin.debug]", "TASK [ansible.builtin.debug]",
    "TASK [include_role : shown]", "included: shown for h => (item=L2)",
    "TASK [shown : debug]", "TASK [shown : ansible.builtin.debug]",
]
LISTED = ["debug", "ansible.builtin.debug", "ansible.builtin.command", "ansible.legacy.command",
          "ansible.builtin.debug", "debug", "include_role", "ansible.builtin.include_role", "a named include",
          "include_tasks", "include_tasks", "include_role"]


def _project(folder: Path) -> None:
    for name, text in {"play.yml": PLAYBOOK, **FILES}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "hosts.ini").write_text("h ansible_connection=local ansible_python_interpreter=/opt/titan-ops-oracle/bin/python\n")


def _banners(stdout: str) -> list[str]:
    """The task banners (stars cut) and the lines that say what was included or skipped."""
    return [line.rstrip(" *") for line in stdout.splitlines()
            if line.startswith(("TASK [", "included: ", "skipping: "))]


def _listed(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip() == "tasks:") + 1
    return [line.strip().split("\t")[0] for line in lines[start:] if line.strip()]


def test_tasks_are_named_as_written_and_includes_have_their_banner(tmp_path):
    _project(tmp_path)
    done = run_cli(["run", "play.yml", "-i", "hosts.ini"], cwd=tmp_path)
    listed = run_cli(["run", "play.yml", "-i", "hosts.ini", "--list-tasks"], cwd=tmp_path)
    assert done.returncode == 0 and listed.returncode == 0, done.stdout + done.stderr + listed.stderr
    assert _banners(done.stdout) == [line.format(folder=tmp_path) for line in SHOWN]
    assert _listed(listed.stdout) == LISTED


@pytest.mark.oracle
def test_ansible_playbook_names_them_the_same(tmp_path):
    _project(tmp_path)
    env = {**os.environ, **QUIET_ENV}
    done = subprocess.run([str(require_oracle()), "-i", "hosts.ini", "play.yml"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    listed = subprocess.run([str(require_oracle()), "-i", "hosts.ini", "play.yml", "--list-tasks"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _banners(done.stdout) == [line.format(folder=tmp_path) for line in SHOWN]
    assert _listed(listed.stdout) == LISTED


def test_an_included_loop_item_is_masked_and_censored_under_no_log(tmp_path):
    (tmp_path / "more.yml").write_text("- debug: msg=more\n")
    (tmp_path / "play.yml").write_text("""\
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: more.yml
      loop: [s3cret-item]
      no_log: true
""")
    (tmp_path / "hosts.ini").write_text("h ansible_connection=local\n")
    done = run_cli(["run", "play.yml", "-i", "hosts.ini"], cwd=tmp_path)
    assert done.returncode == 0 and "s3cret-item" not in done.stdout
    assert f"included: {tmp_path}/more.yml for h => (item=(censored due to no_log))" in done.stdout
    shown = Redactor(["hunter2"]).event(events.Included("/etc/hunter2.yml", ("h",), "key=hunter2"))
    assert (shown.path, shown.label) == (f"/etc/{MASK}.yml", f"key={MASK}")
