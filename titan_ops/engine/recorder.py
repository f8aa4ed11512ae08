"""The recorder of results: what one task's result on one host does to the run.

It counts the result in the recap, keeps registered values and facts, emits the
result (redacted by the bus) and files it under its play. A result is final when
it is emitted: nothing changes it afterwards.
"""

from __future__ import annotations

import threading
from typing import Any

from titan_ops.engine import events
from titan_ops.engine.hostview import HostView
from titan_ops.engine.play_state import PlayState
from titan_ops.engine.results import HostStats, RunResult, Status, TaskResult, counts_as_failure
from titan_ops.modules import GATHERS_FACTS
from titan_ops.modules.controller import CACHEABLE
from titan_ops.playbook.model import Task

_FACT_MODULES = GATHERS_FACTS | {"set_fact"}


class Recorder:
    """Records results and emits events, one at a time whatever thread calls it."""

    def __init__(self, result: RunResult, hosts: HostView, bus: events.EventBus):
        self.result = result
        self.hosts = hosts
        self.facts = hosts.facts
        self.bus = bus
        self._lock = threading.RLock()

    def emit(self, event: events.Event) -> Any:
        """Deliver ``event`` to the subscribers; the redacted event they saw."""
        with self._lock:
            return self.bus.emit(event)

    def record(self, state: PlayState, task: Task | None, result: TaskResult, rescuable: bool) -> bool:
        """Record ``result`` of ``task`` (None: an include); True when its host leaves the block it is in.

        A failure under a ``rescue`` (``rescuable``) is rescued: the host leaves the block for the rescue,
        and the failure is not counted against it.
        """
        stops = result.status in (Status.FAILED, Status.UNREACHABLE) and not result.ignored
        if stops and result.status is Status.FAILED and rescuable:
            result.rescued = True
        with self._lock:
            self._count(state, result)
            if task is not None:
                self._keep_values(task, result)
            if result.status is Status.FAILED and not result.ignored:
                failed_task = {"name": (task.name or "") if task is not None else result.task,
                               "action": task.module if task is not None else result.module}
                self.facts.update(result.host, {"ansible_failed_task": failed_task,
                                                "ansible_failed_result": result.result})
            redacted = self.bus.emit(events.HostTaskDone(result))
            state.play_result.add(redacted.result)
        return stops

    def count_ok(self, host: str, count: int) -> None:
        """``count`` more ok results of ``host`` in the recap, with no result of their own (the items of an
        include's loop after the first: ansible-core gives the include one result and counts every item)."""
        with self._lock:
            self.result.stats.setdefault(host, HostStats()).ok += count

    def uncounted(self, state: PlayState, result: TaskResult) -> None:
        """Emit and file ``result`` without counting it in the recap (a ``meta`` task skipped by its
        condition: ansible-core reports it and does not count it)."""
        with self._lock:
            redacted = self.bus.emit(events.HostTaskDone(result))
            state.play_result.add(redacted.result)

    def register(self, host: str, name: str, value: dict[str, Any]) -> None:
        """``register:`` of what is not a module's result (an include's)."""
        self.facts.update(host, {name: value})

    def share(self, task: Task, result: TaskResult, hosts: list[str]) -> None:
        """A ``run_once`` result: what it registers or sets, given to the other ``hosts`` too."""
        shared = {task.register: result.result} if task.register else {}
        gathered: dict[str, Any] = {}
        if task.module in _FACT_MODULES and result.status in (Status.OK, Status.CHANGED) and not result.delegate_facts:
            for outcome in outcomes(result.result):  # a loop's items in order: the last one wins
                (shared if task.module == "set_fact" else gathered).update(outcome.get("ansible_facts", {}))
        for other in hosts:
            if other != result.host:
                self.facts.update(other, shared)
                self.hosts.gathered(other, gathered)

    def _count(self, state: PlayState, result: TaskResult) -> None:
        stats = self.result.stats.setdefault(result.host, HostStats())
        if result.status is Status.SKIPPED:
            stats.skipped += 1
        elif result.rescued:
            stats.rescued += 1
        elif counts_as_failure(result):
            state.run.remove(result.host)
            state.cleared.discard(result.host)
            if result.status is Status.UNREACHABLE:
                stats.unreachable += 1
                state.unreachable.add(result.host)
            else:
                stats.failed += 1
                state.failed.add(result.host)
        else:
            stats.ok += 1
            stats.changed += int(result.changed)
            stats.ignored += int(result.ignored)

    def _keep_values(self, task: Task, result: TaskResult) -> None:
        cacheable = [outcome.pop(CACHEABLE, False) for outcome in outcomes(result.result)]
        if task.register:
            self.facts.update(result.host, {task.register: result.result})
        if result.status not in (Status.OK, Status.CHANGED):
            return
        if task.module in GATHERS_FACTS:
            for host, outcome in fact_outcomes(result):
                self.hosts.gathered(host, outcome.get("ansible_facts", {}))
        elif task.module_path is not None:  # a custom module's facts, as a fact module's
            for host, outcome in fact_outcomes(result):
                self.hosts.gathered(host, outcome.get("ansible_facts") or {})
        elif task.module == "set_fact":
            for (host, outcome), cached in zip(fact_outcomes(result), cacheable):  # a loop's items: the last wins
                self.facts.update(host, outcome.get("ansible_facts", {}))
                if cached:
                    self.hosts.gathered(host, outcome.get("ansible_facts", {}))
        elif task.module == "set_stats":
            for outcome in outcomes(result.result):
                self.result.add_custom_stats(result.host, outcome["ansible_stats"])
        elif task.module == "include_vars":
            for host, outcome in fact_outcomes(result):
                self.hosts.included.update(host, outcome.get("ansible_facts", {}))
        elif task.module == "add_host":
            for outcome in outcomes(result.result):
                added = outcome["add_host"]
                self.hosts.add_host(added["host_name"], added["groups"], added["host_vars"])
        elif task.module == "group_by":
            for outcome in outcomes(result.result):
                self.hosts.add_to_group(result.host, outcome["add_group"], outcome["parent_groups"])


def fact_outcomes(result: TaskResult) -> list[tuple[str, dict[str, Any]]]:
    """The outcomes of ``result`` (as :func:`outcomes`) with the host their facts are for: the result's,
    or with ``delegate_facts`` the one each outcome was delegated to."""
    runs = result.result["results"] if "results" in result.result else [result.result]
    hosts = result.delegated_to if result.delegate_facts else ()
    return [(hosts[index] or result.host if index < len(hosts) else result.host, run)
            for index, run in enumerate(runs) if not run.get("skipped") and not run.get("failed")]


def outcomes(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A result's outcomes: each item's of a loop (skipped and failed ones left out), else itself."""
    if "results" not in result:
        return [result]
    return [item for item in result["results"] if not item.get("skipped") and not item.get("failed")]
