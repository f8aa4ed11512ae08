"""Seeded random playbooks over the supported language, for differential tests against ansible-core.

Every generated task writes a marker line into a file on the host, so the final files record exactly
which tasks ran where, in which order. A playbook has one to three plays over the lab's hosts, with
the play keywords (serial, strategy, any_errors_fatal, max_fail_percentage, tags, some of them
templated: see PENDING), blocks with rescue and always, handlers notified from anywhere (listen, flush_handlers),
loops (set_fact in a loop too), until/retries, register, when, changed_when/failed_when (lists too),
ignore_errors, check_mode and tags.

Replay a seed: ``python -m tests.random_playbooks SEED`` prints its playbook and extra vars; the
differential test runs given seeds with ``TITAN_OPS_RANDOM_SEEDS=SEED,SEED``.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from typing import Any

import yaml

# What titan-ops does not do as Ansible yet (issue 11's plan stage, engine-plan): play keywords given as
# templates, the end of the playbook when every host of a serial batch failed or any_errors_fatal or
# max_fail_percentage stopped a play, and handlers notified by a tagged task under --tags. Drawn only
# with TITAN_OPS_RANDOM_PENDING=1 (to see how far that work is); else serial plays ignore their errors,
# any_errors_fatal and max_fail_percentage come in one-play playbooks only, and handlers are tagged always.
PENDING = os.environ.get("TITAN_OPS_RANDOM_PENDING") == "1"

HOSTS = ("lab1", "lab2", "lab3")
OUT = "/srv/titan/diff"
TAGS = ("red", "blue")
# What -e gives every run: play keywords template these.
EXTRA_VARS = {"target": "lab", "batch": 2, "play_tag": "blue"}


@dataclass(frozen=True)
class RandomPlaybook:
    seed: int
    text: str
    extra_vars: dict[str, Any]


class PlaybookGenerator:
    """Builds one random playbook from a seed."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.counter = 0
        self.registered: list[str] = []
        self.facts: list[str] = []
        self.handlers: list[str] = []
        self.topics: list[str] = []

    # -- pieces ------------------------------------------------------------------------------
    def _marker(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def _chance(self, probability: float) -> bool:
        return self.random.random() < probability

    def _host_condition(self) -> str:
        hosts = self.random.sample(HOSTS, self.random.randint(1, 2))
        return f"inventory_hostname in {list(hosts)}"

    def _condition(self) -> str:
        choices = [self._host_condition(), "true", "false", "groups['lab'] | length == 3",
                   "ansible_play_batch | length > 1"]
        if self.registered:
            name = self.random.choice(self.registered)
            choices += [f"{name} is changed", f"{name} is skipped", f"{name} is failed",
                        f"{name}.rc | default(0) == 0"]
        if self.facts:
            choices.append(f"{self.random.choice(self.facts)} | default('') == 'b'")
        return self.random.choice(choices)

    def _notify(self) -> str | list[str]:
        names = self.handlers + self.topics
        if self._chance(0.2):
            return self.random.sample(names, 2)
        return self.random.choice(names)

    # -- tasks ---------------------------------------------------------------------------------
    def task(self, depth: int = 0) -> dict[str, Any]:
        kinds = ["write", "fail", "loop", "rc", "fact", "until", "block"]
        weights = [5, 2, 2, 2, 1, 1, 1 if depth < 2 else 0]
        kind = self.random.choices(kinds, weights)[0]
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
            task["failed_when"] = self.random.choice([
                f"rc_{marker}.rc == 3", f"rc_{marker}.rc not in [0, 2]", "false",
                [f"rc_{marker}.rc != 0", f"rc_{marker}.rc != 2"], [f"rc_{marker}.rc > 0", "false"]])
        elif kind == "fact":
            name = f"fact_{marker}"
            task["set_fact"] = {name: "{{ item }}"}
            task["loop"] = self.random.sample(["a", "b", "c"], self.random.randint(1, 3))
            self.facts.append(name)
            return self._keywords(task, writes=False)
        elif kind == "until":
            needed = self.random.randint(1, 3)
            task["shell"] = (f"echo {marker} >> {OUT}/trace; echo x >> {OUT}/count_{marker}; "
                             f"test $(wc -l < {OUT}/count_{marker}) -ge {needed}")
            task["register"] = f"retry_{marker}"
            task["until"] = f"retry_{marker}.rc == 0"
            task["retries"] = self.random.randint(0, 3)
            task["delay"] = 0
        else:
            task["shell"] = f"echo {marker}-{{{{ item }}}} >> {OUT}/trace; test {{{{ item }}}} -lt 3"
            task["loop"] = self.random.sample([1, 2, 3, 4], self.random.randint(0, 3))
        if self.facts and self._chance(0.3):
            task["shell"] = task["shell"].replace(f"echo {marker}", f"echo {marker}-{{{{ {self.random.choice(self.facts)} "
                                                                   "| default('none') }}", 1)
        return self._keywords(task, writes=True)

    def _keywords(self, task: dict[str, Any], writes: bool) -> dict[str, Any]:
        if self._chance(0.35):
            task["when"] = self._condition() if self._chance(0.8) else [self._condition(), "true"]
        if self._chance(0.3):
            task["ignore_errors"] = True
        if writes and self._chance(0.3):
            task["changed_when"] = self.random.choice(["false", "true", self._host_condition(),
                                                       ["true", self._host_condition()]])
        if writes and self._chance(0.25):
            task["notify"] = self._notify()
        if writes and self._chance(0.2):
            task["check_mode"] = False
        if "register" not in task and self._chance(0.4):
            name = f"reg_{task['name']}"
            task["register"] = name
            self.registered.append(name)
        if self._chance(0.2):
            task["tags"] = [self.random.choice(TAGS)]
        return task

    def block(self, depth: int) -> dict[str, Any]:
        block: dict[str, Any] = {"block": [self.task(depth) for _ in range(self.random.randint(1, 3))]}
        if self._chance(0.6):
            block["rescue"] = [self.task(depth) for _ in range(self.random.randint(1, 2))]
        if self._chance(0.5):
            block["always"] = [self.task(depth) for _ in range(self.random.randint(1, 2))]
        if self._chance(0.25):
            block["when"] = self._host_condition()
        if self._chance(0.15):
            block["tags"] = [self.random.choice(TAGS)]
        if self._chance(0.1):
            block["ignore_errors"] = True
        return block

    # -- plays ---------------------------------------------------------------------------------
    def play(self, index: int, plays: int) -> dict[str, Any]:
        self.handlers = [f"handler {index}-{n}" for n in range(1, 3)]
        self.topics = [f"topic {index}"]
        templated = PENDING
        hosts = self.random.choice(["lab", "lab", "lab1:lab2", "lab2:lab3", "all"] + ["{{ target }}"] * templated)
        play: dict[str, Any] = {"name": f"play {index}", "hosts": hosts, "gather_facts": False}
        if self._chance(0.35):
            play["serial"] = self.random.choice([1, 2, "50%", [1, 2]] + ["{{ batch }}"] * templated)
            if not PENDING:
                play["ignore_errors"] = True
        if self._chance(0.15):
            play["strategy"] = "free"
        if plays > 1 and not PENDING:
            pass
        elif self._chance(0.2):
            play["any_errors_fatal"] = True
        elif self._chance(0.2):
            play["max_fail_percentage"] = self.random.choice([0, 34, 50])
        if self._chance(0.15):
            play["tags"] = self.random.choice([[self.random.choice(TAGS)]] + ["{{ play_tag }}"] * templated)
        tasks = [{"name": f"setup {index}", "command": f"mkdir -p {OUT}", "tags": ["always"],
                  "check_mode": False}]
        tasks += [self.task() for _ in range(self.random.randint(3, 7))]
        if self._chance(0.3):
            tasks.append({"meta": "flush_handlers"})
            tasks += [self.task() for _ in range(self.random.randint(1, 3))]
        play["tasks"] = tasks
        handlers: list[dict[str, Any]] = []
        for position, name in enumerate(self.handlers):
            handler: dict[str, Any] = {"name": name, "shell": f"echo {name.replace(' ', '-')} >> {OUT}/trace"}
            if position == 1 or self._chance(0.3):  # the topic has a listener or two
                handler["listen"] = self.topics[0]
            if self._chance(0.15):
                handler["shell"] += "; exit 1"
            if not PENDING:
                handler["tags"] = ["always"]
            handlers.append(handler)
        play["handlers"] = handlers
        return play

    def playbook(self) -> list[dict[str, Any]]:
        plays = self.random.choice([1, 1, 2, 3])
        return [self.play(index, plays) for index in range(1, plays + 1)]


def random_playbook(seed: int) -> RandomPlaybook:
    """The playbook for ``seed`` and the extra vars to run it with."""
    text = yaml.safe_dump(PlaybookGenerator(seed).playbook(), sort_keys=False)
    return RandomPlaybook(seed, text, dict(EXTRA_VARS))


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        case = random_playbook(int(argument))
        print(f"# seed {case.seed}; run with -e '{yaml.safe_dump(case.extra_vars, default_flow_style=True).strip()}'")
        print(case.text)
