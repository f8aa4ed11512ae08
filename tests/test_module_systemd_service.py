"""``systemd_service`` (``systemd``) on the local connection, against the STAND-IN systemctl of
tests/standins/ (systemd cannot run here), put first on the PATH by the play's ``environment``; its unit
state lives in files under the run's ``base``. The same playbooks run by ansible-core are the oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import titan_ops
from tests.local_oracle import Side, play_ansible, play_titan, project

STANDINS = Path(__file__).resolve().parent / "standins"
KEYS = ("changed", "name", "state", "enabled", "status", "msg")
SHOWN = ("LoadState", "ActiveState", "SubState", "UnitFileState")
"""The ``status`` properties compared with ansible-core (MainPID is the stand-in's PID of the moment)."""


def playbook(units: str, tasks: str, environment: str = "") -> str:
    """A play on ``h`` whose first task writes the stand-in's ``units`` (shell lines run in its root; once,
    also in check mode)."""
    setup = "\n".join(f"        {line}" for line in units.strip().splitlines())
    return f"""
- hosts: all
  gather_facts: false
  environment:
    PATH: "{STANDINS}:/usr/bin:/bin"
    SYSTEMCTL_STANDIN_ROOT: "{{{{ base }}}}/systemd"{environment}
  tasks:
    - name: units
      check_mode: false
      args: {{creates: "{{{{ base }}}}/systemd/units"}}
      shell: |
        mkdir -p "{{{{ base }}}}/systemd" && cd "{{{{ base }}}}/systemd" && mkdir units masked enabled || exit 1
{setup}
{tasks}"""


def calls(side_base: Path) -> list[str]:
    return (side_base / "systemd" / "calls.log").read_text().splitlines()


def comparable(side: Side) -> tuple[list[Any], dict[str, Any]]:
    """The tasks (``status`` cut to SHOWN, a message's trailing line break dropped, an empty one left out) and the stand-in's
    unit state (its calls.log left out: the two call systemctl differently)."""
    tasks = []
    for name, status, result in side.tasks:
        kept = dict(result)
        if "status" in kept:
            kept["status"] = {key: value for key, value in kept["status"].items() if key in SHOWN}
        if "msg" in kept:  # (shell's empty one is not this module's)
            kept["msg"] = kept["msg"].rstrip("\n")
            if not kept["msg"]:
                del kept["msg"]
        tasks.append((name, status, kept))
    files = {name: value[:2] for name, value in side.files.items() if not name.endswith("calls.log")}
    return tasks, files


STATES = playbook("""
touch units/titan-feed.service units/titan-brain.service
printf 'start=fails\\n' > units/titan-broken.service
""", """
    - {name: start, systemd: {name: titan-feed, state: started}, register: first}
    - {name: start again, ansible.builtin.systemd: {name: titan-feed.service, state: started}}
    - {name: restart, ansible.builtin.systemd_service: {name: titan-feed, state: restarted}, register: restart}
    - {name: reload, ansible.legacy.systemd: {unit: titan-feed, state: reloaded}}
    - {name: stop, systemd_service: {service: titan-feed, state: stopped}}
    - {name: stop again, systemd: {name: titan-feed, state: stopped}}
    - {name: reload a stopped unit starts it, systemd: {name: titan-brain, state: reloaded}}
    - {name: enable, systemd: {name: titan-brain, enabled: true}}
    - {name: enable again, systemd: {name: titan-brain, enabled: true}}
    - {name: status only, systemd: {name: titan-brain}}
    - {name: missing, systemd: {name: titan-nosuch, state: started}, ignore_errors: true}
    - {name: failing start, systemd: {name: titan-broken, state: started}, ignore_errors: true}
    - {name: enable a missing unit, systemd: {name: titan-nosuch, enabled: false}, ignore_errors: true}
    - {name: a glob, systemd: {name: "titan-*", state: started}, ignore_errors: true}
    - name: the restart changed the main PID
      assert: {that: "restart.status.MainPID != '0' and first.status.MainPID == '0'"}
""")


def test_states_names_and_failures(tmp_path):
    folder = tmp_path / "project"
    project(folder, STATES)
    side = play_titan(folder, tmp_path / "base", KEYS)
    tasks, files = comparable(side)
    assert [(name, status) for name, status, _ in tasks] == [
        ("units", "changed"), ("start", "changed"), ("start again", "ok"), ("restart", "changed"),
        ("reload", "changed"), ("stop", "changed"), ("stop again", "ok"),
        ("reload a stopped unit starts it", "changed"), ("enable", "changed"), ("enable again", "ok"),
        ("status only", "ok"), ("missing", "failed"), ("failing start", "failed"),
        ("enable a missing unit", "failed"), ("a glob", "failed"), ("the restart changed the main PID", "ok")]
    results = {name: result for name, _, result in tasks}
    assert results["start"] == {"changed": True, "name": "titan-feed", "state": "started", "status": {
        "LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead", "UnitFileState": "disabled"}}
    assert results["reload a stopped unit starts it"]["state"] == "started"
    assert results["enable"]["enabled"] is True and "state" not in results["enable"]
    assert results["status only"]["status"]["ActiveState"] == "active"
    assert results["missing"]["msg"] == "Could not find the requested service titan-nosuch: host"
    assert results["enable a missing unit"]["msg"] == "Could not find the requested service titan-nosuch: host"
    assert results["failing start"]["msg"] == ("Unable to start service titan-broken: Job for titan-broken.service "
                                               "failed because the control process exited with error code.")
    assert results["a glob"]["msg"] == \
        "This module does not currently support using glob patterns, found '*' in service name: titan-*"
    assert "systemd/active/titan-brain.service" in files and "systemd/enabled/titan-brain.service" in files
    assert "systemd/active/titan-feed.service" not in files and "systemd/failed/titan-broken.service" in files
    acts = [call for call in calls(tmp_path / "base") if not call.startswith(("show", "is-enabled"))]
    assert acts == ["start -- titan-feed", "restart -- titan-feed", "reload -- titan-feed", "stop -- titan-feed",
                    "start -- titan-brain", "enable -- titan-brain", "start -- titan-broken"]


DAEMON_AND_MASKS = playbook("""
touch units/titan-feed.service units/titan-brain.service masked/titan-brain.service enabled/titan-brain.service
""", """
    - {name: reload systemd, systemd: {daemon_reload: true}}
    - {name: re-execute systemd, systemd: {daemon-reexec: true}}
    - {name: reload first, systemd: {name: titan-feed, daemon-reload: true, state: started, enabled: true}}
    - {name: masked unit refuses to start, systemd: {name: titan-brain, state: started}, ignore_errors: true}
    - {name: unmask then enable, systemd: {name: titan-brain, masked: false, enabled: true}}
    - {name: mask then enable fails, systemd: {name: titan-feed, masked: true, enabled: true},
       ignore_errors: true}
    - {name: mask a unit that does not exist, systemd: {name: titan-ghost, masked: true}}
    - {name: mask it again, systemd: {name: titan-ghost, masked: true}}
""")


def test_daemon_reload_first_and_masked_before_enabled(tmp_path):
    folder = tmp_path / "project"
    project(folder, DAEMON_AND_MASKS)
    side = play_titan(folder, tmp_path / "base", KEYS)
    tasks, files = comparable(side)
    assert [(name, status) for name, status, _ in tasks] == [
        ("units", "changed"), ("reload systemd", "ok"), ("re-execute systemd", "ok"), ("reload first", "changed"),
        ("masked unit refuses to start", "failed"), ("unmask then enable", "changed"),
        ("mask then enable fails", "failed"), ("mask a unit that does not exist", "changed"),
        ("mask it again", "ok")]
    results = {name: result for name, _, result in tasks}
    assert results["reload systemd"] == {"changed": False, "name": None, "status": {}}
    assert results["masked unit refuses to start"]["msg"] == \
        "Unable to start service titan-brain: Failed to start titan-brain.service: Unit titan-brain.service is masked."
    assert results["mask then enable fails"]["msg"] == \
        "Unable to enable service titan-feed: Failed to enable unit: Unit file titan-feed.service is masked."
    log = calls(tmp_path / "base")
    assert log[:6] == ["daemon-reload", "daemon-reexec", "daemon-reload", "is-enabled -- titan-feed",
                       "show -- titan-feed", "enable -- titan-feed"]
    assert [call for call in log if call.startswith(("mask", "unmask", "enable"))] == [
        "enable -- titan-feed", "unmask -- titan-brain", "enable -- titan-brain", "mask -- titan-feed",
        "enable -- titan-feed", "mask -- titan-ghost"]
    assert {"systemd/masked/titan-feed.service", "systemd/masked/titan-ghost.service",
            "systemd/enabled/titan-brain.service"} <= set(files)
    assert "systemd/masked/titan-brain.service" not in files


def test_a_failing_daemon_reload_fails_before_the_unit_is_touched(tmp_path):
    folder = tmp_path / "project"
    project(folder, playbook("touch units/titan-feed.service read-only", """
    - {name: reload, systemd: {name: titan-feed, daemon_reload: true, state: started}, ignore_errors: true}
"""))
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert side.tasks[1][1] == "failed"
    assert side.tasks[1][2]["msg"] == "failure 1 during daemon-reload: Failed to reload daemon: Access denied"
    assert calls(tmp_path / "base") == ["daemon-reload"]


SCOPES = playbook("""
mkdir -p user/units global/units "{{ base }}/run"
touch units/titan-feed.service user/units/titan-agent.service global/units/titan-agent.service "{{ base }}/run/bus"
""", """
    - {name: user unit, systemd: {name: titan-agent, scope: user, state: started, no_block: true},
       environment: {XDG_RUNTIME_DIR: "{{ base }}/run"}}
    - {name: no user bus, systemd: {name: titan-agent, scope: user, state: started}, ignore_errors: true,
       environment: {XDG_RUNTIME_DIR: "{{ base }}/nobus"}}
    - {name: global, systemd: {name: titan-agent, scope: global, enabled: true, force: true}}
    - {name: global start, systemd: {name: titan-agent, scope: global, state: started}, ignore_errors: true}
""")


def test_scope_no_block_and_force_reach_systemctl(tmp_path):
    folder = tmp_path / "project"
    project(folder, SCOPES)
    side = play_titan(folder, tmp_path / "base", KEYS)
    assert [status for _, status, _ in side.tasks] == ["changed", "changed", "failed", "changed", "failed"]
    assert side.tasks[2][2]["msg"] == "Failed to connect to bus: No such file or directory"
    assert side.tasks[4][2]["msg"] == "Service is in unknown state"
    log = calls(tmp_path / "base")
    assert "--user --no-block start -- titan-agent" in log and "--global --force enable -- titan-agent" in log
    assert set(side.files) >= {"systemd/user/active/titan-agent.service", "systemd/global/enabled/titan-agent.service"}
    assert "systemd/active/titan-agent.service" not in side.files


def test_a_second_run_changes_nothing(tmp_path):
    folder = tmp_path / "project"
    project(folder, playbook("touch units/titan-feed.service units/titan-brain.service masked/titan-brain.service",
                             """
    - {name: feed, systemd: {name: titan-feed, state: started, enabled: true, daemon_reload: true}}
    - {name: brain, systemd: {name: titan-brain, masked: false, state: stopped, enabled: false}}
    - {name: ghost, systemd: {name: titan-ghost, masked: true}}
"""))
    base = tmp_path / "base"
    first = play_titan(folder, base, KEYS)
    assert [status for _, status, _ in first.tasks[1:]] == ["changed", "changed", "changed"]
    again = titan_ops.run(folder / "play.yml", folder / "inventory.yml", extra_vars={"base": str(base)})
    assert [result.status.value for result in again.host_results("h")] == ["ok", "ok", "ok", "ok"]


def test_check_mode_only_queries_and_predicts(tmp_path):
    folder = tmp_path / "project"
    project(folder, playbook("touch units/titan-feed.service", """
    - {name: feed, systemd: {name: titan-feed, state: started, enabled: true, masked: false, daemon_reload: true}}
    - {name: mask, systemd: {name: titan-feed, masked: true}}
"""))
    side = play_titan(folder, tmp_path / "base", KEYS + ("diff",), check=True, diff=True)
    assert [status for _, status, _ in side.tasks] == ["changed", "changed", "changed"]
    assert side.tasks[1][2]["diff"] == [{"before": "active: inactive\nenabled: disabled\n",
                                         "after": "active: active\nenabled: enabled\n",
                                         "before_header": "titan-feed", "after_header": "titan-feed"}]
    assert side.tasks[1][2]["state"] == "started" and side.tasks[1][2]["enabled"] is True
    assert calls(tmp_path / "base") == ["is-enabled -- titan-feed", "show -- titan-feed"] * 2
    assert [name for name in side.files if "/" in name.removeprefix("systemd/")] == ["systemd/units/titan-feed.service"]


def test_bad_arguments_are_refused_before_any_host_is_touched(tmp_path):
    for tasks, message in (("- systemd: {state: started}", "missing parameter(s) required by 'state': name"),
                           ("- systemd: {name: a, unit: b, state: started}", "mutually exclusive: name|unit"),
                           ("- systemd: {name: a, scope: session}", "'session' is not one of"),
                           ("- systemd: {name: a, enabled: maybe}", "must be of type boolean")):
        folder = tmp_path / str(abs(hash(tasks)))
        project(folder, f"- hosts: all\n  gather_facts: false\n  tasks:\n    {tasks}\n")
        with pytest.raises(titan_ops.TitanOpsError, match=message.replace("(", r"\(").replace(")", r"\)")):
            titan_ops.run(folder / "play.yml", folder / "inventory.yml")


@pytest.mark.oracle
@pytest.mark.parametrize("name, text", [("states", STATES), ("daemon and masks", DAEMON_AND_MASKS),
                                        ("scopes", SCOPES)])
def test_matches_ansible(tmp_path, name, text):
    folder = tmp_path / "project"
    project(folder, text)
    theirs = comparable(play_ansible(folder, tmp_path / "ansible", KEYS))
    ours = comparable(play_titan(folder, tmp_path / "titan", KEYS))
    assert ours == theirs


CHECKED = playbook("touch units/titan-feed.service masked/titan-brain.service", """
    - {name: feed, systemd: {name: titan-feed, state: started, enabled: true, daemon_reload: true}}
    - {name: brain, systemd: {name: titan-brain, masked: false}}
    - {name: restart, systemd: {name: titan-feed, state: restarted}}
""")


@pytest.mark.oracle
def test_check_mode_matches_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, CHECKED)
    theirs = comparable(play_ansible(folder, tmp_path / "ansible", KEYS, "--check"))
    ours = comparable(play_titan(folder, tmp_path / "titan", KEYS, check=True))
    assert ours == theirs
