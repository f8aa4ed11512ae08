"""Files included at run time (``include_tasks``, ``include_role``): each loaded and validated once per run,
by the plan (for what it checks before the run) and by the walk alike."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from titan_ops.errors import Location
from titan_ops.playbook.model import Block, IncludeRole, Playbook, Task, TaskItem
from titan_ops.playbook.parser import load_role, load_task_file
from titan_ops.templating import Templar


class IncludedFiles:
    """The run's cache of included task files and roles (thread-safe: workers of the free strategy share it)."""

    def __init__(self, playbook: Playbook, templar: Templar):
        self.playbook = playbook
        self.templar = templar
        self._task_files: dict[tuple[str, tuple[str, ...], Location | None], list[TaskItem]] = {}
        self._roles: dict[tuple[str, str, Location | None], tuple[Block, list[Task]]] = {}
        self._lock = threading.Lock()

    def tasks(self, path: str, role_search: Sequence[str] = (), play_location: Location | None = None
              ) -> list[TaskItem]:
        """The tasks of an included task file (the roles it names searched in ``role_search``, their argument
        specs' validation located at ``play_location``)."""
        key = (path, tuple(role_search), play_location)
        with self._lock:
            tasks = self._task_files.get(key)
            if tasks is None:
                tasks = self._task_files[key] = load_task_file(path, self.templar, self.playbook.roles_path,
                                                               self.playbook.vault, role_search,
                                                               self.playbook.library, play_location)
            return tasks

    def role(self, include: IncludeRole, options: dict[str, Any]) -> tuple[Block, list[Task]]:
        """An included role's block and handlers."""
        key = (include.base_dir, json.dumps(options, sort_keys=True), include.play_location)
        with self._lock:
            loaded = self._roles.get(key)
            if loaded is None:
                loaded = self._roles[key] = load_role(include, options, self.playbook.roles_path, self.templar,
                                                      self.playbook.vault, self.playbook.library)
            return loaded
