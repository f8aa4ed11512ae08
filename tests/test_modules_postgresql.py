"""postgresql_query and postgresql_db against the Titan lab's real PostgreSQL (on lab1, the databases
host), in a scratch database of this module's own: titan_brain is left as it is."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest
import yaml

import titan_ops
from titan_ops.engine.results import Status
from titan_ops.lab.titan import Fleet

DB = "module_test"
TRICKY = ["it's", "'; DROP TABLE items; --", "back\\slash and \\n", "line\nbreak", "ünïcødé ✓ 😀", "%s %(x)s %%",
          "$$ dollar $$", ":'titan_arg_1' :titan_arg_2 :\"x\"", "\\set x 1", "semi;colon", "", "\t tab"]


def sql(fleet: Fleet, query: str, database: str = DB, admin: bool = False) -> str:
    """psql on the controller (the password in its environment): the unaligned, tuples-only output."""
    user = "postgres" if admin else "titan_user"
    password = fleet.config.secrets["db_admin_password" if admin else "db_password"]
    done = subprocess.run(["psql", "-X", "-qtA", "-w", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                           "-p", str(fleet.config.ports["postgresql"]), "-U", user, "-d", database, "-c", query],
                          capture_output=True, text=True, env={**os.environ, "PGPASSWORD": password}, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def scratch(titan_lab: Fleet) -> Iterator[Fleet]:
    """A database of this module's own, owned by titan_user; dropped afterwards."""
    sql(titan_lab, f"drop database if exists {DB} with (force)", "postgres", admin=True)
    sql(titan_lab, f"create database {DB} owner titan_user", "postgres", admin=True)
    try:
        yield titan_lab
    finally:
        sql(titan_lab, f"drop database if exists {DB} with (force)", "postgres", admin=True)


@pytest.fixture
def items(scratch: Fleet) -> Fleet:
    """A fresh table ``items`` with three rows."""
    sql(scratch, "drop table if exists items; create table items (id serial primary key, label text not null, "
                 "amount numeric(10, 2), flag boolean, at timestamptz default '2025-01-02T03:04:05Z', meta jsonb);"
                 "insert into items (label, amount, flag, meta) values ('a', 1.50, true, '{\"k\": [1, 2]}'), "
                 "('b', null, false, null), ('c', 10, null, '\"text\"')")
    return scratch


def login(database: str = DB) -> dict[str, Any]:
    return {"login_host": "{{ titan_db.host }}", "login_port": "{{ titan_db.port }}",
            "login_user": "{{ titan_db.user }}", "login_password": "{{ titan_db_password }}", "db": database}


def query(statement: str, **arguments: Any) -> dict[str, Any]:
    return {"postgresql_query": {**login(), "query": statement, **arguments}}


def database(state: str, **arguments: Any) -> dict[str, Any]:
    connection = {key: value for key, value in login().items() if key != "db"}
    return {"postgresql_db": {**connection, "name": DB, "state": state, **arguments}}


def play_file(tmp_path: Path, tasks: list[dict[str, Any]]) -> Path:
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"hosts": "databases", "gather_facts": False, "tasks": tasks}],
                                   sort_keys=False, allow_unicode=True))
    return path


def run(fleet: Fleet, tmp_path: Path, tasks: list[dict[str, Any]], **options: Any) -> list[titan_ops.TaskResult]:
    return titan_ops.run(play_file(tmp_path, tasks), fleet.inventory_path, **options).host_results("lab1")


def count(fleet: Fleet) -> int:
    return int(sql(fleet, "select count(*) from items"))


# -- postgresql_query ----------------------------------------------------------------------------------

def test_tricky_parameters_stay_data(items, tmp_path):
    inserts = [query("insert into items (label) values (%s)", positional_args=[value]) for value in TRICKY]
    named = query("select %(v)s as v, %(v)s = %(w)s as same, %(n)s as n", named_args={"v": TRICKY[1],
                                                                                      "w": TRICKY[1], "n": None})
    reads = [query("select label from items where label = %s", positional_args=[value]) for value in TRICKY]
    results = run(items, tmp_path, [*inserts, named, *reads])
    assert all(result.status is Status.CHANGED for result in results[:len(TRICKY)])
    assert results[len(TRICKY)].result["query_result"] == [{"v": TRICKY[1], "same": True, "n": None}]
    for value, result in zip(TRICKY, results[len(TRICKY) + 1:]):
        assert result.result["query_result"] == [{"label": value}]
    assert count(items) == 3 + len(TRICKY)


def test_rows_are_dicts_with_json_types(items, tmp_path):
    rows, typed = run(items, tmp_path, [
        query("select id, label, amount, flag, at, meta from items order by id"),
        query("select %s as i, %s as f, %s as b, %s as big, array[1, 2] as arr, null as nothing",
              positional_args=[7, 2.5, False, 2 ** 70]),
    ])
    assert rows.status is Status.OK and rows.result["rowcount"] == 3 and rows.result["statusmessage"] == "SELECT 3"
    assert rows.result["query_result"] == [
        {"id": 1, "label": "a", "amount": 1.5, "flag": True, "at": "2025-01-02T03:04:05+00:00", "meta": {"k": [1, 2]}},
        {"id": 2, "label": "b", "amount": None, "flag": False, "at": "2025-01-02T03:04:05+00:00", "meta": None},
        {"id": 3, "label": "c", "amount": 10, "flag": None, "at": "2025-01-02T03:04:05+00:00", "meta": "text"},
    ]
    assert typed.result["query_result"] == [{"i": 7, "f": 2.5, "b": False, "big": 2 ** 70, "arr": [1, 2],
                                             "nothing": None}]


def test_changed_follows_what_the_statement_did(items, tmp_path):
    results = run(items, tmp_path, [
        query("select count(*) as n from items"),
        query("update items set flag = true where false"),
        query("update items set flag = true where label = %s returning id", positional_args=["b"]),
        query("delete from items where label = 'c';"),
        query("create index items_label on items (label)"),
        query("vacuum analyze items", autocommit=True),
        query("reindex table items", autocommit=True),
        query("show server_version_num"),
    ])
    assert [result.status for result in results] == [Status.OK, Status.OK, Status.CHANGED, Status.CHANGED,
                                                     Status.CHANGED, Status.CHANGED, Status.CHANGED, Status.OK]
    assert [result.result["statusmessage"] for result in results[1:7]] == [
        "UPDATE 0", "UPDATE 1", "DELETE 1", "CREATE INDEX", "VACUUM", "REINDEX"]
    assert results[2].result["query_result"] == [{"id": 2}]
    assert int(results[7].result["query_result"][0]["server_version_num"]) >= 150000
    assert count(items) == 2


def test_vacuum_needs_autocommit(items, tmp_path):
    result, = run(items, tmp_path, [{**query("vacuum items"), "ignore_errors": True}])
    assert result.failed and "VACUUM cannot run inside a transaction block" in result.msg


def test_check_mode_runs_reads_only(items, tmp_path):
    sql(items, "drop sequence if exists items_seq; create sequence items_seq")
    results = run(items, tmp_path, [
        query("select label from items order by id"),
        query("insert into items (label) values ('x')"),
        query("delete from items"),
        query("select nextval('items_seq')"),
        query("with gone as (delete from items returning id) select count(*) from gone"),
        query("vacuum items", autocommit=True),
    ], check=True)
    assert results[0].status is Status.OK and [row["label"] for row in results[0].result["query_result"]] == \
        ["a", "b", "c"]
    assert all(result.status is Status.CHANGED and "query_result" not in result.result for result in results[1:])
    assert count(items) == 3
    assert sql(items, "select last_value, is_called from items_seq") == "1|f"


def test_a_read_looking_statement_that_writes_runs_once(items, tmp_path):
    sql(items, "drop sequence if exists items_seq; create sequence items_seq")
    result, gone = run(items, tmp_path, [
        query("select nextval('items_seq') as n"),
        query("with gone as (delete from items where label = 'a' returning label) select * from gone"),
    ])
    assert result.status is Status.CHANGED and result.result["query_result"] == [{"n": 1}]
    assert gone.status is Status.CHANGED and gone.result["query_result"] == [{"label": "a"}]
    assert sql(items, "select last_value from items_seq") == "1" and count(items) == 2


def test_refused_queries(items, tmp_path):
    results = run(items, tmp_path, [{**task, "ignore_errors": True} for task in [
        query("select 1; select 2"),
        query("select 1 \\g /tmp/x"),
        query("select %s, %s", positional_args=[1]),
        query("select '%s'", positional_args=["x"]),
        query("select %(missing)s", named_args={"other": 1}),
        query("select * from no_such_table"),
    ]])
    messages = [result.msg for result in results]
    assert all(result.failed for result in results)
    assert "exactly one SQL statement" in messages[0] and "meta-command" in messages[1]
    assert "more %s placeholders" in messages[2] and "inside a quoted string" in messages[3]
    assert "no 'missing'" in messages[4] and 'relation "no_such_table" does not exist' in messages[5]


def test_password_never_in_ps_results_or_console(items, tmp_path):
    password = items.config.secrets["db_password"]
    seen_psql, leaks = [], []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            listing = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
            seen_psql.extend(line for line in listing.splitlines() if "bin/psql" in line and f"-d {DB}" in line)
            leaks.extend(line for line in listing.splitlines() if password in line)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        tasks = [{**query("select pg_sleep(1.5) is null as slept"), "register": "slept"},
                 database("dump", target="/var/backups/titan/module_test-secrets.dump"),
                 {"debug": {"var": "slept"}}]
        path = play_file(tmp_path, tasks)
        cli = subprocess.run([sys.executable, "-m", "titan_ops", "run", str(path), "-i", str(items.inventory_path),
                              "-vvv"], capture_output=True, text=True)
    finally:
        done.set()
        watcher.join()
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert seen_psql, "the watcher never saw psql running"
    assert not leaks
    assert password not in cli.stdout + cli.stderr
    results = titan_ops.run(path, items.inventory_path).host_results("lab1")
    assert all(password not in repr(result.result) for result in results)


# -- postgresql_db -------------------------------------------------------------------------------------

@pytest.mark.parametrize("target, options", [("/var/backups/titan/module_test.dump", {}),
                                             ("/var/backups/titan/module_test.sql",
                                              {"target_opts": "--clean --if-exists"})])
def test_dump_drop_rows_restore_brings_them_back(items, tmp_path, target, options):
    dumped, = run(items, tmp_path, [database("dump", target=target, **options)])
    local = items.lab.host_path("lab1", target)
    assert dumped.status is Status.CHANGED and local.stat().st_size == dumped.result["size"] > 0
    assert dumped.result["format"] == ("custom" if target.endswith(".dump") else "plain")
    assert not list(local.parent.glob("*titan-ops-partial*"))
    sql(items, "delete from items where label <> 'a'")
    restored, = run(items, tmp_path, [database("restore", target=target)])
    assert restored.status is Status.CHANGED, restored.result
    assert sql(items, "select string_agg(label, ',' order by id) from items") == "a,b,c"


def test_restore_refuses_bad_dumps_and_leaves_the_database_alone(items, tmp_path):
    backups = items.lab.host_path("lab1", "/var/backups/titan")
    (backups / "empty.dump").write_bytes(b"")
    (backups / "garbage.dump").write_bytes(b"PGDMP this is not really an archive \x00\x01\x02" * 20)
    (backups / "garbage.sql").write_text("DROP TABLE items;\n")
    good, = run(items, tmp_path, [database("dump", target="/var/backups/titan/whole.sql")])
    assert good.status is Status.CHANGED
    text = (backups / "whole.sql").read_text()
    (backups / "truncated.sql").write_text(text[:len(text) // 2])
    (backups / "folder.dump").mkdir(exist_ok=True)
    sql(items, "insert into items (label) values ('marker')")
    cases = {"missing.dump": "does not exist", "empty.dump": "is empty", "garbage.dump": "pg_restore cannot read",
             "garbage.sql": "no pg_dump header", "truncated.sql": "incomplete plain dump",
             "folder.dump": "not a regular file"}
    results = run(items, tmp_path, [{**database("restore", target=f"/var/backups/titan/{name}"),
                                     "ignore_errors": True} for name in cases])
    for (name, reason), result in zip(cases.items(), results):
        assert result.failed and reason in result.msg, (name, result.msg)
    assert sql(items, "select string_agg(label, ',' order by id) from items") == "a,b,c,marker"


NOISE = ("insert into items (label) select (select string_agg(md5(random()::text || n || k), '') "
         "from generate_series(1, 20) as k) from generate_series(1, 200) as n")
"""About 130 kB of rows that compress poorly: a dump with real data blocks after its table of contents."""


def test_restore_reads_an_archive_to_its_end(items, tmp_path):
    """A truncated or corrupted custom-format dump passes `pg_restore --list`; the restore refuses it all the same."""
    sql(items, NOISE)
    good, = run(items, tmp_path, [database("dump", target="/var/backups/titan/whole.dump")])
    backups = items.lab.host_path("lab1", "/var/backups/titan")
    data = (backups / "whole.dump").read_bytes()
    (backups / "cut.dump").write_bytes(data[:len(data) * 3 // 4])
    corrupted = bytearray(data)
    corrupted[len(data) // 2:len(data) // 2 + 20] = b"X" * 20
    (backups / "corrupted.dump").write_bytes(bytes(corrupted))
    for name in ("cut.dump", "corrupted.dump"):
        listed = subprocess.run(["pg_restore", "--list", str(backups / name)], capture_output=True)
        assert listed.returncode == 0, "the premise: --list alone accepts it"
    sql(items, "insert into items (label) values ('kept')")
    results = run(items, tmp_path, [{**database("restore", target=f"/var/backups/titan/{name}"),
                                     "ignore_errors": True} for name in ("cut.dump", "corrupted.dump")])
    checked = run(items, tmp_path, [{**database("restore", target=f"/var/backups/titan/{name}"),
                                     "ignore_errors": True} for name in ("cut.dump", "corrupted.dump")], check=True)
    for result in (*results, *checked):  # refused before anything is touched, in a dry run too
        assert result.failed and "cannot be read to its end (truncated or corrupted)" in result.msg, result.msg
    assert sql(items, "select count(*) from items where label = 'kept'") == "1"


def test_a_short_dump_on_a_full_disk_fails_and_replaces_nothing(items, tmp_path):
    """pg_dump can exit 0 after writing a truncated custom-format file onto a full disk (when the space runs
    out at its last write): the module verifies the dump before it replaces the previous one."""
    full = "/var/backups/titan/full"
    items.lab.host_path("lab1", full).mkdir(exist_ok=True)
    messages = []
    for kilobytes in range(8, 36, 4):
        mounted, = run(items, tmp_path, [{"shell": f"mount -t tmpfs -o size={kilobytes}k tmpfs {full} && "
                                                   f"printf previous > {full}/db.dump"}])
        assert mounted.status is Status.CHANGED, mounted.msg
        try:
            dumped, listing = run(items, tmp_path, [
                {"postgresql_db": {**database("dump", target=f"{full}/db.dump")["postgresql_db"],
                                   "name": "titan_brain"}, "ignore_errors": True},
                {"shell": f"ls -A {full}; cat {full}/db.dump", "changed_when": False}])
        finally:
            run(items, tmp_path, [{"command": f"umount {full}"}])
        if not dumped.failed:
            break  # the disk is large enough now
        messages.append(dumped.msg)
        assert listing.result["stdout"] == "db.dump\nprevious", "a failed dump replaced the previous one"
    assert any("pg_dump wrote a dump that does not verify" in message for message in messages), messages


def test_restore_format_must_match_the_file(items, tmp_path):
    dumped, mismatch = run(items, tmp_path, [
        database("dump", target="/var/backups/titan/fmt.pgc"),
        {**database("restore", target="/var/backups/titan/fmt.pgc", format="plain"), "ignore_errors": True},
    ])
    assert dumped.result["format"] == "custom"
    assert mismatch.failed and "is a custom dump, not plain" in mismatch.msg


def test_failed_dump_keeps_the_previous_one(items, tmp_path):
    target = "/var/backups/titan/keep.dump"
    local = items.lab.host_path("lab1", target)
    local.write_bytes(b"the previous dump")
    result, = run(items, tmp_path, [{"postgresql_db": {**database("dump", target=target)["postgresql_db"],
                                                       "name": "no_such_database"}, "ignore_errors": True}])
    assert result.failed and "no_such_database" in result.msg
    assert local.read_bytes() == b"the previous dump"
    assert not list(local.parent.glob("keep.dump.titan-ops-partial*"))


def test_check_mode_dumps_and_restores_nothing(items, tmp_path):
    run(items, tmp_path, [database("dump", target="/var/backups/titan/check.dump")])
    local = items.lab.host_path("lab1", "/var/backups/titan/check-new.dump")
    sql(items, "delete from items")
    dump, restore, refused = run(items, tmp_path, [
        database("dump", target="/var/backups/titan/check-new.dump"),
        database("restore", target="/var/backups/titan/check.dump"),
        {**database("restore", target="/var/backups/titan/nothing-here.dump"), "ignore_errors": True},
    ], check=True)
    assert dump.status is Status.CHANGED and restore.status is Status.CHANGED and not local.exists()
    assert refused.failed
    assert count(items) == 0


def test_present_and_absent(scratch, tmp_path):
    admin = {"login_host": "{{ titan_db.host }}", "login_port": "{{ titan_db.port }}",
             "login_user": "{{ titan_db.admin_user }}", "login_password": "{{ titan_db_admin_password }}"}
    tasks = [{"postgresql_db": {**admin, "name": 'odd "name"', "state": state}} for state in
             ("present", "present", "absent", "absent")]
    results = run(scratch, tmp_path, tasks)
    assert [result.status for result in results] == [Status.CHANGED, Status.OK, Status.CHANGED, Status.OK]
    assert sql(scratch, "select count(*) from pg_database where datname = 'odd \"name\"'", "postgres") == "0"
