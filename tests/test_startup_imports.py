"""``titan-ops run`` imports only what the run needs: start-up time is part of every run's wall time."""

from __future__ import annotations

import json
import re
import subprocess
import sys

SCRIPT = """
import contextlib, io, json, sys
from titan_ops.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

NOT_FOR_A_RUN = ("titan_ops.lab", "titan_ops.drill", "titan_ops.incident", "titan_ops.triage",
                 "titan_ops.output.junit", "titan_ops.output.json_output", "titan_ops.modules.files",
                 "titan_ops.modules.uri", "titan_ops.modules.postgresql", "titan_ops.modules.evidence",
                 "titan_ops.engine.dispatch_cluster", "titan_ops.engine.dispatch_shard", "dask", "distributed")


def _imported(*argv: str) -> tuple[int, list[str]]:
    """Run the CLI in a fresh Python; its exit code and every module it imported."""
    output = subprocess.run([sys.executable, "-c", SCRIPT, *argv], capture_output=True, text=True, check=True)
    report = json.loads(output.stdout.splitlines()[-1])
    return report["code"], report["modules"]


def test_a_run_imports_only_the_modules_it_uses(tmp_path):
    (tmp_path / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n")
    (tmp_path / "hosts.ini").write_text("localhost ansible_connection=local\n")
    code, modules = _imported("run", str(tmp_path / "play.yml"), "-i", str(tmp_path / "hosts.ini"))
    assert code == 0
    assert "titan_ops.modules.command" in modules
    unexpected = [name for name in modules if name.startswith(NOT_FOR_A_RUN)]
    assert not unexpected, f"a command-only run imported {unexpected}"


def test_the_parser_imports_no_engine():
    code, modules = _imported("--version")
    assert code == 0
    assert not [name for name in modules if name.startswith(("titan_ops.engine", "titan_ops.playbook", "jsonschema",
                                                            "jinja2", "paramiko"))]


def test_checks_that_passed_before_import_no_jsonschema(tmp_path, monkeypatch):
    """A playbook checked by an earlier run is not checked again: jsonschema is not even imported.
    A bad one is checked and reported every time, and an edited one is checked anew."""
    monkeypatch.setenv("TITAN_OPS_CACHE_DIR", str(tmp_path / "cache"))
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - command: 'true'\n    - file: {path: '/tmp/{{ inventory_hostname }}', state: directory}\n")
    validate = ("validate", str(playbook))
    first_code, first = _imported(*validate)
    second_code, second = _imported(*validate)
    assert (first_code, second_code) == (0, 0)
    assert "jsonschema" in first and "jsonschema" not in second
    playbook.write_text(playbook.read_text().replace("state: directory", "state: folder"))
    for _ in range(2):
        code, modules = _imported(*validate)
        assert code != 0 and "jsonschema" in modules
    (tmp_path / "cache" / "passed-checks").write_text("not a digest\n" + "f" * 64 + "\n")
    playbook.write_text(playbook.read_text().replace("state: folder", "state: directory"))
    code, modules = _imported(*validate)
    assert code == 0 and "jsonschema" in modules  # a damaged memory is only forgotten


def test_arguments_rendered_alike_on_a_later_run_are_not_checked_again(tmp_path, monkeypatch):
    monkeypatch.setenv("TITAN_OPS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n"
                                       "    - stat: {path: '{{ inventory_hostname }}'}\n")
    (tmp_path / "hosts.ini").write_text("localhost ansible_connection=local\n")
    run = ("run", str(tmp_path / "play.yml"), "-i", str(tmp_path / "hosts.ini"))
    assert _imported(*run)[0] == 0
    code, modules = _imported(*run)
    assert code == 0 and "jsonschema" not in modules


def test_a_run_builds_the_options_of_its_own_command_only(tmp_path, monkeypatch, capsys):
    from titan_ops import cli

    built: list[str] = []
    for command in cli.COMMANDS:
        monkeypatch.setattr(command, "register", _recording(command.register, built))
    (tmp_path / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n")
    (tmp_path / "hosts.ini").write_text("localhost ansible_connection=local\n")
    assert cli.main(["run", str(tmp_path / "play.yml"), "-i", str(tmp_path / "hosts.ini")]) == 0
    assert built == ["titan_ops.commands.run"]
    built.clear()
    capsys.readouterr()
    assert cli.main(["--help"]) == 0
    assert built == [command.__name__ for command in cli.COMMANDS]
    listing = capsys.readouterr().out
    assert all(re.search(rf"^    {name.rpartition('.')[2]}\s", listing, re.MULTILINE) for name in built)
    assert cli.main(["runn", "play.yml"]) == 5  # not a command: argparse names every one
    assert "invalid choice: 'runn' (choose from 'run', 'validate'" in capsys.readouterr().err


def _recording(register, built):
    def recorded(subparsers):
        built.append(register.__module__)
        register(subparsers)
    return recorded
