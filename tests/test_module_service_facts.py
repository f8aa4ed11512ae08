"""``service_facts`` on the local connection, and against ansible-core.

systemd does not run here. The SysV part reads this machine's real ``service --status-all``. The systemd part
runs against the STAND-IN systemctl of tests/standins/ in a mount namespace of the test's own, where
``/run/systemd/system`` exists (so the host looks run by systemd to titan-ops and ansible-core alike) and the
stand-in is mounted where both look for systemctl first (/usr/bin, /usr/local/bin); its units are files
under the stand-in's root (SYSTEMCTL_STANDIN_ROOT, given by the play's ``environment``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local_oracle import RECORDER, play_ansible, play_titan, project
from tests.oracle import QUIET_ENV, require_oracle
from titan_ops.modules.service_facts import services_from

STANDIN = Path(__file__).resolve().parent / "standins" / "systemctl"
SYSV = """
- hosts: all
  gather_facts: false
  tasks:
    - {name: read, service_facts: {}, register: got}
    - {name: as a fact and a variable, debug: {msg: "{{ ansible_facts.services == services }}"}}
    - {name: in check mode, service_facts: {}, check_mode: true}
"""
SYSTEMD = """
- hosts: all
  gather_facts: false
  environment: {SYSTEMCTL_STANDIN_ROOT: "{{ base }}/units"}
  tasks:
    - {name: read, service_facts: {}, register: got}
    - copy: {content: "{{ got | to_json }}", dest: "{{ base }}/result.json"}
"""


def _status_all() -> dict[str, str]:
    done = subprocess.run(["service", "--status-all"], capture_output=True, text=True)
    return {line[8:].strip(): "running" if "+" in line[:6] else "stopped"
            for line in done.stdout.splitlines() if line.lstrip().startswith(("[ + ]", "[ - ]"))}


@pytest.mark.skipif(shutil.which("service") is None, reason="this machine has no service tool")
def test_sysv_services_as_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, SYSV)
    results = {name: (status, result) for name, status, result in
               play_titan(folder, tmp_path / "base", ("ansible_facts", "changed", "msg")).tasks}
    status, read = results["read"]
    services = read["ansible_facts"]["services"]
    assert status == "ok" and {name: entry["state"] for name, entry in services.items()} == _status_all()
    assert all(entry == {"name": name, "state": entry["state"], "source": "sysv"} for name, entry in services.items())
    assert results["as a fact and a variable"][1]["msg"] is True
    assert results["in check mode"] == results["read"]


@pytest.mark.oracle
def test_sysv_services_match_ansible(tmp_path):
    folder = tmp_path / "project"
    project(folder, SYSV)
    keys = ("ansible_facts", "changed", "msg", "skipped")
    assert play_titan(folder, tmp_path / "titan", keys) == play_ansible(folder, tmp_path / "ansible", keys)


def _units(base: Path, *, offline: bool = False) -> None:
    """A stand-in systemd: services in every state ansible-core tells apart."""
    root = base / "units"
    for folder in ("units", "active", "enabled", "failed", "masked"):
        (root / folder).mkdir(parents=True)
    for name in ("nginx", "cron", "old", "bad", "hidden", "titan-gateway"):
        (root / "units" / f"{name}.service").write_text("")
    for folder, name in (("active", "nginx"), ("enabled", "nginx"), ("failed", "bad"), ("active", "gone"),
                         ("masked", "hidden"), ("enabled", "titan-gateway")):
        (root / folder / f"{name}.service").touch()
    (root / "enabled" / "cron.service").write_text("static\n")
    if offline:
        (root / "offline").touch()


def _in_namespace(tmp_path: Path, argv: list[str], base: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``argv`` in a mount namespace where systemd seems to run the machine and systemctl is the stand-in."""
    run = tmp_path / "run"
    (run / "systemd" / "system").mkdir(parents=True, exist_ok=True)
    bin_dir = tmp_path / "standin-bin"
    bin_dir.mkdir(exist_ok=True)
    # service(8) calls systemctl with an emptied environment: the test's units are the default root then
    (bin_dir / "systemctl").write_text(f'#!/bin/sh\n: "${{SYSTEMCTL_STANDIN_ROOT:={base / "units"}}}"\n'
                                       f'export SYSTEMCTL_STANDIN_ROOT\nexec sh {STANDIN} "$@"\n')
    (bin_dir / "systemctl").chmod(0o755)
    script = ('mount --bind "$1" /run && mount --bind "$2" /usr/local/bin && '
              '{ [ ! -e /usr/bin/systemctl ] || mount --bind "$2/systemctl" /usr/bin/systemctl; } && shift 2 && '
              'exec "$@"')
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(run), str(bin_dir), *argv],
                          cwd=base.parent / "project", capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def _namespaces_work() -> bool:
    done = subprocess.run(["unshare", "-m", "true"], capture_output=True) if shutil.which("unshare") else None
    return done is not None and done.returncode == 0


needs_namespace = pytest.mark.skipif(not _namespaces_work(), reason="no mount namespace for the stand-in systemd")


def _systemd_result(tmp_path: Path, side: str, offline: bool = False) -> dict:
    folder = tmp_path / "project"
    project(folder, SYSTEMD)
    base = tmp_path / side
    base.mkdir()
    _units(base, offline=offline)
    if side == "titan":
        argv = [sys.executable, "-m", "titan_ops", "run", "play.yml", "-i", "inventory.yml", "-e", f"base={base}"]
        env: dict[str, str] = {}
    else:
        argv = [str(require_oracle()), "-i", "inventory.yml", "play.yml", "-e", f"base={base}"]
        env = {**QUIET_ENV, **RECORDER}
    done = _in_namespace(tmp_path, argv, base, env)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((base / "result.json").read_text())


@needs_namespace
def test_systemd_services_as_ansible(tmp_path):
    got = _systemd_result(tmp_path, "titan")
    services = {name: entry for name, entry in got["ansible_facts"]["services"].items() if entry["source"] == "systemd"}
    assert services == {
        "nginx.service": {"name": "nginx.service", "state": "running", "status": "enabled", "source": "systemd"},
        "cron.service": {"name": "cron.service", "state": "stopped", "status": "static", "source": "systemd"},
        "old.service": {"name": "old.service", "state": "inactive", "status": "disabled", "source": "systemd"},
        "bad.service": {"name": "bad.service", "state": "stopped", "status": "failed", "source": "systemd"},
        "gone.service": {"name": "gone.service", "state": "running", "status": "not-found", "source": "systemd"},
        "hidden.service": {"name": "hidden.service", "state": "stopped", "status": "masked", "source": "systemd"},
        "titan-gateway.service": {"name": "titan-gateway.service", "state": "stopped", "status": "enabled",
                                  "source": "systemd"},
    }


@needs_namespace
def test_systemd_that_does_not_answer_is_a_warning(tmp_path):
    got = _systemd_result(tmp_path, "titan", offline=True)
    assert got["warnings"][0].startswith("Could not list units from systemd: System has not been booted")
    services = got["ansible_facts"]["services"]
    assert services["nginx.service"] == {"name": "nginx.service", "state": "unknown", "status": "enabled",
                                         "source": "systemd"}  # list-unit-files still answers, show does not


@needs_namespace
@pytest.mark.oracle
@pytest.mark.parametrize("offline", [False, True])
def test_systemd_services_match_ansible(tmp_path, offline):
    ours = _systemd_result(tmp_path / "ours", "titan", offline)
    theirs = _systemd_result(tmp_path / "theirs", "ansible", offline)
    assert ours["ansible_facts"] == theirs["ansible_facts"]
    assert ours.get("warnings") == theirs.get("warnings")


def test_nothing_found_skips_and_bad_output_fails():
    assert services_from("") == ({}, [])
    mark = "\n--titan-service-facts--"
    output = f"{mark} units 0\n  a.service loaded active running A\n{mark} files 0\nb.service\n{mark} show 0\n"
    with pytest.raises(Exception, match="Malformed output discovered from systemd list-unit-files: b.service"):
        services_from(output)
