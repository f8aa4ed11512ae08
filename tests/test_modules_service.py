"""The service module on a lab host, against the STAND-IN systemctl of tests/standins/ (systemd cannot
run here): the stand-in is put first on the PATH by the play's ``environment`` and keeps unit state in
files under the host's /var/lib/titan, so each test gets its own units."""

from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import titan_ops
from titan_ops.engine.results import Status
from titan_ops.lab.sshd import SESSION_PATH

STANDIN_SYSTEMCTL = Path(__file__).resolve().parent / "standins" / "systemctl"
# Copied into lab1 (whose /tmp is private, so a checkout under /tmp is not visible there).
STANDIN_BIN = "/opt/titan/standin-bin"


@dataclass
class Units:
    """A stand-in systemd of one test: its root on lab1 and the controller's view of it."""

    remote: str
    local: Path

    def add(self, name: str, *, active: bool = False, enabled: str | None = None, masked: bool = False,
            reload: bool = True) -> None:
        (self.local / "units" / name).write_text("" if reload else "reload=no\n")
        if active:
            (self.local / "active" / name).touch()
        if enabled:
            (self.local / "enabled" / name).write_text("static\n" if enabled == "static" else "")
        if masked:
            (self.local / "masked" / name).touch()

    def active(self, name: str) -> bool:
        return (self.local / "active" / name).exists()

    def enabled(self, name: str) -> bool:
        return (self.local / "enabled" / name).exists()

    def calls(self) -> list[str]:
        path = self.local / "calls.log"
        return path.read_text().splitlines() if path.exists() else []

    def forget_calls(self) -> None:
        (self.local / "calls.log").unlink(missing_ok=True)


@pytest.fixture
def units(lab, request) -> Units:
    remote = "/var/lib/titan/systemctl-" + re.sub(r"\W", "_", request.node.name)
    local = lab.host_path("lab1", remote)
    for folder in ("units", "active", "enabled", "masked"):
        (local / folder).mkdir(parents=True, exist_ok=True)
    binary = lab.host_path("lab1", f"{STANDIN_BIN}/systemctl")
    binary.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STANDIN_SYSTEMCTL, binary)
    binary.chmod(0o755)
    return Units(remote, local)


def run(lab, tmp_path: Path, units: Units, tasks: str, **options) -> list[titan_ops.TaskResult]:
    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: lab1\n  gather_facts: false\n  environment:\n"
        f"    PATH: \"{STANDIN_BIN}:{SESSION_PATH}\"\n    SYSTEMCTL_STANDIN_ROOT: {units.remote}\n  tasks:\n"
        + textwrap.indent(textwrap.dedent(tasks), "    "))
    return titan_ops.run(play, lab.inventory_path, **options).host_results("lab1")


def test_started_acts_once_then_reports_ok(lab, tmp_path, units):
    units.add("postgresql.service")
    first, second = run(lab, tmp_path, units, """
        - service: {name: postgresql, state: started}
        - service: {name: postgresql, state: started}
    """)
    assert first.status is Status.CHANGED and second.status is Status.OK
    assert first.result["state"] == "started" and second.result["status"]["ActiveState"] == "active"
    assert units.active("postgresql.service")
    assert units.calls() == ["is-enabled -- postgresql", "show -- postgresql", "start -- postgresql",
                             "is-enabled -- postgresql", "show -- postgresql"]


def test_stopped_restarted_and_reloaded(lab, tmp_path, units):
    units.add("redis-server.service", active=True)
    units.add("nginx.service")
    results = run(lab, tmp_path, units, """
        - service: {name: redis-server, state: restarted}
        - service: {name: redis-server, state: reloaded}
        - service: {name: redis-server, state: stopped}
        - service: {name: redis-server, state: stopped}
        - service: {name: nginx, state: reloaded}
    """)
    assert [result.status for result in results] == [Status.CHANGED, Status.CHANGED, Status.CHANGED, Status.OK,
                                                     Status.CHANGED]
    calls = [call for call in units.calls() if not call.startswith(("is-enabled", "show"))]
    assert calls == ["restart -- redis-server", "reload -- redis-server", "stop -- redis-server", "start -- nginx"]
    assert not units.active("redis-server.service") and units.active("nginx.service")


def test_enabled_is_idempotent_and_static_counts_as_enabled(lab, tmp_path, units):
    units.add("titan.service")
    units.add("journal.service", enabled="static")
    results = run(lab, tmp_path, units, """
        - service: {name: titan, enabled: true}
        - service: {name: titan, enabled: true}
        - service: {name: journal, enabled: true}
        - service: {name: titan, enabled: false, state: started}
    """)
    assert [result.status for result in results] == [Status.CHANGED, Status.OK, Status.OK, Status.CHANGED]
    assert results[3].result["enabled"] is False and results[3].result["state"] == "started"
    assert not units.enabled("titan.service") and units.active("titan.service")


def test_check_mode_only_queries(lab, tmp_path, units):
    units.add("postgresql.service")
    result, = run(lab, tmp_path, units, "- service: {name: postgresql, state: started, enabled: true}\n",
                  check=True, diff=True)
    assert result.status is Status.CHANGED
    assert result.diff[0]["before"] == "active: inactive\nenabled: disabled\n"
    assert result.diff[0]["after"] == "active: active\nenabled: enabled\n"
    assert units.calls() == ["is-enabled -- postgresql", "show -- postgresql"]
    assert not units.active("postgresql.service") and not units.enabled("postgresql.service")


def test_missing_unit_and_failing_systemctl(lab, tmp_path, units):
    units.add("locked.service", masked=True)
    units.add("static-site.service", active=True, reload=False)
    missing, masked, no_reload = run(lab, tmp_path, units, """
        - service: {name: nosuch, state: started}
          ignore_errors: true
        - service: {name: locked, state: started}
          ignore_errors: true
        - service: {name: static-site, state: reloaded}
          ignore_errors: true
    """)
    assert missing.failed and "Could not find the requested service nosuch" in missing.msg
    assert masked.failed and "masked" in masked.msg
    assert no_reload.failed and "reload is not applicable" in no_reload.msg
    assert not any(call.startswith("start -- nosuch") for call in units.calls())


def test_systemctl_missing_on_the_host(lab, tmp_path, units):
    play = tmp_path / "play.yml"
    play.write_text("- hosts: lab1\n  gather_facts: false\n  environment: {PATH: /nonexistent}\n  tasks:\n"
                    "    - service: {name: postgresql, state: started}\n")
    result, = titan_ops.run(play, lab.inventory_path).host_results("lab1")
    assert result.failed and "systemctl not found" in result.msg


def test_arguments_are_validated_before_connecting(lab, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text("- hosts: lab1\n  gather_facts: false\n  tasks:\n    - service: {name: x}\n")
    with pytest.raises(titan_ops.TitanOpsError):
        titan_ops.run(play, lab.inventory_path)
