"""A seeded fuzzer of the shipped playbooks and inventories (issue 12 §5).

Each mutant is one to three text mutations (lines deleted, doubled, swapped, re-indented, cut; tokens and
hostile values inserted: unclosed templates, aliases, huge ranges and powers, bytes that are not UTF-8) of
one file of ``playbooks/`` (a runbook or a task file) or ``inventory/production/``. It runs through the real
``titan-ops run``, one after the other, each in a process of its own (forked from a server that imported
titan-ops: tests/forked_cli.py) that is killed at :data:`DEADLINE`, on the local connection, in check mode,
with tags that select none of the runbook's tasks: only the probe play imported first runs, and it touches a
marker.

A mutant passes when the command returns (within :data:`DEADLINE` seconds) with a known exit code and no
traceback, and when it exits 5 (bad input): exactly one error line, naming ``file:line`` or the option, and
no marker (no host was touched). ``python -m tests.fuzz_inputs SEED COUNT`` prints one JSON line per failing
mutant (its seed, file, mutations and what went wrong) and a last line with the totals.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.forked_cli import run_cli

REPO = Path(__file__).resolve().parent.parent
DEADLINE = 20
"""Seconds one mutant may take before it counts as a hang."""
KNOWN_EXIT_CODES = frozenset({0, 1, 2, 4, 5})
LOCATED = re.compile(r"ERROR! (\S+:\d+(:\d+)?: |'--?[\w-]+': )")

TOKENS = ["{{", "}}", "{{ x", "{%", "{% for x in y %}", "&a", "*a", "*nope", "[", "]", "{", "}", ":", "- ", "\t",
          '"', "'", "!vault", "!unsafe", "!!python/object:os.system", "|", ">", "%", "@", "`", "~", "null", "yes",
          "-1", "1e400", "abc", "{{ nope }}", "{{ 10 ** 100000000 }}", "{{ range(10**12) | list }}",
          "{{ 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' | regex_search('(a|aa)+c') }}",
          "web[1:100000000]", "lab[1", "&a [*a, *a]", "\x00", "\ufeff", "\u2028", "\x85"]
LINES = ["  serial: abc", "  max_fail_percentage: '{{ x'", "  vars_files: [missing.yml]", "      notify: nope",
         "    - block:", "  hosts: web[1:100000000]", "    web[1:100000000]:", "  tasks: 5", "- hosts:",
         "  roles: [nope]", "    - include_tasks: nope.yml", "    - import_tasks: nope.yml", "x: &a [*a]",
         "  strategy: nope", "      loop: 5", "      when: '{{'", "  vars: [1]", "      register: 5"]
BYTES = [b"\xff", b"\xfe\xff", b"\xc3", b"\x80\x80", b"\xed\xa0\x80"]

PROBE = """\
- name: probe (touches the marker when hosts are touched)
  hosts: all
  connection: local
  gather_facts: false
  become: false
  tasks:
    - command: touch {marker}
      run_once: true
      tags: [always]
"""


@dataclass
class Mutant:
    seed: int
    file: str
    mutations: list[str] = field(default_factory=list)


def mutate(data: bytes, rng: random.Random, mutations: list[str]) -> bytes:
    """``data`` with one random mutation; its description appended to ``mutations``."""
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    kind = rng.choice(["delete", "double", "swap", "indent", "dedent", "token", "line", "bytes", "cut", "value"])
    if kind == "delete":
        del lines[index]
    elif kind == "double":
        lines.insert(index, lines[index])
    elif kind == "swap" and index + 1 < len(lines):
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    elif kind == "indent":
        lines[index] = b"  " + lines[index]
    elif kind == "dedent":
        lines[index] = lines[index][2:] if lines[index].startswith(b"  ") else lines[index]
    elif kind == "token":
        token = rng.choice(TOKENS).encode()
        column = rng.randrange(len(lines[index]) + 1)
        lines[index] = lines[index][:column] + token + lines[index][column:]
        kind = f"token {token!r} at column {column + 1}"
    elif kind == "line":
        line = rng.choice(LINES)
        lines.insert(index, line.encode())
        kind = f"line {line!r}"
    elif kind == "bytes":
        column = rng.randrange(len(lines[index]) + 1)
        lines[index] = lines[index][:column] + rng.choice(BYTES) + lines[index][column:]
    elif kind == "cut":
        cut = rng.randrange(len(data) + 1)
        mutations.append(f"cut at byte {cut}")
        return data[:cut]
    elif kind == "value" and b": " in lines[index]:
        key = lines[index].split(b": ", 1)[0]
        value = rng.choice(TOKENS + ["[]", "{}", "0", "-5", "100%", "1.5", "true"]).encode()
        lines[index] = key + b": " + value
        kind = f"value {value!r}"
    mutations.append(f"{kind} at line {index + 1}")
    return b"\n".join(lines)


class Fuzzer:
    """The shipped files copied to a scratch folder; each mutant written over one of them, run, and put back."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.exit_codes: Counter[int] = Counter()
        shutil.copytree(REPO / "playbooks", scratch / "playbooks")
        shutil.copytree(REPO / "inventory" / "production", scratch / "inventory")
        self.marker = scratch / "marker"
        (scratch / "playbooks" / "probe.yml").write_text(PROBE.format(marker=self.marker))
        self.runbooks = sorted(path.name for path in (REPO / "playbooks").glob("*.yml"))
        self.task_files = sorted(f"tasks/{path.name}" for path in (REPO / "playbooks" / "tasks").glob("*.yml"))
        self.inventory_files = sorted(str(path.relative_to(REPO / "inventory" / "production"))
                                      for path in (REPO / "inventory" / "production").rglob("*.yml"))

    def _runbook_including(self, task_file: str, rng: random.Random) -> str:
        name = Path(task_file).name
        users = [runbook for runbook in self.runbooks
                 if name in (REPO / "playbooks" / runbook).read_text(encoding="utf-8")]
        return rng.choice(users or self.runbooks)

    def mutant(self, seed: int) -> dict[str, Any] | None:
        """Run the mutant of ``seed``; what went wrong, or None."""
        rng = random.Random(seed)
        kind = rng.choice(["runbook", "runbook", "task file", "inventory"])
        if kind == "runbook":
            runbook = rng.choice(self.runbooks)
            target = self.scratch / "playbooks" / runbook
        elif kind == "task file":
            task_file = rng.choice(self.task_files)
            runbook = self._runbook_including(task_file, rng)
            target = self.scratch / "playbooks" / task_file
        else:
            runbook = rng.choice(self.runbooks)
            target = self.scratch / "inventory" / rng.choice(self.inventory_files)
        mutant = Mutant(seed, str(target.relative_to(self.scratch)))
        original = target.read_bytes()
        data = original
        for _ in range(rng.randint(1, 3)):
            data = mutate(data, rng, mutant.mutations)
        target.write_bytes(data)
        wrapper = self.scratch / "playbooks" / "fuzz.yml"
        wrapper.write_text(f"- import_playbook: probe.yml\n- import_playbook: {runbook}\n")
        try:
            problem = self._run(wrapper)
        finally:
            target.write_bytes(original)
            self.marker.unlink(missing_ok=True)
        if problem is None:
            return None
        return {"seed": seed, "file": mutant.file, "runbook": runbook, "mutations": mutant.mutations, **problem}

    def _run(self, playbook: Path) -> dict[str, Any] | None:
        args = ["run", "-i", str(self.scratch / "inventory"), str(playbook), "--check", "--connection", "local",
                "--tags", "titan-ops-fuzz-selects-none", "-e", "ansible_become=false", "-e", "incident_id=FUZZ",
                "--incident-dir", str(self.scratch / "incidents"), "--timeout", "5", "--command-timeout", "10"]
        try:
            done = run_cli(args, cwd=self.scratch, timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            return {"problem": f"no answer within {DEADLINE} s (killed)"}
        code, stderr = done.returncode, done.stderr
        self.exit_codes[code] += 1
        errors = [line for line in stderr.splitlines() if line.startswith("ERROR!")]
        if "Traceback" in stderr:
            return {"problem": "a traceback", "stderr": stderr[-2000:]}
        if code not in KNOWN_EXIT_CODES:
            return {"problem": f"exit code {code}", "stderr": stderr[-2000:]}
        if code == 5:
            if len(errors) != 1 or not LOCATED.match(errors[0]):
                return {"problem": "bad input without exactly one located error line", "stderr": stderr[-2000:]}
            if self.marker.exists():
                return {"problem": "bad input found after a host was touched", "stderr": stderr[-2000:]}
        return None


def fuzz(seed: int, mutants: range) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """Run the mutants of ``seed`` numbered ``mutants`` (``range(120)``: its first 120); how many ended with each
    exit code, and the failures."""
    failures = []
    with tempfile.TemporaryDirectory(prefix="titan-ops-fuzz-") as scratch:
        fuzzer = Fuzzer(Path(scratch))
        for offset in mutants:
            failure = fuzzer.mutant(seed * 100_003 + offset)
            if failure is not None:
                failures.append(failure)
    return dict(fuzzer.exit_codes), failures


if __name__ == "__main__":
    exit_codes, found = fuzz(int(sys.argv[1]), range(int(sys.argv[2])))
    for failure in found:
        print(json.dumps(failure))
    print(json.dumps({"seed": int(sys.argv[1]), "exit_codes": exit_codes, "failures": len(found)}))
