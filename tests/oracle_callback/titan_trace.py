"""An ansible-playbook stdout callback for the engine tests: every host's results in order, as JSON.

Prints one JSON document at the end: ``events`` (host, task, action, status, msg of each result, in
the order ansible reported them) and ``stats`` (the recap). Enable it with
``ANSIBLE_CALLBACK_PLUGINS=<this directory>`` and ``ANSIBLE_STDOUT_CALLBACK=titan_trace``.
"""

from __future__ import annotations

import json
from typing import Any

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "titan_trace"

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def _event(self, result: Any, status: str) -> None:
        self.events.append({"host": result._host.get_name(), "task": result._task.get_name(),
                            "action": result._task.action, "status": status, "msg": result._result.get("msg")})

    def v2_runner_on_ok(self, result: Any, **kwargs: Any) -> None:
        self._event(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._event(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._event(result, "skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._event(result, "unreachable")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({"events": self.events, "stats": summary}, default=str))
