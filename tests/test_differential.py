"""Differential tests: the same playbook through ansible-core and titan-ops,
on the same lab hosts, must give the same recap, exit code and final files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import titan_ops
from tests.oracle import oracle_inventory, run_ansible, titan_stats

pytestmark = pytest.mark.oracle

CASES_DIR = Path(__file__).parent / "differential"
OUT = "/srv/titan/diff"

CASES = [
    ("basics.yml", {}),
    ("loops.yml", {}),
    ("blocks.yml", {}),
    ("handlers.yml", {}),
    ("conditions.yml", {}),
    ("tags.yml", {"tags": ["one,both"]}),
    ("tags.yml", {"tags": ["debug"], "skip_tags": ["one"]}),
    ("tags.yml", {"skip_tags": ["two", "blocky"]}),
    ("tags.yml", {"tags": ["untagged"]}),
    ("precedence.yml", {"extra_vars": {"from_play": "extra"}}),
    ("control.yml", {}),
    ("serial.yml", {}),
    ("fatal.yml", {}),
    ("includes.yml", {}),
    ("checkmode.yml", {"check": True}),
    ("checkmode.yml", {}),
    ("filters.yml", {}),
    ("fail_undefined.yml", {}),
    ("misc.yml", {}),
    ("structure.yml", {}),
    ("become.yml", {}),
]


def _ansible_args(options: dict) -> list[str]:
    args: list[str] = []
    for tag in options.get("tags", []):
        args += ["--tags", tag]
    for tag in options.get("skip_tags", []):
        args += ["--skip-tags", tag]
    for key, value in options.get("extra_vars", {}).items():
        args += ["-e", f"{key}={value}"]
    if options.get("check"):
        args.append("--check")
    return args + ["-f", "3"]


def _clean(lab) -> None:
    for host in ("lab1", "lab2", "lab3"):
        shutil.rmtree(lab.host_path(host, OUT), ignore_errors=True)


def _snapshot(lab) -> dict[str, dict[str, tuple[str, bytes]]]:
    snapshot = {}
    for host in ("lab1", "lab2", "lab3"):
        root = lab.host_path(host, OUT)
        snapshot[host] = {str(path.relative_to(root)): (oct(path.stat().st_mode & 0o7777), path.read_bytes())
                          for path in sorted(root.rglob("*")) if path.is_file()} if root.exists() else {}
    return snapshot


@pytest.fixture(scope="module")
def ansible_inventory(lab, tmp_path_factory):
    return oracle_inventory(lab.inventory_path, tmp_path_factory.mktemp("oracle") / "inventory.yml")


@pytest.mark.parametrize("name,options", CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_same_outcome_as_ansible(lab, ansible_inventory, name, options):
    playbook = CASES_DIR / name
    _clean(lab)
    ansible_rc, ansible_stats = run_ansible(playbook, ansible_inventory, *_ansible_args(options))
    ansible_files = _snapshot(lab)
    _clean(lab)
    result = titan_ops.run(playbook, lab.inventory_path, forks=3, **options)
    titan_files = _snapshot(lab)
    _clean(lab)
    assert titan_stats(result) == ansible_stats
    assert result.exit_code == ansible_rc
    assert titan_files == ansible_files
