"""Drills: schema validation, the runner's phases, budget and verdicts, JUnit, the CLI (on the controller only).

The shipped drills against the Titan lab are in tests/test_runbooks_drills.py.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.forked_cli import run_cli
from titan_ops.drill import DrillError, load_drill, run_drill
from titan_ops.incident import Timeline
from titan_ops.playbook import load_playbook
from titan_ops.templating import Templar

INVENTORY = "all:\n  hosts:\n    ctl:\n      ansible_connection: local\n      titan_lab: true\n"
BREAK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: echo broken > {state}\n"
FIX = "- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: echo fine > {state}\n"
CHECK = ("- hosts: all\n  gather_facts: false\n  tasks:\n"
         "    - command: grep -qx fine {state}\n      check_mode: false\n      changed_when: false\n")
SLOW = "- hosts: all\n  gather_facts: false\n  tasks:\n    - pause: {{seconds: 1}}\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    state = tmp_path / "state.txt"
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    for name, text in (("break.yml", BREAK), ("fix.yml", FIX), ("check.yml", CHECK), ("slow.yml", SLOW)):
        (tmp_path / name).write_text(text.format(state=state))
    return tmp_path


def drill_file(folder: Path, text: str, name: str = "drill.yml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """
name: state file broken and fixed
budget_seconds: 60
fault:
  playbook: break.yml
recovery:
  - playbook: fix.yml
verification:
  - playbook: check.yml
"""


def test_a_drill_passes_and_times_the_recovery(workspace):
    drill = load_drill(drill_file(workspace, GOOD))
    seen = []
    result = run_drill(drill, workspace / "inventory.yml", observer=lambda phase, done: seen.append(
        (phase.kind, None if done is None else done.status)))
    assert result.passed and result.exit_code == 0
    assert seen == [("fault", None), ("fault", "passed"), ("recovery", None), ("recovery", "passed"),
                    ("verification", None), ("verification", "passed")]
    assert 0 < result.time_to_recover < 60
    assert result.time_to_recover >= sum(phase.duration for phase in result.phases[1:])
    assert (workspace / "state.txt").read_text() == "fine\n"


def test_shell_fault_steps_and_failed_verification(workspace):
    drill = load_drill(drill_file(workspace, """
        name: recovery that does not recover
        budget_seconds: 60
        fault:
          hosts: all
          shell: ["echo broken > {state}"]
        recovery:
          - {{playbook: break.yml, name: a wrong fix}}
        verification:
          - playbook: check.yml
        """.format(state=workspace / "state.txt")))
    result = run_drill(drill, workspace / "inventory.yml")
    assert not result.passed and result.exit_code == 2
    assert [phase.status for phase in result.phases] == ["passed", "passed", "failed"]
    assert "ctl: command: non-zero return code" in result.phases[2].message or "non-zero" in result.phases[2].message


def test_a_failed_recovery_skips_the_rest_but_still_verifies(workspace):
    (workspace / "boom.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: /bin/false\n")
    drill = load_drill(drill_file(workspace, """
        name: broken recovery
        budget_seconds: 60
        fault: {playbook: break.yml}
        recovery: [{playbook: boom.yml}, {playbook: fix.yml}]
        verification: [{playbook: check.yml}]
        """))
    result = run_drill(drill, workspace / "inventory.yml")
    assert [(phase.phase.name, phase.status) for phase in result.phases] == [
        ("break.yml", "passed"), ("boom.yml", "failed"), ("fix.yml", "skipped"), ("check.yml", "failed")]


def test_a_step_that_must_fail(workspace):
    """expect_failure: the step passes when its playbook fails (a runbook that must refuse), and fails if not."""
    (workspace / "boom.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - command: /bin/false\n")
    drill = load_drill(drill_file(workspace, """
        name: a refusal is part of the recovery
        budget_seconds: 60
        fault: {playbook: break.yml}
        recovery: [{playbook: boom.yml, expect_failure: true}, {playbook: fix.yml}]
        verification: [{playbook: check.yml}, {playbook: fix.yml, expect_failure: true},
                       {playbook: boom.yml, expect_failure: non-zero}, {playbook: boom.yml, expect_failure: refused}]
        """))
    result = run_drill(drill, workspace / "inventory.yml")
    assert [phase.status for phase in result.phases] == ["passed", "passed", "passed", "passed", "failed",
                                                         "passed", "failed"]
    assert result.phases[1].message.startswith("failed as expected: ctl: command:")
    assert result.phases[4].message == "expected to fail, but it passed"
    assert result.phases[6].message.startswith("expected to fail saying 'refused', but ctl: command:")


def test_cleanup_runs_after_the_verification(workspace):
    drill = load_drill(drill_file(workspace, """
        name: cleaned up
        budget_seconds: 60
        fault: {playbook: break.yml}
        recovery: [{playbook: fix.yml}]
        verification: [{playbook: check.yml}]
        cleanup: [{playbook: fix.yml}, {playbook: break.yml}]
        """))
    result = run_drill(drill, workspace / "inventory.yml")
    assert [(phase.phase.kind, phase.status) for phase in result.phases] == [
        ("fault", "passed"), ("recovery", "passed"), ("verification", "passed"), ("cleanup", "passed"),
        ("cleanup", "passed")]
    assert result.passed and result.time_to_recover is not None
    assert (workspace / "state.txt").read_text() == "broken\n", "the cleanup ran last"


def test_a_failed_fault_skips_everything(workspace):
    drill = load_drill(drill_file(workspace, """
        name: fault cannot be injected
        budget_seconds: 60
        fault: {hosts: nowhere, shell: [/bin/true]}
        recovery: [{playbook: fix.yml}]
        verification: [{playbook: check.yml}]
        """))
    result = run_drill(drill, workspace / "inventory.yml")
    assert [phase.status for phase in result.phases] == ["failed", "skipped", "skipped"]
    assert result.phases[0].message == "no host matched" and result.time_to_recover is None


def test_over_budget_fails_the_drill_and_junit_says_so(workspace):
    drill = load_drill(drill_file(workspace, """
        name: too slow
        budget_seconds: 0.5
        fault: {playbook: break.yml}
        recovery: [{playbook: slow.yml}, {playbook: fix.yml}]
        verification: [{playbook: check.yml}]
        """))
    junit = workspace / "drill.xml"
    done = run_cli(["drill", drill.path, "-i", workspace / "inventory.yml", "--junit", junit, "--incident", "DRILL-1",
                    "--incident-dir", workspace / "incidents"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PASSED  recovery     slow.yml" in done.stdout
    assert "FAILED: too slow: time to recover" in done.stdout and "(over budget)" in done.stdout
    root = ET.parse(junit).getroot()
    cases = root.findall("./testsuite/testcase")
    assert [case.get("classname") for case in cases] == ["drill.fault", "drill.recovery", "drill.recovery",
                                                          "drill.verification", "drill.budget"]
    assert root.get("tests") == "5" and root.get("failures") == "1"
    assert cases[-1].find("failure").get("type") == "over budget"
    entries = Timeline("DRILL-1", workspace / "incidents").entries()
    assert [entry["kind"] for entry in entries] == ["run", "run", "run", "run", "drill"]
    assert entries[-1]["passed"] is False and entries[-1]["over_budget"] is True


@pytest.mark.parametrize("text, message", [
    ("name: x\nfault: {playbook: break.yml}\nrecovery: [{playbook: fix.yml}]\nverification: [{playbook: check.yml}]\n",
     "drill.yml:1:1: missing required key 'budget_seconds'"),
    ("name: x\nbudget_seconds: 5\nfault: {playbook: break.yml, shell: [true], hosts: all}\n"
     "recovery: [{playbook: fix.yml}]\nverification: [{playbook: check.yml}]\n",
     "drill.yml:3:1: 'fault': a fault has either 'playbook', or 'shell' with 'hosts'"),
    ("name: x\nbudget_seconds: -1\nfault: {playbook: break.yml}\nrecovery: [{playbook: fix.yml}]\n"
     "verification: [{playbook: check.yml}]\n", "drill.yml:2:1: 'budget_seconds': invalid value -1"),
    ("name: x\nbudget_seconds: 5\nfault: {playbook: break.yml}\nrecovery: [{playbook: fix.yml, retries: 3}]\n"
     "verification: [{playbook: check.yml}]\n", "drill.yml:4:12: Additional properties are not allowed"),
    ("name: x\nbudget_seconds: 5\nfault: {playbook: break.yml}\nrecovery: [{playbook: nothere.yml}]\n"
     "verification: [{playbook: check.yml}]\n", "drill.yml:4:13: 'playbook': no playbook at"),
])
def test_bad_drill_files_are_refused_with_a_location(workspace, text, message):
    path = drill_file(workspace, text)
    with pytest.raises(DrillError) as caught:
        load_drill(path)
    assert str(caught.value).replace(str(workspace) + "/", "").startswith(message), str(caught.value)
    done = run_cli(["drill", path, "-i", workspace / "inventory.yml"], timeout=60)
    assert done.returncode == 5 and "ERROR!" in done.stderr


def test_a_drill_refuses_an_inventory_that_is_not_a_labs(workspace):
    """Drills inject faults: against production they would cause the incident they rehearse."""
    production = workspace / "production.yml"
    production.write_text(INVENTORY.replace("      titan_lab: true\n", "") + "    lab9:\n      ansible_connection: local\n      titan_lab: true\n")
    drill = drill_file(workspace, GOOD)
    command = ["drill", drill, "-i", production]
    done = run_cli(command, timeout=60)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "not a lab's inventory (hosts without titan_lab: true: ctl)" in done.stderr
    assert "--allow-non-lab" in done.stderr and "DRILL" not in done.stdout
    assert not (workspace / "state.txt").exists()
    with pytest.raises(DrillError, match="not a lab's inventory"):
        run_drill(load_drill(drill), production)
    assert not (workspace / "state.txt").exists()
    shipped = Path(__file__).resolve().parent.parent / "inventory" / "production"
    with pytest.raises(DrillError, match="not a lab's inventory"):
        run_drill(load_drill(drill), shipped)

    done = run_cli([*command, "--allow-non-lab"], timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (workspace / "state.txt").read_text() == "fine\n"


def test_every_shipped_drill_and_runbook_is_valid():
    root = Path(__file__).resolve().parent.parent
    drills = sorted(root.joinpath("drills").glob("*.yml"))
    assert len(drills) >= 5
    playbooks = set(root.joinpath("playbooks").glob("*.yml"))
    for path in drills:
        drill = load_drill(path)
        assert drill.recovery and drill.verification and drill.budget_seconds > 0
        playbooks.update(phase.playbook.resolve() for phase in drill.phases if phase.playbook is not None)
    templar = Templar()  # one for every playbook, as in a run: a template met twice is compiled once
    for path in sorted(playbooks):
        load_playbook(path, templar)
