"""Playbook loading, validation and model."""

from titan_ops.playbook.model import Block, Play, Playbook, Task, TaskItem
from titan_ops.playbook.parser import load_playbook, playbook_schema

__all__ = ["Block", "Play", "Playbook", "Task", "TaskItem", "load_playbook", "playbook_schema"]
