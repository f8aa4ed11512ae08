"""Handler notifications: which handlers each host has been told to run."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from titan_ops.errors import TemplateError
from titan_ops.playbook.model import IncludeTasks, Task
from titan_ops.templating import Templar, is_template

Handler = Task | IncludeTasks


def handler_name(handler: Handler) -> str:
    """The name a handler is notified by (besides its ``listen`` topics)."""
    if handler.name:
        return handler.name
    return handler.module if isinstance(handler, Task) else handler.display_name


def rendered_handler_names(templar: Templar, handlers: Iterable[Handler],
                           variables: Mapping[str, Any]) -> dict[str, str]:
    """Handler names that are templates, rendered with ``variables`` (the play's: one that needs a host's
    cannot be notified by its rendered name, as in ansible)."""
    names = {}
    for handler in handlers:
        name = handler_name(handler)
        if is_template(name):
            try:
                names[name] = str(templar.render(name, variables))
            except TemplateError:
                continue
    return names


class Notifications:
    """Tracks notified handlers per host; a handler runs once per flush.

    As ansible-core 2.19 chooses: the sections of handlers (each role's, the play's own) are searched from
    the one loaded last, each in its own order; a name notifies the first handler found by that name
    only, a ``listen`` topic every handler listening to it but one per name. ``names`` gives the rendered
    name of handlers whose names are templates.
    """

    def __init__(self, handlers: list[Handler], names: Mapping[str, str] | None = None):
        self.handlers: list[Handler] = []
        self._names = names or {}
        self._by_topic: dict[str, list[Handler]] = {}
        self._names_of: dict[int, set[str]] = {}
        """Each handler's names (its own, and prefixed with its role's), by id."""
        self._chosen: dict[str, list[Handler]] = {}
        self._pending: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self.add(handlers)

    def add(self, handlers: list[Handler], names: Mapping[str, str] | None = None) -> None:
        """Handlers that can be notified from now on (an included role's, ``names`` rendering those whose
        names are templates); one already known (same role and name) is not added twice. Hosts that walk a
        play each on its own may notify meanwhile: their lookups wait."""
        with self._lock:
            self._names = {**self._names, **(names or {})}
            self._chosen.clear()
            known = {self._identity(handler) for handler in self.handlers}
            for handler in handlers:
                name = self._name(handler)
                role = getattr(handler, "role", None)
                if self._identity(handler) in known:
                    continue
                known.add(self._identity(handler))
                self.handlers.append(handler)
                # a role's handler also answers to its name and topics prefixed with the role's name (a
                # collection's role: its full name or its own), as in ansible-core
                prefixes = {role, role.rsplit(".", 1)[-1]} if role else set()
                own = {name, *handler.listen}
                for topic in own | {f"{prefix} : {topic}" for prefix in prefixes for topic in own}:
                    self._by_topic.setdefault(topic, []).append(handler)
                self._names_of[id(handler)] = {name, *(f"{prefix} : {name}" for prefix in prefixes)}

    def _identity(self, handler: Handler) -> tuple[str | None, str] | int:
        """What makes a handler another one: its role and name; a handler without a name (one that only
        listens) is itself."""
        return (getattr(handler, "role", None), self._name(handler)) if handler.name else id(handler)

    def _name(self, handler: Handler) -> str:
        name = handler_name(handler)
        return self._names.get(name, name)

    def knows(self, topic: str) -> bool:
        return topic in self._by_topic

    def notify(self, host: str, topics: list[str]) -> None:
        with self._lock:
            for topic in topics:
                for handler in self._notified_by(topic):
                    self._pending.setdefault(id(handler), set()).add(host)

    def _notified_by(self, topic: str) -> list[Handler]:
        """The handlers ``topic`` notifies (see the class)."""
        chosen = self._chosen.get(topic)
        if chosen is None:
            order = [handler for section in reversed(self._sections()) for handler in section]
            listening = {id(handler) for handler in self._by_topic.get(topic, [])
                         if topic not in self._names_of[id(handler)]}
            named = next((handler for handler in order if topic in self._names_of[id(handler)]), None)
            chosen = [named] if named is not None else []
            seen: set[str] = set()
            for handler in (handler for handler in order if id(handler) in listening):
                name = self._name(handler) if handler.name else None
                if name is None or name not in seen:
                    chosen.append(handler)
                    seen.update([name] if name else [])
            self._chosen[topic] = chosen
        return chosen

    def _sections(self) -> list[list[Handler]]:
        """The handlers in the order they were loaded, cut where the role they come from changes."""
        sections: list[list[Handler]] = []
        for handler in self.handlers:
            role = getattr(handler, "role", None)
            if sections and getattr(sections[-1][-1], "role", None) == role:
                sections[-1].append(handler)
            else:
                sections.append([handler])
        return sections

    def pending(self, host: str) -> bool:
        """Whether ``host`` has a notified handler still to run."""
        with self._lock:
            return any(host in hosts for hosts in self._pending.values())

    def take(self, handler: Handler, hosts: list[str]) -> list[str]:
        """The hosts among ``hosts`` that notified ``handler``; clears them."""
        with self._lock:
            pending = self._pending.get(id(handler), set())
            chosen = [host for host in hosts if host in pending]
            pending.difference_update(chosen)
            return chosen
