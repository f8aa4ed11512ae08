"""ansible-core's own integration targets as a corpus nobody here wrote.

The targets come from ansible-core's release source package (scripts/setup.sh --test downloads it
into the oracle's ``src`` folder; its files are never part of this repository). ``runs.yml`` says
which targets run and how; every run is played by ansible-playbook (the oracle) and by titan-ops,
each in a fresh copy of the target, and every task result of both is recorded as
``(host, file:line, status)``. A task of ansible's behaves as in ansible-core when titan-ops gives
the same status for the same task at the same point of the run: the longest common subsequence of
the two records, per host. Refused runs (validation errors) count with every task ansible ran.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.forked_cli import run_cli
from tests.oracle import ORACLE_BIN, QUIET_ENV

HERE = Path(__file__).parent
REPOSITORY = HERE.parent.parent
ADAPTATION = HERE / "runs.yml"
SOURCE_DIR = Path(os.environ.get("TITAN_OPS_ANSIBLE_SOURCE", ORACLE_BIN.parent / "src"))
RECORDER_DIR = HERE.parent / "oracle_callback"
RUN_TIMEOUT = 900
TIMED_OUT = -1
# One local host, as ansible-test's controller inventory has it.
LOCAL_INVENTORY = ("[testgroup]\n"
                   "testhost ansible_connection=local ansible_pipelining=yes "
                   "ansible_python_interpreter=/usr/bin/python3\n")
# Bumped when a rule of the adaptation changes what a run does (it invalidates the oracle's cache).
ADAPTATION_VERSION = 1

Event = tuple[str, str, str]  # host, file:line relative to the side's root, status


@dataclass(frozen=True)
class Run:
    """One ansible-playbook command line of a target (or the role form of a role target)."""

    target: str
    index: int
    env: tuple[tuple[str, str], ...]
    args: tuple[str, ...]
    role: bool = False
    by_chance: frozenset[str] = frozenset()
    """Tasks (``file:line`` in the side's folder) whose hosts end ``ok`` or ``skipped`` by a random draw of
    the playbook's own (runs.yml's ``by_chance``)."""
    private_tmp: bool = False
    """Whether the run sees a /tmp of its own (runs.yml's ``private_tmp``): its tasks read /tmp as a whole, which
    other processes of the machine change meanwhile."""

    @property
    def name(self) -> str:
        return f"{self.target}#{self.index}"

    def describe(self) -> str:
        if self.role:
            return f"{self.target}: roles: [{self.target}]"
        env = " ".join(f"{key}={value}" for key, value in self.env)
        return f"{self.target}: {env + ' ' if env else ''}ansible-playbook {shlex.join(self.args)}"


@dataclass
class Outcome:
    """What one side did on one run: its exit code and every task result, in order."""

    rc: int
    events: list[Event] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"rc": self.rc, "events": [list(event) for event in self.events], "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(data["rc"], [tuple(event) for event in data["events"]], data.get("note", ""))


@dataclass
class Comparison:
    """A run's two outcomes, and how many of ansible's task results titan-ops matched."""

    run: Run
    oracle: Outcome
    titan: Outcome

    @property
    def matched(self) -> int:
        return sum(_common_subsequence(per_host(self.oracle).get(host, []), events)
                   for host, events in per_host(self.titan).items())

    @property
    def total(self) -> int:
        return len(self.oracle.events)

    @property
    def extra(self) -> int:
        """Task results of titan-ops with no counterpart in ansible's run."""
        return len(self.titan.events) - self.matched

    @property
    def same(self) -> bool:
        return self.oracle.rc == self.titan.rc and self.matched == self.total == len(self.titan.events)



def per_host(outcome: Outcome) -> dict[str, list[tuple[str, str]]]:
    """Each host's task results, in order (the order of two hosts' results of one task is chance's)."""
    hosts: dict[str, list[tuple[str, str]]] = {}
    for host, location, status in outcome.events:
        hosts.setdefault(host, []).append((location, status))
    return hosts


def _common_subsequence(left: list[Any], right: list[Any]) -> int:
    """The length of the longest common subsequence of two sequences."""
    previous = [0] * (len(right) + 1)
    for item in left:
        current = [0]
        for column, other in enumerate(right):
            current.append(previous[column] + 1 if item == other else max(previous[column + 1], current[column]))
        previous = current
    return previous[-1]


# -- the adaptation ----------------------------------------------------------------------------------
def load_runs(targets: Iterable[str] = ()) -> list[Run]:
    """The runs of ``runs.yml`` (of ``targets`` only, when given), in file order."""
    wanted = set(targets)
    adaptation = yaml.safe_load(ADAPTATION.read_text())
    chance = adaptation.get("by_chance") or {}
    private_tmp = set(adaptation.get("private_tmp") or ())
    runs = []
    for target, spec in adaptation["targets"].items():
        if wanted and target not in wanted:
            continue
        if spec == "role":
            runs.append(Run(target, 0, (), (), role=True, private_tmp=f"{target}#0" in private_tmp))
            continue
        for index, line in enumerate(spec):
            words = shlex.split(line)
            env = []
            while "=" in words[0] and words[0] != "ansible-playbook":
                key, _, value = words.pop(0).partition("=")
                env.append((key, value))
            assert words.pop(0) == "ansible-playbook", line
            tasks = frozenset(f"targets/{target}/{task}" for task in chance.get(f"{target}#{index}", ()))
            runs.append(Run(target, index, tuple(env), tuple(words), by_chance=tasks,
                            private_tmp=f"{target}#{index}" in private_tmp))
    return runs


BY_CHANCE = "ok or skipped"


def seed_independent(outcome: Outcome, run: Run) -> Outcome:
    """``outcome`` with the ``ok`` and ``skipped`` results of the run's ``by_chance`` tasks as one status
    (what chance decides there is not compared; a failure still is)."""
    if not run.by_chance:
        return outcome
    events = [(host, location, BY_CHANCE if location in run.by_chance and status in ("ok", "skipped") else status)
              for host, location, status in outcome.events]
    return Outcome(outcome.rc, events, outcome.note)


def source_archive() -> Path:
    """The ansible-core source package of the oracle's version (scripts/setup.sh --test fetches it)."""
    version = oracle_version()
    archive = SOURCE_DIR / f"ansible_core-{version}.tar.gz"
    assert archive.exists(), f"{archive} is missing: run scripts/setup.sh --test"
    return archive


def oracle_version() -> str:
    done = subprocess.run([str(ORACLE_BIN / "python"), "-c", "import ansible.release as r; print(r.__version__)"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def digest_of(archive: Path) -> str:
    return hashlib.sha256(archive.read_bytes()).hexdigest()


def run_key(run: Run, source_digest: str) -> str:
    """The cache key of a run's oracle outcome: the source, the run and the adaptation's rules."""
    key = [source_digest, ADAPTATION_VERSION, LOCAL_INVENTORY, run.target, run.env, run.args, run.role]
    text = json.dumps(key + ["private /tmp"] if run.private_tmp else key)
    return hashlib.sha256(text.encode()).hexdigest()


class Workspace:
    """The targets unpacked once; a fresh copy of a target (and what it needs) for each side."""

    def __init__(self, archive: Path, root: Path):
        self.root = root
        self.source = root / "source"
        if not self.source.exists():
            with tarfile.open(archive) as tar:
                prefix = tar.getnames()[0].split("/")[0] + "/test/integration/targets/"
                members = [member for member in tar.getmembers() if member.name.startswith(prefix)]
                for member in members:
                    member.name = member.name[len(prefix):]
                tar.extractall(self.source, members=members, filter="tar")

    def needed(self, target: str) -> set[str]:
        """``target`` and the targets it names: role dependencies and needs/target aliases."""
        found: set[str] = set()
        pending = [target]
        while pending:
            name = pending.pop()
            if name in found or not (self.source / name).is_dir():
                continue
            found.add(name)
            pending += _dependencies(self.source / name)
        return found

    def side(self, run: Run, side: str) -> Path:
        """A fresh ``<side>/<run>`` folder: ``inventory``, ``targets/<target>...``, ``roles`` and ``output``."""
        base = self.root / side / run.name.replace("#", "-")
        shutil.rmtree(base, ignore_errors=True)
        (base / "targets").mkdir(parents=True)
        for name in self.needed(run.target):
            shutil.copytree(self.source / name, base / "targets" / name, symlinks=True)
        (base / "inventory").write_text(LOCAL_INVENTORY)
        (base / "roles").symlink_to("targets")
        (base / "output").mkdir()
        if run.role:
            (base / f"{run.target}-role.yml").write_text(_role_playbook(run.target, self.source, base / "output"))
        return base


def _dependencies(target: Path) -> list[str]:
    names = []
    meta = target / "meta" / "main.yml"
    if meta.exists():
        for dependency in (yaml.safe_load(meta.read_text()) or {}).get("dependencies") or []:
            names.append(dependency["role"] if isinstance(dependency, dict) else str(dependency))
    aliases = target / "aliases"
    if aliases.exists():
        names += [line.split("/", 2)[2].strip() for line in aliases.read_text().splitlines()
                  if line.startswith("needs/target/")]
    return names


def _role_playbook(target: str, source: Path, output_dir: Path) -> str:
    aliases = (source / target / "aliases").read_text() if (source / target / "aliases").exists() else ""
    gather = "gather_facts/no" not in aliases
    play = {"hosts": "testhost", "gather_facts": gather, "vars": {"output_dir": str(output_dir)}, "roles": [target]}
    return yaml.safe_dump([play], sort_keys=False)


# -- running one side ----------------------------------------------------------------------------------
def _command(run: Run, base: Path) -> tuple[list[str], Path, dict[str, str]]:
    """The ansible-playbook arguments, the folder to run in and the environment of ``run`` in ``base``."""
    if run.role:
        return [f"{run.target}-role.yml", "-i", "inventory"], base, {"ANSIBLE_ROLES_PATH": str(base / "targets")}
    values = {"OUTPUT_DIR": str(base / "output"), "INVENTORY_PATH": str(base / "inventory")}
    args = [_expand(arg, values) for arg in run.args]
    return args, base / "targets" / run.target, {key: _expand(value, values) for key, value in run.env}


def _expand(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("${" + key + "}", value).replace("$" + key, value)
    return text


def run_oracle(run: Run, workspace: Workspace) -> Outcome:
    base = workspace.side(run, "oracle")
    args, cwd, env = _command(run, base)
    environment = {**os.environ, **QUIET_ENV, "ANSIBLE_CALLBACK_PLUGINS": str(RECORDER_DIR),
                   "ANSIBLE_STDOUT_CALLBACK": "titan_record", "OUTPUT_DIR": str(base / "output"), **env}
    command = [str(ORACLE_BIN / "ansible-playbook"), *args]
    try:
        done = subprocess.run(in_private_tmp(command, base) if run.private_tmp else command, cwd=cwd,
                              env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Outcome(TIMED_OUT, note="timed out")
    record = next((line for line in reversed(done.stdout.splitlines()) if line.startswith('{"plays"')), None)
    if record is None:  # (the recorder writes it with the recap: an error that ends the run leaves none)
        return Outcome(done.returncode, note=_last_line(done.stderr or done.stdout))
    events = []
    for play in json.loads(record)["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                events.append((host, _relative(task["task"]["path"], cwd, base), _ansible_status(result)))
    return Outcome(done.returncode, events)


def run_titan(run: Run, workspace: Workspace) -> Outcome:
    """titan-ops's outcome of ``run``: ``titan-ops run`` in a process of its own, as the oracle's; forked from a
    server that imported titan-ops (tests/forked_cli.py) without paying that import (most of a short run's CPU
    time) ~300 times, but for a run with a private /tmp (a ``python -m titan_ops`` of its own)."""
    base = workspace.side(run, "titan")
    args, cwd, env = _command(run, base)
    report = base / "result.json"
    argv = ["run", *args, "--output-json", str(report)]
    environment = {**os.environ, "OUTPUT_DIR": str(base / "output"), **env}
    try:
        if run.private_tmp:
            done = subprocess.run(in_private_tmp([sys.executable, "-m", "titan_ops", *argv], base), cwd=cwd,
                                  env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        else:
            done = run_cli(argv, cwd=cwd, env=environment, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Outcome(TIMED_OUT, note="timed out")
    if not report.exists():
        return Outcome(done.returncode, note=_last_line(done.stderr or done.stdout))
    document = json.loads(report.read_text())
    if document["error"]:  # (a run an error ended: ansible's record of it is only its exit code and error)
        return Outcome(done.returncode, note=document["error"][:300])
    events = []
    for play in document["plays"]:
        for host, results in play["tasks"].items():
            for result in results:
                location = result["location"].rsplit(":", 1)[0]
                events.append((host, _relative(location, cwd, base), result["status"]))
    return Outcome(done.returncode, events)


def in_private_tmp(command: list[str], base: Path) -> list[str]:
    """``command`` in a mount namespace of its own whose /tmp is an empty tmpfs but for the run's folder ``base``
    (and this checkout, its Python and the oracle, where they lie in /tmp), each bound back at its path: what
    other processes do in the machine's /tmp meanwhile is not seen, and what the run leaves there is gone with
    it."""
    tmp = Path("/tmp").resolve()
    needed = {Path(path).resolve() for path in (base, REPOSITORY, sys.prefix, sys.base_prefix, ORACLE_BIN.parent)}
    inside = sorted(path for path in needed if path.is_relative_to(tmp))
    outermost = [path for path in inside if not any(path != other and path.is_relative_to(other) for other in inside)]
    steps = ["mount -t tmpfs -o mode=1777 titan-ops-corpus-tmp /mnt"]
    for path in outermost:
        staged = shlex.quote(str(Path("/mnt") / path.relative_to(tmp)))
        steps += [f"mkdir -p {staged}", f"mount --rbind {shlex.quote(str(path))} {staged}"]
    steps += [f"mount --move /mnt {shlex.quote(str(tmp))}", 'exec "$@"']
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-ec", "\n".join(steps), "sh", *command]


def _ansible_status(result: dict[str, Any]) -> str:
    for flag in ("unreachable", "failed", "skipped"):
        if result.get(flag):
            return flag
    return "changed" if result.get("changed") else "ok"


def _relative(location: str, cwd: Path, base: Path) -> str:
    """``file:line`` with the file relative to the side's folder (symlinks resolved), and the line the one
    where the task's mapping starts (ansible's; titan-ops names the line of the module's key)."""
    path, _, line = location.rpartition(":")
    if not path or not line.isdigit():
        return location
    resolved = Path(os.path.realpath(cwd / path))
    starts = _task_starts(resolved)
    before = [start for start in starts.values() if start <= int(line)]
    line = str(starts.get(int(line), max(before, default=line)))
    try:
        return f"{resolved.relative_to(base.resolve())}:{line}"
    except ValueError:
        return f"{resolved}:{line}"


@functools.lru_cache(maxsize=512)
def _task_starts(path: Path) -> dict[int, int]:
    """In ``path``, the 1-based line of each key of a mapping that is an item of a sequence (a task's), to the
    line where that mapping starts (a key of an inner mapping, as ``vars:``' list items, maps to its own)."""
    try:
        root = yaml.compose(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    starts: dict[int, int] = {}
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.MappingNode):
                    for key, _ in item.value:
                        starts.setdefault(key.start_mark.line + 1, item.start_mark.line + 1)
            pending += node.value
        elif isinstance(node, yaml.MappingNode):
            pending += [value for _, value in node.value]
    return starts


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# -- the corpus ----------------------------------------------------------------------------------------
CACHE = HERE / "oracle_outcomes.json"


def load_cache() -> dict[str, Outcome]:
    """The oracle's recorded outcomes, by run key (see run_key)."""
    if not CACHE.exists():
        return {}
    return {key: Outcome.from_json(value) for key, value in json.loads(CACHE.read_text()).items()}


def save_cache(outcomes: dict[str, Outcome]) -> None:
    """Record the oracle's outcomes (not those of runs that timed out: they are played again)."""
    data = {key: outcomes[key].to_json() for key in sorted(outcomes) if outcomes[key].rc != TIMED_OUT}
    CACHE.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n")


def compare_runs(runs: list[Run], workspace: Workspace, oracle: dict[str, Outcome], source_digest: str,
                 workers: int = 2) -> list[Comparison]:
    """Every run by titan-ops, compared with the oracle's outcome (recorded in ``oracle`` by run key, or
    run now and added to it). A target's runs go one after the other; targets in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    by_target: dict[str, list[Run]] = {}
    for run in runs:
        by_target.setdefault(run.target, []).append(run)

    def play_target(target_runs: list[Run]) -> list[Comparison]:
        compared = []
        for run in target_runs:
            key = run_key(run, source_digest)
            if key not in oracle:
                oracle[key] = run_oracle(run, workspace)
            compared.append(Comparison(run, seed_independent(oracle[key], run),
                                       seed_independent(run_titan(run, workspace), run)))
        return compared

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # the longest targets first, so that the last worker does not start a long one alone
        ordered = sorted(by_target.values(), key=len, reverse=True)
        results = [comparison for batch in pool.map(play_target, ordered) for comparison in batch]
    order = {run.name: position for position, run in enumerate(runs)}
    return sorted(results, key=lambda comparison: order[comparison.run.name])


def summary(comparisons: list[Comparison]) -> list[str]:
    """The lines CI prints: the share, then a line per target."""
    total = sum(comparison.total for comparison in comparisons)
    matched = sum(comparison.matched for comparison in comparisons)
    refused = [comparison for comparison in comparisons if comparison.titan.rc == 5 and not comparison.titan.events]
    same = sum(comparison.same for comparison in comparisons)
    targets: dict[str, list[Comparison]] = {}
    for comparison in comparisons:
        targets.setdefault(comparison.run.target, []).append(comparison)
    lines = [f"ansible-core integration targets: {matched}/{total} task results as in ansible-core "
             f"({share(comparisons):.1%}); {len(comparisons)} runs of {len(targets)} targets: "
             f"{same} the same in every task and exit code, {len(refused)} refused by titan-ops; "
             f"{sum(c.extra for c in comparisons)} task results of titan-ops with no counterpart"]
    for target, items in targets.items():
        target_total = sum(item.total for item in items)
        target_matched = sum(item.matched for item in items)
        notes = sorted({item.titan.note for item in items if item.titan.note})
        lines.append(f"  {target:<24} {target_matched:>4}/{target_total:<4} runs same {sum(i.same for i in items)}"
                     f"/{len(items)}  {'; '.join(notes)[:150]}")
    return lines


def share(comparisons: list[Comparison]) -> float:
    total = sum(comparison.total for comparison in comparisons)
    return sum(comparison.matched for comparison in comparisons) / total if total else 1.0
