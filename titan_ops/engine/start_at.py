"""``--start-at-task``: the run starts at the first task of a name; what comes before it is not run.

As in Ansible, the name is a task's name, its ``role : name`` form or a shell pattern of either, and
only tasks known before the run can be the start (not those of ``include_tasks``/``include_role``).
Plays before the start's play run nothing (not even fact gathering).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from titan_ops.errors import PlaybookError
from titan_ops.playbook.model import Block, Play, Playbook, Task, TaskItem


class StartAt:
    """Whether the start task has been reached yet."""

    def __init__(self, name: str | None):
        self.name = name

    @property
    def pending(self) -> bool:
        return self.name is not None

    def check(self, playbook: Playbook) -> None:
        """PlaybookError (before any host is touched) when no task of ``playbook`` is the start."""
        if self.pending and not any(self.in_play(play) for play in playbook.plays):
            raise PlaybookError(f'no task matches --start-at-task "{self.name}" (only tasks known before the run '
                                "count: not those of include_tasks or include_role)", key="start_at_task")

    def in_play(self, play: Play) -> bool:
        """True when the start task is in ``play``."""
        return any(self._matches(task) for task in _tasks(play.pre_tasks + play.tasks + play.post_tasks))

    def skips(self, item: TaskItem) -> bool:
        """True when ``item`` comes before the start (the start itself ends the wait)."""
        if not self.pending or isinstance(item, Block):
            return False
        if isinstance(item, Task) and self._matches(item):
            self.name = None
            return False
        return True

    def _matches(self, task: Task) -> bool:
        assert self.name is not None
        names = {task.display_name, *([task.name] if task.name else [])}
        return any(name == self.name or fnmatch.fnmatchcase(name, self.name) for name in names)


def _tasks(items: list[TaskItem]) -> Iterator[Task]:
    for item in items:
        if isinstance(item, Block):
            yield from _tasks(item.block + item.rescue + item.always)
        elif isinstance(item, Task):
            yield item
