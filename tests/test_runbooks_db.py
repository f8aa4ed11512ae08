"""db-recovery on the Titan lab: only what is needed, refusals before anything is touched, a failed restore
that leaves the database as it was and the writers as the operator chose. titan_brain ends as seeded."""

from __future__ import annotations

import subprocess

import titan_ops
from titan_ops.engine.results import RunResult, Status
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import DRILLS, PLAYBOOKS, app_state, database_state, failures, psql, snapshot

BACKUP = "/var/backups/titan/db/titan_brain-latest.dump"
WRITERS = ("titan-brain", "titan-execution", "titan-scavenger", "titan-ai-quant")


def run(fleet: Fleet, playbook, **options) -> RunResult:
    return titan_ops.run(playbook, fleet.inventory_path, **options)


def messages(result: RunResult, host: str = "lab1") -> str:
    return "\n".join(str(task.msg) for task in result.host_results(host))


def test_a_sound_database_is_not_restored(fleet):
    before = snapshot(fleet)
    result = run(fleet, PLAYBOOKS / "db-recovery.yml")
    assert result.ok, failures(result)
    assert "indexes 4 sound; no data lost: no restore" in messages(result)
    assert snapshot(fleet) == before, "nothing restarted, nothing restored"
    assert not [task for task in result.host_results("lab1") if task.module == "postgresql_db"
                and task.status is Status.CHANGED]


def test_a_backup_that_lists_but_does_not_read_is_refused_before_the_writers_stop(fleet):
    latest = fleet.lab.host_path("lab1", BACKUP)
    cut = latest.with_name("cut.dump")
    data = latest.read_bytes()
    cut.write_bytes(data[:len(data) - len(data) // 8])
    listed = subprocess.run(["pg_restore", "--list", str(cut)], capture_output=True, text=True)
    assert listed.returncode == 0 and "TABLE DATA public performance" in listed.stdout, "the premise: it lists"
    try:
        before = snapshot(fleet)
        result = run(fleet, PLAYBOOKS / "db-recovery.yml",
                     extra_vars={"backup": str(BACKUP).replace("titan_brain-latest", "cut"), "force_restore": True})
        [failure] = failures(result)
        assert "Refuse a backup" in failure and "cannot be read to its end" in failure
        assert snapshot(fleet) == before
    finally:
        cut.unlink()


def test_a_short_safety_dump_stops_the_recovery_before_anything_is_touched(fleet):
    """pg_dump exits 0 with a truncated file when the disk fills at its last write: that dump is not trusted."""
    folder = "/var/backups/titan/tiny"
    size = fleet.lab.host_path("lab1", BACKUP).stat().st_size
    tiny = run(fleet, _shell_play(fleet, f"mkdir -p {folder} && mount -t tmpfs -o size={size // 4096 * 4096} "
                                         f"tmpfs {folder}"))
    assert tiny.ok, failures(tiny)
    try:
        before = snapshot(fleet)
        result = run(fleet, PLAYBOOKS / "db-recovery.yml", extra_vars={"safety_dump_dir": folder,
                                                                       "force_restore": True})
        [failure] = failures(result)
        assert "Safety dump of the database as it is now" in failure
        assert "pg_dump wrote a dump that does not verify" in failure
        assert [play.name for play in result.plays] == ["Database recovery: assess, repair indexes in place, "
                                                        "safety dump"]
        assert snapshot(fleet) == before
    finally:
        run(fleet, _shell_play(fleet, f"umount {folder}"))


def test_a_failed_restore_puts_the_database_back_and_the_writers_where_asked(fleet):
    """The restore commits part-way, then fails: the quiesced safety dump is restored; writers started again."""
    seeded = database_state(fleet)
    fault = run(fleet, DRILLS / "faults" / "restore-fails.yml")
    assert fault.ok, failures(fault)
    try:
        broken = fleet.lab.host_path("lab1", "/var/backups/titan/db/titan_brain-from-old-cluster.sql")
        text = broken.read_text()
        first_create = text.index("\nCREATE TABLE")
        broken.write_text(text[:first_create] + "\nCOMMIT;" + text[first_create:])  # what the drops did stays
        lost = rows(fleet)
        assert lost == '5,0,-'
        options = {"extra_vars": {"backup": "/var/backups/titan/db/titan_brain-from-old-cluster.sql",
                                  "writers_after_failure": "started"}}

        dry = run(fleet, PLAYBOOKS / "db-recovery.yml", check=True, **options)
        assert dry.ok, failures(dry)
        assert "data lost: decisions (0 rows, backup 50), performance (missing)" in messages(dry)
        assert rows(fleet) == lost

        apps_before = app_state(fleet)
        result = run(fleet, PLAYBOOKS / "db-recovery.yml", **options)
        [failure] = failures(result)
        assert 'role "gone_role" does not exist' in failure
        assert "database as it was (the safety dump /var/backups/titan/safety/titan_brain-quiesced-" in failure
        assert "writers started again in the recovery order (writers_after_failure=started)" in failure
        assert rows(fleet) == lost
        apps_after = app_state(fleet)
        for writer in WRITERS:
            assert apps_after[writer][0] == "online" and apps_after[writer][1] != apps_before[writer][1]
    finally:
        restored = run(fleet, PLAYBOOKS / "db-recovery.yml")
        assert restored.ok, failures(restored)
    assert database_state(fleet) == seeded


def rows(fleet: Fleet) -> str:
    """Row counts of the Titan tables, ``-`` for a missing one (what the fault leaves is readable too)."""
    return psql(fleet, "select string_agg(coalesce((case when to_regclass(t) is not null then (xpath('/row/n/text()', "
                       "query_to_xml('select count(*) as n from ' || t, false, true, '')))[1]::text end), '-'), ',') "
                       "from unnest(array['allocations', 'decisions', 'performance']) as t")


def _shell_play(fleet: Fleet, command: str):
    path = fleet.lab.directory / "shell-on-lab1.yml"
    path.write_text(f"- hosts: databases\n  gather_facts: false\n  tasks:\n    - shell: {command!r}\n")
    return path


def test_freeze_halts_stops_the_writers_and_assesses(fleet):
    result = run(fleet, PLAYBOOKS / "db-freeze.yml", extra_vars={"operator_id": "carol"})
    try:
        assert result.ok, failures(result)
        assert "writers stopped (they stay stopped)" in messages(result)
        assert "indexes 4 sound, no rows lost against" in messages(result)
        assert "thaw: playbooks/restart-services.yml -e service_state=started" in messages(result)
        apps = app_state(fleet)
        assert all(apps[writer][0] != "online" for writer in WRITERS)
        assert apps["titan-console"][0] == "online"
    finally:
        thawed = run(fleet, PLAYBOOKS / "restart-services.yml", extra_vars={"service_state": "started"})
        assert thawed.ok, failures(thawed)
    state = snapshot(fleet)
    assert state["master_arm"] is False
