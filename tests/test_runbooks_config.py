"""config-restore on the Titan lab: a run interrupted before the reload reloads when run again; a backup that
fails validation replaces nothing; one that makes an app unhealthy is rolled back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import titan_ops
from titan_ops.engine.results import RunResult
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import PLAYBOOKS, app_state, failures, file_digest

ENV, BACKUP_ENV = "/opt/titan/.env", "/var/backups/titan/config/.env"
MARKER = "/opt/titan/.config-restore-pending"


@pytest.fixture
def fleet(fleet: Fleet) -> Iterator[Fleet]:
    """The seeded lab, its config backups as they were and every app online after the test."""
    backups = {host: fleet.lab.host_path(host, BACKUP_ENV).read_bytes() for host in ("lab2", "lab3")}
    yield fleet
    for host, data in backups.items():
        fleet.lab.host_path(host, BACKUP_ENV).write_bytes(data)
    restored = restore(fleet)
    assert restored.ok, failures(restored)
    for kept in (path for host in ("lab2", "lab3") for path in fleet.lab.host_path(host, "/opt/titan").glob(".env.*~")):
        kept.unlink()


def restore(fleet: Fleet, **options) -> RunResult:
    return titan_ops.run(PLAYBOOKS / "config-restore.yml", fleet.inventory_path, **options)


def test_a_run_interrupted_before_the_reload_reloads_when_run_again(fleet):
    env = fleet.lab.host_path("lab2", ENV)
    env.write_text(env.read_text() + "STALE_SETTING=1\n")
    before = app_state(fleet)
    # What a run stopped between the copy and the reload leaves: the files restored, nothing reloaded.
    interrupted = restore(fleet, tags=["restore"])
    assert interrupted.ok, failures(interrupted)
    assert file_digest(fleet, "lab2", ENV) == file_digest(fleet, "lab2", BACKUP_ENV)
    assert fleet.lab.host_path("lab2", MARKER).exists()
    assert app_state(fleet) == before, "not reloaded yet: the apps run the old config"

    again = restore(fleet)
    assert again.ok, failures(again)
    said = [task.msg for task in again.host_results("lab2") if task.task == "What was restored"]
    assert said == [".env unchanged; ecosystem.config.js unchanged; reload due (left by an interrupted run)"]
    after = app_state(fleet)
    for name in ("titan-brain", "titan-execution", "titan-scavenger", "titan-ai-quant"):
        assert after[name][0] == "online" and after[name][1] != before[name][1], name
    assert not fleet.lab.host_path("lab2", MARKER).exists()

    third = restore(fleet)
    assert third.ok and app_state(fleet) == after, "converged: nothing more to do"


def test_a_backup_that_fails_validation_replaces_nothing(fleet):
    fleet.lab.host_path("lab2", BACKUP_ENV).write_text("TITAN_API_USER=x\n")
    env = fleet.lab.host_path("lab2", ENV)
    env.write_text(env.read_text() + "LOCAL_SETTING=1\n")
    current, before = env.read_bytes(), app_state(fleet)
    result = restore(fleet, extra_vars={"health_retries": 3})
    [failure] = failures(result)
    assert "config restore rolled back (Restore .env" in failure and "nothing had been replaced" in failure
    assert env.read_bytes() == current and app_state(fleet) == before
    assert not fleet.lab.host_path("lab2", MARKER).exists()


def test_a_backup_that_makes_an_app_unhealthy_is_rolled_back(fleet):
    """A .env without DATABASE_URL passes validation, but the services report their database unreachable."""
    backup = fleet.lab.host_path("lab2", BACKUP_ENV)
    backup.write_text("".join(line + "\n" for line in backup.read_text().splitlines()
                              if not line.startswith("DATABASE_URL=")))
    env = fleet.lab.host_path("lab2", ENV)
    env.write_text(env.read_text() + "LOCAL_SETTING=1\n")
    current = env.read_bytes()
    result = restore(fleet, extra_vars={"health_retries": 3})
    [failure] = failures(result)
    assert "config restore rolled back (Wait until the service answers its health endpoint" in failure
    assert "the replaced files are back in place and the apps reloaded with them" in failure
    assert env.read_bytes() == current
    assert all(status == "online" for status, _ in app_state(fleet).values())
    assert not fleet.lab.host_path("lab2", MARKER).exists()
