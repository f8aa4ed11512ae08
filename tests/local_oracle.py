"""A playbook played by ansible-playbook and by titan-ops on the local connection, each in a folder of
its own (the variable ``base``), compared task by task and by the files left in the folder."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import titan_ops
from tests.oracle import QUIET_ENV, require_oracle

ORACLE_PYTHON = "/opt/titan-ops-oracle/bin/python"
RECORDER = {"ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "oracle_callback"),
            "ANSIBLE_STDOUT_CALLBACK": "titan_record"}


@dataclass
class Side:
    """One side's exit code, its ``(task name, status, compared result keys)`` per task, and its files."""

    rc: int
    tasks: list[tuple[str, str, dict[str, Any]]]
    files: dict[str, Any]


def project(folder: Path, playbook: str, files: dict[str, str] | None = None) -> tuple[Path, Path]:
    """``play.yml`` (and controller ``files``) in ``folder``, with an inventory of one local host ``h``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "play.yml").write_text(playbook)
    inventory = folder / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"h": {
        "ansible_connection": "local", "ansible_python_interpreter": ORACLE_PYTHON}}}}))
    return folder / "play.yml", inventory


def play_titan(folder: Path, base: Path, keys: tuple[str, ...], host: str = "h", **options: Any) -> Side:
    """titan-ops's side: ``play.yml`` of ``folder`` run with ``base`` (created empty); ``host``'s tasks."""
    base.mkdir(parents=True)
    result = titan_ops.run(folder / "play.yml", folder / "inventory.yml", extra_vars={"base": str(base)},
                           **options)
    tasks = [(r.task, r.status.value, _kept(r.result, keys, base)) for r in result.host_results(host)]
    return Side(result.exit_code, tasks, tree(base))


def play_ansible(folder: Path, base: Path, keys: tuple[str, ...], *args: str, host: str = "h") -> Side:
    """ansible-playbook's side, as :func:`play_titan`."""
    base.mkdir(parents=True)
    done = subprocess.run([str(require_oracle()), "-i", "inventory.yml", "play.yml", "-e", f"base={base}", *args],
                          cwd=folder, capture_output=True, text=True, env={**os.environ, **QUIET_ENV, **RECORDER},
                          timeout=300)
    assert "{" in done.stdout, f"no JSON from ansible-playbook (rc={done.returncode}): {done.stdout}{done.stderr}"
    report = json.loads(done.stdout[done.stdout.index("{"):])
    tasks = []
    for play in report["plays"]:
        for task in play["tasks"]:
            if host in task["hosts"]:
                result = task["hosts"][host]
                tasks.append((task["task"]["name"], _status(result), _kept(result, keys, base)))
    return Side(done.returncode, tasks, tree(base))


def tree(base: Path) -> dict[str, Any]:
    """Every path under ``base``: its kind, permissions and content (a link's target)."""
    found: dict[str, Any] = {}
    for path in sorted(base.rglob("*")):
        info = path.lstat()
        name = str(path.relative_to(base))
        if stat.S_ISLNK(info.st_mode):
            found[name] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            found[name] = ("directory", oct(stat.S_IMODE(info.st_mode)))
        else:
            found[name] = ("file", oct(stat.S_IMODE(info.st_mode)), path.read_bytes())
    return found


def _status(result: dict[str, Any]) -> str:
    for flag in ("unreachable", "failed", "skipped"):
        if result.get(flag):
            return flag
    return "changed" if result.get("changed") else "ok"


def _kept(result: dict[str, Any], keys: tuple[str, ...], base: Path) -> dict[str, Any]:
    """The ``keys`` of ``result`` it has, with the side's ``base`` written ``BASE``."""
    kept = {key: result[key] for key in keys if key in result}
    return json.loads(json.dumps(kept).replace(str(base), "BASE"))
