"""Seeded random playbooks over the supported language, for differential tests against ansible-core.

Every generated task writes a marker line into a file on the host, so the final files record exactly
which tasks ran where, in which order. A playbook has one to three plays over the lab's hosts (host patterns
with ``:``, ``:!`` and ``:&`` too), with the play keywords (serial as a number, a percentage or a list of them,
strategy linear/free/host_pinned, order (not shuffle), throttle (tasks too), any_errors_fatal, max_fail_percentage,
force_handlers, tags, roles with parameters or vars,
vars_files (a list of alternatives too), some of them templated), pre_tasks and post_tasks,
blocks with rescue and always (nested; any_errors_fatal, check_mode and notify on blocks; meta clear_host_errors in
an always), handlers notified from anywhere (listen, templated names, flush_handlers in and out of blocks, tagged or
not, with a when, notifying another handler, or including a task file),
meta end_host/end_batch/end_play/clear_host_errors, loops (set_fact in a loop too; loop_control's loop_var,
index_var, label, extended, pause; conditions on a loop's registered results), until/retries (in loops too),
register, when, changed_when/failed_when (lists too), ignore_errors (templated too), any_errors_fatal on tasks, check_mode, diff, run_once,
delegate_to (writing into a file of the delegating host's name on the delegated one), set_fact cacheable, task
vars and environment, no_log and tags (never and always too); include_tasks/import_tasks of task files and
include_role/import_role (with vars)/roles: of roles (tasks using a role variable, handlers, defaults) generated
on disk beside the playbook (their files are ``RandomPlaybook.files``). A playbook is run with --tags (never,
untagged too), --skip-tags, --check, --check --diff, --diff, --force-handlers or --limit, or none of them.

Not drawn: keywords titan-ops refuses by name (delegate_facts, module_defaults, collections,
debugger, async with modules other than command/shell); become (the lab's hosts run as one user); gather_facts and
facts (the hosts' facts differ between the two runs' connections); async (a detached job's timing);
ignore_unreachable (no host of the lab can be made unreachable for one run only); vars_prompt and import_playbook
(loading, covered by the integration targets); end_play/end_batch/clear_host_errors and run_once under free and
host_pinned (a failing run_once task fails every host of the play, wherever each one is; which hosts have failed
when the first one clears errors), conditions on ansible_play_batch under them or in a role or task file (which
hosts have left the batch, ended or failed, when another host asks is a race: seed 793472 of the generator of
462f9cd, meta end_host), and delegate_to under them or in a role or task file (where the others are is a race:
docs/playbooks.md, "Differences from Ansible"; seed 808989 of the generator of a6f9322 drew a failing run_once
under free).

Replay a seed: ``python -m tests.random_playbooks SEED`` prints its playbook and extra vars; the
differential test runs given seeds with ``TITAN_OPS_RANDOM_SEEDS=SEED,SEED``.
"""

from __future__ import annotations

import json
import random
import shlex
import sys
from dataclasses import dataclass
from typing import Any

import yaml

HOSTS = ("lab1", "lab2", "lab3")
OUT = "/srv/titan/diff"
TAGS = ("red", "blue")
# What -e gives every run: play keywords template these.
EXTRA_VARS = {"target": "lab", "batch": 2, "play_tag": "blue", "most": 34, "how": "free", "hosts_order": "sorted"}


# How a seed's playbook is run, drawn from the seed so that a replay runs it the same way: titan_ops.run's
# keyword arguments (ansible_args gives ansible-playbook's options for the same).
MODES: dict[str, dict[str, Any]] = {"all-tags": {}, "tag-red": {"tags": ("red",)},
                                    "skip-blue": {"skip_tags": ("blue",)}, "check": {"check": True},
                                    "limit": {"limit": "all:!lab2"}, "check-diff": {"check": True, "diff": True},
                                    "diff": {"diff": True}, "force-handlers": {"force_handlers": True},
                                    "tag-never-blue": {"tags": ("never", "blue")}, "tag-untagged": {"tags": ("untagged",)}}
FORKS = 3


@dataclass(frozen=True)
class RandomPlaybook:
    seed: int
    text: str
    extra_vars: dict[str, Any]
    mode: str
    files: dict[str, str]
    """Task files and roles the playbook uses, by path relative to the playbook's folder."""

    @property
    def options(self) -> dict[str, Any]:
        """titan_ops.run's keyword arguments for this playbook's run."""
        return {"forks": FORKS, "extra_vars": dict(self.extra_vars), **MODES[self.mode]}

    def ansible_args(self) -> list[str]:
        """ansible-playbook's options for the same run."""
        mode = MODES[self.mode]
        args = ["-f", str(FORKS), "-e", json.dumps(self.extra_vars)]
        args += [arg for tag in mode.get("tags", ()) for arg in ("--tags", tag)]
        args += [arg for tag in mode.get("skip_tags", ()) for arg in ("--skip-tags", tag)]
        args += ["--limit", mode["limit"]] if "limit" in mode else []
        args += ["--force-handlers"] if mode.get("force_handlers") else []
        args += ["--diff"] if mode.get("diff") else []
        return args + (["--check"] if mode.get("check") else [])


class PlaybookGenerator:
    """Builds one random playbook from a seed."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.ordering = random.Random(f"order-throttle-{seed}")
        """Draws ``order`` and ``throttle``: a stream of their own, so that a seed drawn before they were keeps
        the rest of its playbook."""
        self.counter = 0
        self.registered: list[str] = []
        self.facts: list[str] = []
        self.handlers: list[str] = []
        self.topics: list[str] = []
        self.free = False
        """The play being drawn has the free or the host_pinned strategy."""
        self.in_file = False
        """The tasks being drawn go into a task file or a role (which any play may use)."""
        self.files: dict[str, str] = {}
        self.roles: list[str] = []
        self.words: list[str] = []
        """Variables from vars_files (of this play or an earlier one: undefined there, as their default says)."""

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
        choices = [self._host_condition(), "true", "false", "groups['lab'] | length == 3"]
        if not self.free and not self.in_file:  # (under free, which hosts have left the batch yet is a race)
            choices.append("ansible_play_batch | length > 1")
        if self.registered:
            name = self.random.choice(self.registered)
            choices += [f"{name} is changed", f"{name} is skipped", f"{name} is failed",
                        f"{name}.rc | default(0) == 0", f"({name}.results | default([]) | length) > 1"]
        if self.facts:
            choices.append(f"{self.random.choice(self.facts)} | default('') == 'b'")
        return self.random.choice(choices)

    def _notify(self) -> str | list[str]:
        names = self.handlers + self.topics
        if len(names) > 1 and self._chance(0.2):
            return self.random.sample(names, 2)
        if self._chance(0.15):
            return "{{ chosen_handler }}"
        return self.random.choice(names)

    # -- tasks ---------------------------------------------------------------------------------
    def task(self, depth: int = 0) -> dict[str, Any]:
        kinds = ["write", "fail", "loop", "rc", "fact", "until", "block", "meta", "copy", "delegate", "include",
                 "role"]
        nested = 1 if depth < 2 else 0
        weights = [5, 2, 2, 2, 1, 1, nested, 0.6, 1, 0 if self.free or self.in_file else 0.7,
                   0 if self.in_file else nested * 0.6, 0 if self.in_file else nested * 0.6]
        kind = self.random.choices(kinds, weights)[0]
        if kind == "block":
            return self.block(depth + 1)
        if kind == "meta":
            return self.meta()
        if kind == "include":
            return self.include_tasks(depth + 1)
        if kind == "role":
            return self.include_role(depth + 1)
        marker = self._marker()
        task: dict[str, Any] = {"name": marker}
        if kind == "write":
            task["shell"] = f"echo {marker} >> {OUT}/trace"
            if self._chance(0.2):
                task["vars"] = {f"word_{marker}": "{{ inventory_hostname | upper }}"}
                task["shell"] = f"echo {marker}-{{{{ word_{marker} }}}} >> {OUT}/trace"
            elif self._chance(0.15):
                task["environment"] = {"WORD": marker.upper()}
                task["shell"] = f"echo {marker}-$WORD >> {OUT}/trace"
        elif kind == "copy":
            task["copy"] = {"content": f"{marker} {{{{ inventory_hostname }}}}\n", "dest": f"{OUT}/copy_{marker}",
                            "mode": self.random.choice(["0644", "0600"])}
            if self._chance(0.3):
                task["diff"] = self.random.choice([True, False])
            return self._keywords(task, writes=True)
        elif kind == "delegate":
            task["shell"] = f"echo {marker} >> {OUT}/from_{{{{ inventory_hostname }}}}"
            task["delegate_to"] = self.random.choice(HOSTS)
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
            if self._chance(0.3):
                task["set_fact"]["cacheable"] = True
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
            if self._chance(0.25):  # each item retried on its own
                task["loop"] = [1, 2]
                task["shell"] = task["shell"].replace(f"count_{marker}", f"count_{marker}_{{{{ item }}}}")
        else:
            task["shell"] = f"echo {marker}-{{{{ item }}}} >> {OUT}/trace; test {{{{ item }}}} -lt 3"
            task["loop"] = self.random.sample([1, 2, 3, 4], self.random.randint(0, 3))
            if self._chance(0.4):
                task["loop_control"] = self._loop_control(task, marker)
        if self.words and self._chance(0.2):
            task["shell"] = task["shell"].replace(f"echo {marker}", f"echo {marker}-{{{{ {self.random.choice(self.words)} "
                                                                   "| default('none') }}", 1)
        elif self.facts and self._chance(0.3):
            task["shell"] = task["shell"].replace(f"echo {marker}", f"echo {marker}-{{{{ {self.random.choice(self.facts)} "
                                                                   "| default('none') }}", 1)
        return self._keywords(task, writes=True)

    def _keywords(self, task: dict[str, Any], writes: bool) -> dict[str, Any]:
        if self._chance(0.35):
            task["when"] = self._condition() if self._chance(0.8) else [self._condition(), "true"]
        if self._chance(0.3):
            templated = not self._chance(0.85)
            task["ignore_errors"] = "{{ inventory_hostname == 'lab2' }}" if templated else True
        if writes and self._chance(0.3):
            task["changed_when"] = self.random.choice(["false", "true", self._host_condition(),
                                                       ["true", self._host_condition()]])
        if writes and self._chance(0.25):
            task["notify"] = self._notify()
        if writes and self._chance(0.2):
            task["check_mode"] = self.random.choice([False, False, True])
        if writes and self._chance(0.08) and not self.free:  # (drawn either way: the same seed, the same stream)
            task["run_once"] = True
        if writes and self._chance(0.05):
            task["no_log"] = True
        if self.ordering.random() < 0.1:
            task["throttle"] = self.ordering.choice([1, 2, "{{ batch }}", 0])
        if "register" not in task and self._chance(0.4):
            name = f"reg_{task['name']}"
            task["register"] = name
            self.registered.append(name)
        if self._chance(0.2):
            task["tags"] = self._tags()
        if self._chance(0.04):
            task["any_errors_fatal"] = True
        return task

    def _tags(self) -> list[str]:
        """A task's tags: one of TAGS, sometimes with ``never`` (runs only when --tags names it) or ``always``."""
        tags = [self.random.choice(TAGS)]
        if self._chance(0.2):
            tags.append(self.random.choice(["never", "always"]))
        return tags

    def _loop_control(self, task: dict[str, Any], marker: str) -> dict[str, Any]:
        """loop_control options, with the shell line rewritten to use them."""
        control: dict[str, Any] = {}
        if self._chance(0.5):
            control["loop_var"] = f"n_{marker}"
            task["shell"] = task["shell"].replace("{{ item }}", f"{{{{ n_{marker} }}}}")
        if self._chance(0.4):
            control["index_var"] = f"i_{marker}"
            task["shell"] = task["shell"].replace(f"echo {marker}-", f"echo {marker}-{{{{ i_{marker} }}}}-", 1)
        if self._chance(0.3):
            control["extended"] = True
            task["shell"] = task["shell"].replace(f"echo {marker}-", f"echo {marker}-{{{{ ansible_loop.revindex }}}}-"
                                                  "{{ ansible_loop.last }}-", 1)
        if self._chance(0.3):
            control["label"] = f"{marker} item"
        if self._chance(0.1):
            control["pause"] = 0
        return control

    def include_tasks(self, depth: int) -> dict[str, Any]:
        """include_tasks or import_tasks of a task file written beside the playbook."""
        path = f"tasks_{len(self.files) + 1}.yml"
        self.in_file = True
        self.files[path] = yaml.safe_dump([self.task(depth) for _ in range(self.random.randint(1, 3))],
                                          sort_keys=False)
        self.in_file = False
        action = self.random.choice(["include_tasks", "import_tasks"])
        task: dict[str, Any] = {"name": f"{action} {path}", action: path}
        if action == "include_tasks" and self._chance(0.2):
            task["loop"] = [1, 2]
            task["loop_control"] = {"loop_var": f"outer_{len(self.files)}"}
        return self._include_keywords(task)

    def _include_keywords(self, task: dict[str, Any]) -> dict[str, Any]:
        if self._chance(0.3):
            task["when"] = self._condition()
        if self._chance(0.2):
            task["tags"] = [self.random.choice(TAGS)]
        return task

    def role(self, depth: int) -> str:
        """A role written beside the playbook (tasks, handlers, defaults), or one drawn already."""
        if self.roles and (len(self.roles) >= 2 or self._chance(0.4)):
            return self.random.choice(self.roles)
        name = f"role{len(self.roles) + 1}"
        self.roles.append(name)
        play_handlers, topics = self.handlers, self.topics
        self.handlers, self.topics = [f"{name} handler"], []
        self.in_file = True
        tasks = [{"name": f"{name} word", "shell": f"echo {name}-{{{{ {name}_word }}}} >> {OUT}/trace"}]
        tasks += [self.task(depth) for _ in range(self.random.randint(1, 3))]
        self.in_file = False
        self.handlers, self.topics = play_handlers, topics
        self.files[f"roles/{name}/tasks/main.yml"] = yaml.safe_dump(tasks, sort_keys=False)
        self.files[f"roles/{name}/defaults/main.yml"] = yaml.safe_dump({f"{name}_word": f"w-{name}"})
        self.files[f"roles/{name}/handlers/main.yml"] = yaml.safe_dump(
            [{"name": f"{name} handler", "shell": f"echo {name}-handler-{{{{ {name}_word }}}} >> {OUT}/trace"}])
        return name

    def include_role(self, depth: int) -> dict[str, Any]:
        """include_role or import_role of a generated role."""
        name = self.role(depth)
        action = self.random.choice(["include_role", "import_role"])
        task: dict[str, Any] = {"name": f"{action} {name}", action: {"name": name}}
        if self._chance(0.3):  # the role's variable given by the include (over its defaults)
            task["vars"] = {f"{name}_word": f"v-{{{{ inventory_hostname }}}}-{self._marker()}"}
        return self._include_keywords(task)

    def meta(self) -> dict[str, Any]:
        """``meta`` ending a host, a batch or the play, or flushing handlers, mostly under a condition."""
        actions = ["end_host", "flush_handlers", "noop"]
        if not self.free and not self.in_file:  # under free, where the others are when one ends the play is a race (docs/playbooks.md,
            actions += ["end_batch", "end_play", "clear_host_errors"]  # "Differences from Ansible")
        task: dict[str, Any] = {"meta": self.random.choice(actions)}
        if self._chance(0.8):
            task["when"] = self._condition()
        return task

    def block(self, depth: int) -> dict[str, Any]:
        block: dict[str, Any] = {"block": [self.task(depth) for _ in range(self.random.randint(1, 3))]}
        if self._chance(0.25):  # a handler that fails here is rescued by this block
            block["block"].insert(self.random.randint(0, len(block["block"])), {"meta": "flush_handlers"})
        if self._chance(0.6):
            block["rescue"] = [self.task(depth) for _ in range(self.random.randint(1, 2))]
        if self._chance(0.5):
            block["always"] = [self.task(depth) for _ in range(self.random.randint(1, 2))]
            if not self.free and not self.in_file and self._chance(0.15):  # the hosts that failed into it go on
                block["always"].append({"meta": "clear_host_errors"})
        if self._chance(0.08):  # every changed task inside notifies it
            block["notify"] = self._notify()
        if self._chance(0.25):
            block["when"] = self._host_condition()
        if self._chance(0.15):
            block["tags"] = [self.random.choice(TAGS)]
        if self._chance(0.06):
            block["check_mode"] = True
        if self._chance(0.1):
            block["ignore_errors"] = True
        elif self._chance(0.1):
            block["any_errors_fatal"] = True
        return block

    # -- plays ---------------------------------------------------------------------------------
    def play(self, index: int) -> dict[str, Any]:
        self.handlers = [f"handler {index}-{n}" for n in range(1, 3)]
        self.topics = [f"topic {index}"]
        hosts = self.random.choice(["lab", "lab", "lab1:lab2", "lab2:lab3", "all", "{{ target }}", "lab:!lab3",
                                    "all:&lab"])
        play: dict[str, Any] = {"name": f"play {index}", "hosts": hosts, "gather_facts": False}
        if self._chance(0.35):
            play["serial"] = self.random.choice([1, 2, "50%", [1, 2], "{{ batch }}", ["34%", 2], [1, "50%"], "100%"])
        self.free = self._chance(0.2)
        if self.free:
            play["strategy"] = self.random.choice(["free", "{{ how }}", "host_pinned"])
        if self.ordering.random() < 0.3:
            play["order"] = self.ordering.choice(["inventory", "reverse_inventory", "sorted", "reverse_sorted",
                                                  "{{ hosts_order }}"])
        if self.ordering.random() < 0.1:
            play["throttle"] = self.ordering.choice([1, 2])
        play["vars"] = {"chosen_handler": self.random.choice(self.handlers)}
        if self._chance(0.2):  # a file of variables, sometimes the second of a list of alternatives
            path = f"vars_{index}.yml"
            self.files[path] = yaml.safe_dump({f"vf_{index}": f"v{index}", "chosen_handler": self.handlers[0]})
            play["vars_files"] = [path] if self._chance(0.7) else [["missing.yml", path]]
            self.words.append(f"vf_{index}")
        if self._chance(0.2):
            play["any_errors_fatal"] = True
        elif self._chance(0.2):
            play["max_fail_percentage"] = self.random.choice([0, 34, 50, "{{ most }}"])
        if self._chance(0.15):
            play["ignore_errors"] = True
        if self._chance(0.15):
            play["force_handlers"] = True
        if self._chance(0.15):
            play["tags"] = self.random.choice([[self.random.choice(TAGS)], "{{ play_tag }}"])
        setup = {"name": f"setup {index}", "command": f"mkdir -p {OUT}", "tags": ["always"], "check_mode": False}
        sections = {"pre_tasks": self._chance(0.25), "tasks": True, "post_tasks": self._chance(0.25)}
        for first, section in enumerate(name for name, present in sections.items() if present):
            tasks = [setup] if first == 0 else []
            tasks += [self.task() for _ in range(self.random.randint(1, 2) if section != "tasks" else
                                                 self.random.randint(3, 7))]
            if section == "tasks" and self._chance(0.3):
                tasks.append({"meta": "flush_handlers"})
                tasks += [self.task() for _ in range(self.random.randint(1, 3))]
            play[section] = tasks
        handlers: list[dict[str, Any]] = []
        for position, name in enumerate(self.handlers):
            handler: dict[str, Any] = {"name": name, "shell": f"echo {name.replace(' ', '-')} >> {OUT}/trace"}
            if position == 0 and self._chance(0.15):  # a handler that includes a task file
                path = f"handler_tasks_{index}.yml"
                self.files[path] = yaml.safe_dump([
                    {"name": f"{name} part {part}", "shell": f"echo {name.replace(' ', '-')}-{part} >> {OUT}/trace"}
                    for part in range(1, self.random.randint(2, 3))])
                handler = {"name": name, "include_tasks": path}
            elif position == 1 or self._chance(0.3):  # the topic has a listener or two
                handler["listen"] = self.topics[0]
            if "shell" in handler and self._chance(0.15):
                handler["shell"] += "; exit 1"
            if "shell" in handler and position == 0 and self._chance(0.15):  # it notifies the next one (in the same
                # flush; ansible-core refuses notify on an include_tasks handler)
                handler["notify"] = self.handlers[1]
            if self._chance(0.12):
                handler["when"] = self._host_condition()
            if self._chance(0.3):
                handler["tags"] = self.random.choice([["always"], [self.random.choice(TAGS)]])
            handlers.append(handler)
        play["handlers"] = handlers
        if self._chance(0.2):
            role: dict[str, Any] = {"role": self.role(1)}
            if self._chance(0.3):
                role[f"{role['role']}_word"] = f"p-{index}"  # a role parameter
            elif self._chance(0.2):
                role["vars"] = {f"{role['role']}_word": f"rv-{index}"}
            if self._chance(0.3):
                role["tags"] = [self.random.choice(TAGS)]
            if self._chance(0.3):
                role["when"] = self._host_condition()
            play["roles"] = [role]
        return play

    def playbook(self) -> list[dict[str, Any]]:
        plays = self.random.choice([1, 1, 2, 3])
        return [self.play(index) for index in range(1, plays + 1)]


def random_playbook(seed: int) -> RandomPlaybook:
    """The playbook for ``seed`` and how to run it."""
    generator = PlaybookGenerator(seed)
    text = yaml.safe_dump(generator.playbook(), sort_keys=False)
    return RandomPlaybook(seed, text, dict(EXTRA_VARS), list(MODES)[seed % len(MODES)], generator.files)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        case = random_playbook(int(argument))
        print(f"# seed {case.seed} ({case.mode}): ansible-playbook {shlex.join(case.ansible_args())}")
        print(case.text)
        for path, text in case.files.items():
            print(f"# {path}\n{text}")
