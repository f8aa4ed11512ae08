"""The linear strategy's collection of results: every host's result once, in host order per play,
progress events while a task is still running somewhere (local hosts, no lab)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import titan_ops
from titan_ops.engine import events, strategy

INVENTORY = """
all:
  hosts:
    h1: {ansible_connection: local, pause: "0.6"}
    h2: {ansible_connection: local, pause: "0"}
    h3: {ansible_connection: local, pause: "0"}
"""

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: wait
      command: sleep {{ pause }}
    - name: after
      command: echo {{ inventory_hostname }}
"""


def test_results_and_progress_of_a_slow_host(tmp_path: Path, monkeypatch):
    (tmp_path / "inventory.yml").write_text(textwrap.dedent(INVENTORY))
    (tmp_path / "playbook.yml").write_text(textwrap.dedent(PLAYBOOK))
    monkeypatch.setattr(strategy, "PROGRESS_SECONDS", 0.1)
    seen: list[events.Event] = []
    result = titan_ops.run(tmp_path / "playbook.yml", tmp_path / "inventory.yml", forks=3, subscribers=[seen.append])
    assert result.exit_code == 0
    done = [(event.result.task, event.result.host) for event in seen if isinstance(event, events.HostTaskDone)]
    assert sorted(done) == sorted((task, host) for task in ("wait", "after") for host in ("h1", "h2", "h3"))
    assert done.index(("wait", "h1")) < min(done.index(("after", host)) for host in ("h1", "h2", "h3"))
    progress = [event for event in seen if isinstance(event, events.TaskProgress)]
    assert progress and all(event.name == "wait" and event.total == 3 and 0 <= event.done < 3 for event in progress)
    play = result.plays[0]
    assert {host: [r.task for r in results] for host, results in play.tasks.items()} == {
        host: ["wait", "after"] for host in ("h1", "h2", "h3")}
    assert [r.result["stdout"] for r in result.host_results("h2")] == ["", "h2"]
