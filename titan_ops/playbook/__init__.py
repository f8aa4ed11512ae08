"""Playbook loading, validation and model."""

from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, Play, Playbook, Task, TaskItem
from titan_ops.playbook.parser import load_playbook, load_playbooks, load_task_file, playbook_schema

__all__ = ["Block", "IncludeRole", "IncludeTasks", "Play", "Playbook", "Task", "TaskItem", "load_playbook",
           "load_playbooks", "load_task_file", "playbook_schema"]
