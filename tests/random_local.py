"""Random playbooks on three local hosts: many seeds compared with ansible-core in minutes, no sshd.

``python -m tests.random_local COUNT`` draws COUNT fresh seeds (``python -m tests.random_local --seeds S,S``
replays given ones), runs each seed's playbook with ansible-playbook and with titan-ops on three hosts of the
local connection, each writing under a folder of its own (the variable ``out`` stands for the lab's ``OUT``),
and prints one line per seed; a differing seed keeps its folder and prints the exit codes, recaps and files
that differ. The same comparison as tests/test_differential_random.py, which runs on the lab.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

import titan_ops
from tests.local_oracle import ORACLE_PYTHON, tree
from tests.oracle import run_ansible, titan_stats
from tests.random_playbooks import HOSTS, OUT, RandomPlaybook, random_playbook


def _local(value: Any) -> Any:
    """``value`` with the lab's OUT written ``{{ out }}``."""
    if isinstance(value, str):
        return value.replace(OUT, "{{ out }}")
    if isinstance(value, list):
        return [_local(item) for item in value]
    if isinstance(value, dict):
        return {_local(key): _local(item) for key, item in value.items()}
    return value


def _write(case: RandomPlaybook, folder: Path) -> None:
    for path, text in {"play.yml": case.text, **case.files}.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(yaml.safe_dump(_local(yaml.safe_load(text)), sort_keys=False))


def _inventory(folder: Path, side: str) -> Path:
    base = folder / side
    hosts = {host: {"ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON,
                    "out": str(base / host)} for host in HOSTS}
    base.mkdir()
    inventory = folder / f"inventory-{side}.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"lab": {"hosts": hosts}}}}))
    return inventory


def compare(seed: int, folder: Path) -> list[str]:
    """Run ``seed`` both ways in ``folder``; what differs (nothing: the same outcome)."""
    case = random_playbook(seed)
    _write(case, folder)
    ansible_rc, ansible_stats = run_ansible(folder / "play.yml", _inventory(folder, "ansible"), *case.ansible_args(),
                                            stopped=True)
    result = titan_ops.run(folder / "play.yml", _inventory(folder, "titan"), **case.options)
    differences = []
    if result.exit_code != ansible_rc:
        differences.append(f"exit code: ansible {ansible_rc}, titan-ops {result.exit_code}")
    if ansible_stats is None:  # an error stopped ansible's run before its recap: titan-ops' must stop too
        if result.error is None:
            differences.append("ansible-playbook stopped on an error, titan-ops did not")
    elif titan_stats(result) != ansible_stats:
        differences.append(f"recap: ansible {ansible_stats}\n  titan-ops {titan_stats(result)}")
    ansible_files, titan_files = tree(folder / "ansible"), tree(folder / "titan")
    for path in sorted(set(ansible_files) | set(titan_files)):
        if ansible_files.get(path) != titan_files.get(path):
            differences.append(f"{path}: ansible {ansible_files.get(path)}\n  titan-ops {titan_files.get(path)}")
    return differences


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.random_local", description=__doc__.split("\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=20, help="fresh seeds to draw")
    parser.add_argument("--seeds", help="comma-separated seeds to replay instead")
    options = parser.parse_args(argv)
    seeds = ([int(seed) for seed in options.seeds.split(",")] if options.seeds
             else random.SystemRandom().sample(range(1, 10**6), options.count))
    differing = 0
    for seed in seeds:
        folder = Path(tempfile.mkdtemp(prefix=f"titan-ops-random-{seed}-"))
        try:
            differences = compare(seed, folder)
        except AssertionError as error:  # ansible-playbook printed no recap: the playbook is not one it runs
            lines = str(error).splitlines()
            differences = ["ansible-playbook: " + next((line for line in lines if "[ERROR]" in line), lines[0])]
        if not differences:
            shutil.rmtree(folder)
            print(f"seed {seed} ({random_playbook(seed).mode}): the same", flush=True)
            continue
        differing += 1
        print(f"seed {seed} ({random_playbook(seed).mode}): DIFFERS, kept in {folder}; see it with "
              f"python -m tests.random_playbooks {seed}", flush=True)
        for difference in differences:
            print(f"  {difference}", flush=True)
    print(f"{len(seeds) - differing} of {len(seeds)} seeds the same")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
