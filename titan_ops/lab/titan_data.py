"""The Titan lab's data services on the databases host: a PostgreSQL cluster and a Redis, both real.

PostgreSQL: ``initdb`` into the host's ``/var/lib/titan/postgresql/data``
(so, into the lab directory), run by ``pg_ctl`` as the ``postgres`` OS user,
listening on 127.0.0.1 only, password (SCRAM) login over TCP. The database
``titan_brain`` belongs to ``titan_user`` and holds ``allocations``,
``decisions`` and ``performance`` with seeded rows. Redis: ``redis-server``
with its own config and folder under ``/var/lib/titan/redis``, no
persistence, a password (``requirepass``) as production has one. Both run
inside the host's namespaces; stopping them touches only the processes named
by their own pid files.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

from titan_ops.lab.lab import Lab
from titan_ops.lab.standins.common import redis_answers
from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.sshd import LabError
from titan_ops.lab.titan_config import (DB_ADMIN, DB_DUMP, DB_NAME, DB_USER, LOG_DIR, PG_DATA, PG_DIR, PG_LOG,
                                        REDIS_DIR, FleetConfig, wait_until)
from titan_ops.modules.postgresql.sql import set_variable

SCHEMA_AND_SEED = """
\\set ON_ERROR_STOP on
CREATE ROLE titan_user LOGIN PASSWORD :'titan_password';
CREATE DATABASE titan_brain OWNER titan_user ENCODING 'UTF8';
\\connect titan_brain
SET ROLE titan_user;
CREATE TABLE allocations (
    id serial PRIMARY KEY,
    strategy text NOT NULL,
    symbol text NOT NULL,
    weight numeric(6, 4) NOT NULL,
    capital numeric(14, 2) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE decisions (
    id serial PRIMARY KEY,
    decided_at timestamptz NOT NULL,
    signal_id text NOT NULL,
    symbol text NOT NULL,
    action text NOT NULL,
    confidence numeric(5, 4) NOT NULL,
    approved boolean NOT NULL,
    reason text
);
CREATE TABLE performance (
    id serial PRIMARY KEY,
    "timestamp" timestamptz NOT NULL,
    strategy text NOT NULL,
    pnl numeric(14, 2) NOT NULL,
    equity numeric(14, 2) NOT NULL,
    drawdown numeric(6, 4) NOT NULL
);
CREATE INDEX performance_timestamp_idx ON performance ("timestamp");
INSERT INTO allocations (strategy, symbol, weight, capital)
SELECT strategy, symbol, weight, round(25000 * weight, 2)
FROM (VALUES ('scavenger-trap', 'BTCUSDT', 0.3000), ('scavenger-trap', 'ETHUSDT', 0.2000),
             ('hunter-momentum', 'SOLUSDT', 0.2500), ('sentinel-basis', 'BTCUSDT', 0.1500),
             ('sentinel-basis', 'ETHUSDT', 0.1000)) AS seed (strategy, symbol, weight);
INSERT INTO decisions (decided_at, signal_id, symbol, action, confidence, approved, reason)
SELECT now() - make_interval(mins => 5 * n), 'sig-' || lpad(n::text, 4, '0'),
       (ARRAY['BTCUSDT', 'ETHUSDT', 'SOLUSDT'])[1 + n % 3], (ARRAY['buy', 'sell', 'hold'])[1 + n % 3],
       round((0.5 + (n % 50) / 100.0)::numeric, 4), n % 4 <> 0,
       CASE WHEN n % 4 = 0 THEN 'risk limit' ELSE NULL END
FROM generate_series(1, 50) AS n;
INSERT INTO performance ("timestamp", strategy, pnl, equity, drawdown)
SELECT date_trunc('minute', now()) - make_interval(mins => 5 * n),
       (ARRAY['scavenger-trap', 'hunter-momentum', 'sentinel-basis'])[1 + n % 3],
       round(((n % 17) - 8) * 12.5, 2), round(25000 + (200 - n) * 3.25, 2), round(((n % 9) / 100.0)::numeric, 4)
FROM generate_series(0, 199) AS n;
RESET ROLE;
CREATE EXTENSION amcheck;
"""


def postgres_bin_dir() -> Path:
    """The folder of the newest installed PostgreSQL server (Debian's layout), else of initdb on the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise LabError("PostgreSQL server not found: apt-get install -y postgresql")
    return Path(initdb).resolve().parent


def postgres_running(lab: Lab, config: FleetConfig) -> bool:
    """Whether the cluster has a pid file and accepts connections on its port."""
    host = config.host_of("databases")
    return lab.host(host).alive and lab.host_path(host, f"{PG_DATA}/postmaster.pid").exists() \
        and _accepts(config.ports["postgresql"])


def ensure_postgres(lab: Lab, config: FleetConfig) -> None:
    """initdb (once), start the cluster (unless it runs), create and seed titan_brain (once)."""
    host = config.host_of("databases")
    bin_dir = postgres_bin_dir()
    if not lab.host_path(host, f"{PG_DATA}/PG_VERSION").exists():
        _initdb(lab, host, bin_dir, config)
    if not postgres_running(lab, config):
        run_in_host(lab, host, _as_postgres(bin_dir / "pg_ctl", "-D", PG_DATA, "-l", PG_LOG, "-w", "-t", "60",
                                            "start"))
    seeded = lab.host_path(host, f"{PG_DIR}/titan-seeded")
    if not seeded.exists():
        script = set_variable("titan_password", config.secrets["db_password"]) + SCHEMA_AND_SEED
        _psql(config, DB_ADMIN, config.secrets["db_admin_password"], "postgres", script)
        seeded.write_text("titan_brain created and seeded by titan-ops lab up --titan\n")


def stop_postgres(lab: Lab, config: FleetConfig) -> bool:
    """``pg_ctl stop -m fast`` on the lab's own data directory; True if it was running."""
    host = config.host_of("databases")
    if not (lab.host(host).alive and lab.host_path(host, f"{PG_DATA}/postmaster.pid").exists()):
        return False
    done = run_in_host(lab, host, _as_postgres(postgres_bin_dir() / "pg_ctl", "-D", PG_DATA, "-m", "fast", "-w",
                                               "stop"), check=False)
    return done.returncode == 0


def write_latest_dump(lab: Lab, config: FleetConfig) -> None:
    """The backup the runbooks restore from: ``pg_dump -Fc`` of titan_brain, unless one is there."""
    host = config.host_of("databases")
    target = lab.host_path(host, DB_DUMP)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    command = ["pg_dump", "-w", "-h", "127.0.0.1", "-p", str(config.ports["postgresql"]), "-U", DB_USER,
               "--format=custom", "-f", str(partial), "-d", DB_NAME]
    _client(command, config.secrets["db_password"])
    partial.replace(target)


def ensure_redis(lab: Lab, config: FleetConfig) -> None:
    """Write redis.conf and start redis-server (daemonized) unless it answers PING."""
    if shutil.which("redis-server") is None:
        raise LabError("redis-server not found: apt-get install -y redis-server")
    host, port = config.host_of("databases"), config.ports["redis"]
    if redis_running(config):
        return
    folder = lab.host_path(host, REDIS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "redis.conf"
    conf.touch(mode=0o600)
    conf.chmod(0o600)
    conf.write_text(
        "# Written by titan-ops lab up --titan: the lab's Redis.\n"
        f"bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize yes\n"
        f"requirepass {config.secrets['redis_password']}\n"
        f"pidfile {REDIS_DIR}/redis.pid\nlogfile {LOG_DIR}/redis.log\ndir {REDIS_DIR}\n"
        "save \"\"\nappendonly no\n")
    run_in_host(lab, host, f"redis-server {REDIS_DIR}/redis.conf")
    if not wait_until(lambda: redis_running(config), 15.0):
        raise LabError(f"redis did not start on port {port}: see {lab.host_path(host, LOG_DIR)}/redis.log")


def redis_running(config: FleetConfig) -> bool:
    """Whether Redis answers PING on its port, with the lab's password."""
    return redis_answers(redis_url(config))


def redis_url(config: FleetConfig) -> str:
    """``redis://:PASSWORD@127.0.0.1:PORT/0``, as the services' .env gives it."""
    return f"redis://:{config.secrets['redis_password']}@127.0.0.1:{config.ports['redis']}/0"


def stop_redis(lab: Lab, config: FleetConfig) -> bool:
    """SIGTERM to the redis-server named by the lab's own pid file (Redis then shuts down cleanly)."""
    host = config.host_of("databases")
    if not (lab.host(host).alive and lab.host_path(host, f"{REDIS_DIR}/redis.pid").exists()):
        return False
    script = (f"pid=$(cat {REDIS_DIR}/redis.pid) && grep -q redis-server /proc/$pid/cmdline && kill $pid && "
              "while kill -0 $pid 2>/dev/null; do sleep 0.05; done")
    return run_in_host(lab, host, script, check=False).returncode == 0


def _initdb(lab: Lab, host: str, bin_dir: Path, config: FleetConfig) -> None:
    postgres = pwd.getpwnam("postgres")
    for path in (PG_DIR, f"{LOG_DIR}/postgresql"):
        folder = lab.host_path(host, path)
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, postgres.pw_uid, postgres.pw_gid)
        folder.chmod(0o700)
    password_file = lab.host_path(host, f"{PG_DIR}/initdb-password")
    descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(config.secrets["db_admin_password"] + "\n")
    os.chown(password_file, postgres.pw_uid, postgres.pw_gid)
    try:
        run_in_host(lab, host, _as_postgres(bin_dir / "initdb", "-D", PG_DATA, "-U", DB_ADMIN, "-E", "UTF8",
                                            "--locale=C", "--auth-local=peer", "--auth-host=scram-sha-256",
                                            f"--pwfile={PG_DIR}/initdb-password"), timeout=180)
    finally:
        password_file.unlink(missing_ok=True)
    with open(lab.host_path(host, f"{PG_DATA}/postgresql.conf"), "a") as conf:
        conf.write("\n# titan-ops lab\n"
                   f"listen_addresses = '127.0.0.1'\nport = {config.ports['postgresql']}\n"
                   f"unix_socket_directories = '{PG_DIR}'\n"
                   "shared_buffers = 32MB\nmax_connections = 50\nfsync = off\nfull_page_writes = off\n")


def _as_postgres(binary: Path, *arguments: str) -> str:
    return shlex.join(["runuser", "-u", "postgres", "--", str(binary), *arguments])


def _psql(config: FleetConfig, user: str, password: str, database: str, script: str) -> None:
    command = ["psql", "-X", "-q", "-w", "-h", "127.0.0.1", "-p", str(config.ports["postgresql"]), "-U", user,
               "-d", database, "-f", "-"]
    _client(command, password, script)


def _client(command: list[str], password: str, stdin: str = "") -> None:
    """A PostgreSQL client tool on the controller; the password only in its environment."""
    environment = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, env=environment, timeout=120)
    if done.returncode != 0:
        raise LabError(f"{command[0]} failed: {done.stderr.strip()[-1000:]}")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False

