"""The validated playbook: plays, blocks and tasks as plain objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from titan_ops.errors import Location


@dataclass
class Task:
    """One task: a module call plus the keywords the executor applies."""

    module: str
    args: dict[str, Any]
    location: Location
    name: str | None = None
    when: list[Any] = field(default_factory=list)
    register: str | None = None
    ignore_errors: Any = False
    vars: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)
    """Every keyword as written, for the executor's less common ones."""

    @property
    def display_name(self) -> str:
        return self.name or self.module


@dataclass
class Block:
    """``block`` with its ``rescue`` and ``always`` sections."""

    block: list["TaskItem"]
    location: Location
    rescue: list["TaskItem"] = field(default_factory=list)
    always: list["TaskItem"] = field(default_factory=list)
    name: str | None = None
    when: list[Any] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    keywords: dict[str, Any] = field(default_factory=dict)


TaskItem = Union[Task, Block]


@dataclass
class Play:
    """One play: which hosts, which variables, which tasks."""

    hosts: str
    location: Location
    name: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    tasks: list[TaskItem] = field(default_factory=list)
    gather_facts: bool = False
    keywords: dict[str, Any] = field(default_factory=dict)


@dataclass
class Playbook:
    """A loaded, validated playbook file."""

    path: str
    plays: list[Play]

    @property
    def directory(self) -> str:
        import os.path

        return os.path.dirname(os.path.abspath(self.path))
