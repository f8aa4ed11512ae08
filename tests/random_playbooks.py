"""Seeded random playbooks over the language subset, for differential tests.

Every generated task writes a marker line into a file on the host, so the
final files record exactly which tasks ran where, in which order.
"""

from __future__ import annotations

import random
from typing import Any

import yaml

HOSTS = ("lab1", "lab2", "lab3")
OUT = "/srv/titan/diff"


class PlaybookGenerator:
    """Builds one random playbook from a seed."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.counter = 0
        self.registered: list[str] = []
        self.handlers = ["handler one", "handler two"]

    def _marker(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def _host_condition(self) -> str:
        hosts = self.random.sample(HOSTS, self.random.randint(1, 2))
        return f"inventory_hostname in {list(hosts)}"

    def _condition(self) -> str:
        choices = [self._host_condition(), "true", "false", "groups['lab'] | length == 3"]
        if self.registered:
            name = self.random.choice(self.registered)
            choices += [f"{name} is changed", f"{name} is skipped", f"{name} is failed",
                        f"{name}.rc | default(0) == 0"]
        return self.random.choice(choices)

    def task(self, depth: int = 0) -> dict[str, Any]:
        kind = self.random.choices(["write", "fail", "loop", "block", "rc"], [5, 2, 2, 1 if depth < 2 else 0, 2])[0]
        if kind == "block":
            return self.block(depth + 1)
        marker = self._marker()
        task: dict[str, Any] = {"name": marker}
        if kind == "write":
            task["shell"] = f"echo {marker} >> {OUT}/trace"
        elif kind == "fail":
            task["shell"] = f"echo {marker} >> {OUT}/trace; exit 1"
        elif kind == "rc":
            task["shell"] = f"echo {marker} >> {OUT}/trace; exit {self.random.choice([0, 2, 3])}"
            task["register"] = f"rc_{marker}"
            task["failed_when"] = self.random.choice([f"rc_{marker}.rc == 3", f"rc_{marker}.rc not in [0, 2]",
                                                      "false"])
        else:
            task["shell"] = f"echo {marker}-{{{{ item }}}} >> {OUT}/trace; test {{{{ item }}}} -lt 3"
            task["loop"] = self.random.sample([1, 2, 3, 4], self.random.randint(0, 3))
        if self.random.random() < 0.35:
            task["when"] = self._condition()
        if self.random.random() < 0.3:
            task["ignore_errors"] = True
        if self.random.random() < 0.3:
            task["changed_when"] = self.random.choice(["false", "true", self._host_condition()])
        if self.random.random() < 0.25:
            task["notify"] = self.random.choice(self.handlers)
        if "register" not in task and self.random.random() < 0.4:
            name = f"reg_{marker}"
            task["register"] = name
            self.registered.append(name)
        if self.random.random() < 0.2:
            task["tags"] = [self.random.choice(["red", "blue"])]
        return task

    def block(self, depth: int) -> dict[str, Any]:
        block: dict[str, Any] = {"block": [self.task(depth) for _ in range(self.random.randint(1, 3))]}
        if self.random.random() < 0.6:
            block["rescue"] = [self.task(depth) for _ in range(self.random.randint(1, 2))]
        if self.random.random() < 0.5:
            block["always"] = [self.task(depth) for _ in range(self.random.randint(1, 2))]
        if self.random.random() < 0.25:
            block["when"] = self._host_condition()
        return block

    def playbook(self) -> list[dict[str, Any]]:
        tasks = [{"command": f"mkdir -p {OUT}", "tags": ["always"]}]
        tasks += [self.task() for _ in range(self.random.randint(4, 9))]
        if self.random.random() < 0.3:
            tasks.append({"meta": "flush_handlers"})
            tasks += [self.task() for _ in range(self.random.randint(1, 3))]
        handlers = [{"name": name, "shell": f"echo {name.replace(' ', '-')} >> {OUT}/trace"}
                    for name in self.handlers]
        return [{"name": "random", "hosts": "lab", "gather_facts": False, "tasks": tasks, "handlers": handlers}]


def random_playbook(seed: int) -> str:
    """The YAML text of the playbook for ``seed``."""
    return yaml.safe_dump(PlaybookGenerator(seed).playbook(), sort_keys=False)
