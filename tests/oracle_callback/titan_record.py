"""An ansible-playbook stdout callback for the differential tests: one JSON document at the end.

The shape is the one of ansible.posix's ``json`` callback (``plays`` -> ``tasks`` ->
``hosts`` -> result, and ``stats``), which ansible-core alone does not ship.
Enable it with ``ANSIBLE_CALLBACK_PLUGINS=<this directory>`` and
``ANSIBLE_STDOUT_CALLBACK=titan_record``.
"""

from __future__ import annotations

import json
from typing import Any

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "titan_record"

    def __init__(self) -> None:
        super().__init__()
        self.plays: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def _task(self, task: Any, again: bool = False) -> dict[str, Any]:
        """The entry of ``task``'s results; ``again``: a new one (a handler that runs again)."""
        entry = self.tasks.get(task._uuid)
        if entry is None or again:
            entry = self.tasks[task._uuid] = {"task": {"name": task.get_name(), "path": task.get_path()}, "hosts": {}}
            self.plays[-1]["tasks"].append(entry)
        return entry

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._task(task, again=True)  # (notified again after a flush, a handler runs again: its results too)

    def _record(self, result: Any, **flags: Any) -> None:
        self._task(result._task)["hosts"][result._host.get_name()] = {**dict(result._result), **flags}

    def v2_runner_on_ok(self, result: Any, **kwargs: Any) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({"plays": self.plays, "stats": summary}, default=str))
