"""Events the engine emits; renderers and loggers subscribe to them.

Every event passes through the redactor before any subscriber sees it, so
no subscriber can leak a secret the engine knows about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from collections.abc import Callable

from titan_ops.engine.results import PlayResult, RunResult, TaskResult


@dataclass(frozen=True)
class PlaybookStarted:
    path: str


@dataclass(frozen=True)
class PlayStarted:
    name: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class TaskStarted:
    name: str
    module: str
    hosts: tuple[str, ...]
    location: str
    handler: bool = False


@dataclass(frozen=True)
class TaskProgress:
    """A task still running: how many hosts are done out of how many."""

    name: str
    done: int
    total: int
    elapsed: float


@dataclass(frozen=True)
class Included:
    """``include_tasks`` loaded a file, or ``include_role`` a role, for some hosts."""

    path: str
    """The task file's path, or the role's name."""
    hosts: tuple[str, ...]
    label: str | None = None
    """The loop item it is included for (its label); None without a loop."""


@dataclass(frozen=True)
class HostTaskDone:
    result: TaskResult


@dataclass(frozen=True)
class NoHostsMatched:
    play: str


@dataclass(frozen=True)
class PlayDone:
    result: PlayResult


@dataclass(frozen=True)
class RunDone:
    result: RunResult


Event = (PlaybookStarted | PlayStarted | TaskStarted | TaskProgress | Included | HostTaskDone | NoHostsMatched
         | PlayDone | RunDone)


class Subscriber(Protocol):
    def __call__(self, event: Event) -> None: ...


class EventBus:
    """Delivers events to subscribers in order, after redaction.

    The engine emits only from its main thread, so subscribers need no locks.
    A subscriber that raises makes the run fail loudly: the exception
    propagates to the caller of run().
    """

    def __init__(self, subscribers: list[Subscriber] | tuple[Subscriber, ...] = (),
                 redact: Callable[[Event], Event] | None = None):
        self._subscribers = list(subscribers)
        self._redact = redact

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, event: Event) -> Event:
        """Redact ``event``, deliver it, and return the redacted event."""
        if self._redact is not None:
            event = self._redact(event)
        for subscriber in self._subscribers:
            subscriber(event)
        return event
