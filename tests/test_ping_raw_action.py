"""``ping``, ``raw``, and the ``action:`` / ``local_action:`` keywords, on the local connection and
against ansible-core."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

import titan_ops
from titan_ops.engine.results import Status
from titan_ops.errors import PlaybookError
from titan_ops.playbook import load_playbook
from tests.test_checks_modules import ORACLE_PYTHON, ansible_report

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: ping, ping: {}}
    - {name: ping with data, ping: {data: hi}}
    - {name: ping crash, ping: {data: crash}, ignore_errors: true}
    - {name: raw, raw: "echo hi; echo err >&2"}
    - {name: raw fails, raw: exit 3, ignore_errors: true}
    - {name: raw executable, raw: "echo $0", args: {executable: /bin/bash}}
    - {name: raw in check mode, raw: touch never-made, check_mode: true}
    - {name: ping in check mode, ping: {}, check_mode: true}
    - {name: action string, action: debug msg=hi}
    - {name: action mapping, action: {module: debug, msg: there}}
    - {name: action free form, action: shell echo from action}
    - {name: action with args, action: ansible.builtin.debug, args: {msg: from args}}
    - {name: local_action, local_action: command echo local}
    - name: local_action mapping
      local_action:
        module: debug
        msg: "{{ inventory_hostname }}"
"""

COMPARED = ("msg", "ping", "rc", "stdout", "stderr", "stdout_lines", "stderr_lines", "cmd", "changed", "failed",
            "skipped")


def _inventory(folder: Path) -> Path:
    path = folder / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {name: {"ansible_connection": "local",
                                                             "ansible_python_interpreter": ORACLE_PYTHON}
                                                      for name in ("h1", "h2")}}}))
    return path


def _write(folder: Path, text: str) -> Path:
    path = folder / "play.yml"
    path.write_text(textwrap.dedent(text))
    return path


def test_ping_raw_and_action_on_the_local_connection(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = titan_ops.run(_write(tmp_path, PLAYBOOK), _inventory(tmp_path))
    by_name = {r.task: r for r in result.host_results("h1")}
    assert by_name["ping"].result["ping"] == "pong" and by_name["ping"].status is Status.OK
    assert by_name["ping with data"].result["ping"] == "hi"
    assert by_name["ping crash"].status is Status.FAILED and by_name["ping crash"].msg == "boom"
    raw = by_name["raw"].result
    assert (raw["rc"], raw["stdout"], raw["stderr"], raw["changed"]) == (0, "hi\n", "err\n", True)
    assert by_name["raw fails"].status is Status.FAILED and by_name["raw fails"].rc == 3
    assert by_name["raw executable"].stdout == "/bin/bash\n"
    assert by_name["raw in check mode"].status is Status.SKIPPED and not (tmp_path / "never-made").exists()
    assert by_name["action string"].msg == "hi" and by_name["action mapping"].msg == "there"
    assert by_name["action free form"].stdout == "from action" and by_name["action free form"].module == "shell"
    assert by_name["local_action mapping"].msg == "h1"
    assert result.exit_code == 0 and result.stats["h1"].ignored == 2


@pytest.mark.parametrize("task,message", [
    ("action: nosuch arg=1", "'action': unknown module 'nosuch'"),
    ("action: {msg: hi}", "'module' is a required property"),
    ("action: ''", "'action' names no module"),
    ("action: debug msg=hi\n  command: echo", "the task names more than one module"),
    ("local_action: {module: debug, nope: 1}", "nope"),
    ("ping: {dta: x}", "dta"),
    ("raw: {}", "free_form"),
])
def test_bad_action_and_arguments_are_refused_at_validation(tmp_path, task, message):
    playbook = _write(tmp_path, "- hosts: all\n  tasks:\n    - " + task.replace("\n", "\n    ") + "\n")
    with pytest.raises(PlaybookError) as error:
        load_playbook(playbook)
    assert message in str(error.value) and str(error.value).startswith(f"{playbook}:")


def _shown(result: dict) -> dict:
    """The compared keys; a false flag counts as absent, and so does the command module's empty ``msg``
    (a difference of the command module, not of what is tested here)."""
    return {key: result[key] for key in COMPARED
            if key in result and not (key in ("failed", "skipped") and result[key] is False)
            and not (key == "msg" and result[key] == "")}


@pytest.mark.oracle
def test_ping_raw_and_action_match_ansible(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    playbook, inventory = _write(tmp_path, PLAYBOOK), _inventory(tmp_path)
    code, report = ansible_report(playbook, inventory)
    result = titan_ops.run(playbook, inventory)
    assert result.exit_code == code
    for host in ("h1", "h2"):
        theirs = [(task["task"]["name"], task["hosts"][host]) for task in report["plays"][0]["tasks"]]
        ours = result.host_results(host)
        assert [r.task for r in ours] == [name for name, _ in theirs]
        for mine, (name, expected) in zip(ours, theirs):
            if name in ("ping crash", "raw in check mode"):  # ansible's wording differs, the outcome not
                assert mine.status.value == ("failed" if name == "ping crash" else "skipped")
                assert bool(expected.get("failed")) == (name == "ping crash")
                continue
            assert _shown(mine.result) == _shown(expected), (host, name)
        assert {key: getattr(result.stats[host], key) for key in ("ok", "changed", "failed", "skipped", "ignored")} \
            == {"ok": report["stats"][host]["ok"], "changed": report["stats"][host]["changed"],
                "failed": report["stats"][host]["failures"], "skipped": report["stats"][host]["skipped"],
                "ignored": report["stats"][host]["ignored"]}
