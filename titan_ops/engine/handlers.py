"""Handler notifications: which handlers each host has been told to run."""

from __future__ import annotations

import threading

from titan_ops.playbook.model import Task


class Notifications:
    """Tracks notified handlers per host; a handler runs once per flush."""

    def __init__(self, handlers: list[Task]):
        self.handlers: list[Task] = []
        self._by_topic: dict[str, list[Task]] = {}
        self._pending: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self.add(handlers)

    def add(self, handlers: list[Task]) -> None:
        """Handlers that can be notified from now on (an included role's); one already known (same role
        and name) is not added twice."""
        known = {(handler.role, handler.name or handler.module) for handler in self.handlers}
        for handler in handlers:
            name = handler.name or handler.module
            if (handler.role, name) in known:
                continue
            self.handlers.append(handler)
            role_name = {f"{handler.role} : {name}"} if handler.role else set()
            for topic in {name, *role_name, *handler.listen}:
                self._by_topic.setdefault(topic, []).append(handler)

    def knows(self, topic: str) -> bool:
        return topic in self._by_topic

    def notify(self, host: str, topics: list[str]) -> None:
        with self._lock:
            for topic in topics:
                for handler in self._by_topic.get(topic, []):
                    self._pending.setdefault(id(handler), set()).add(host)

    def take(self, handler: Task, hosts: list[str]) -> list[str]:
        """The hosts among ``hosts`` that notified ``handler``; clears them."""
        with self._lock:
            pending = self._pending.get(id(handler), set())
            chosen = [host for host in hosts if host in pending]
            pending.difference_update(chosen)
            return chosen
