"""keys-compromised.yml on the Titan lab: trading halted, exchange keys replaced and revoked through the
exchanges' APIs, the services' API and database passwords rotated, every service healthy with them, the access
evidence collected, and no new secret in any output. The lab's credentials are put back afterwards."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import yaml

import titan_ops
from titan_ops.incident import Timeline
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import PLAYBOOKS, app_state, call, cli


@pytest.fixture
def fleet(fleet: Fleet) -> Iterator[Fleet]:
    """The seeded lab, its own credentials put back after the test."""
    yield fleet
    put_back_the_lab_credentials(fleet)


def put_back_the_lab_credentials(fleet: Fleet) -> None:
    """The database role's password, the apps' .env (config-restore from the backups), the exchanges' keys."""
    secrets = fleet.config.secrets
    subprocess.run(["psql", "-X", "-q", "-w", "-h", "127.0.0.1", "-p", str(fleet.config.ports["postgresql"]),
                    "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-v", f"password={secrets['db_password']}",
                    "-f", "-"], input="ALTER ROLE titan_user PASSWORD :'password';\n", text=True,
                   env={**os.environ, "PGPASSWORD": secrets["db_admin_password"]}, check=True, capture_output=True)
    restored = titan_ops.run(PLAYBOOKS / "config-restore.yml", fleet.inventory_path)
    assert restored.ok
    for host in ("lab2", "lab3"):
        for kept in [*fleet.lab.host_path(host, "/opt/titan").glob(".env.*~"),
                     fleet.lab.host_path(host, "/opt/titan/.env.before-rotation")]:
            kept.unlink(missing_ok=True)
    for exchange in ("exchange-standin", "exchange-mexc-standin"):
        assert call(fleet, exchange, "/_standin/reset", {})[0] == 200


def exchange_accepts(fleet: Fleet, exchange: str, key: str) -> int:
    path, header = {"exchange-standin": ("/v5/account/info", "X-BAPI-API-KEY"),
                    "exchange-mexc-standin": ("/api/v3/account", "X-MEXC-APIKEY")}[exchange]
    return call(fleet, exchange, path, auth=False, headers={header: key})[0]


def test_keys_compromised_rotates_every_credential_and_shows_none(fleet, tmp_path):
    old = dict(fleet.config.secrets)
    rotated, incidents = tmp_path / "rotated.yml", tmp_path / "incidents"
    json_path, junit_path = tmp_path / "run.json", tmp_path / "run.xml"
    done = cli("run", "playbooks/keys-compromised.yml", "-i", str(fleet.inventory_path), "-vv",
               "--incident", "SEC-1", "--incident-dir", str(incidents), "-e", f"rotated_vars_file={rotated}",
               "--output-json", str(json_path), "--junit", str(junit_path))
    assert done.returncode == 0, done.stdout[-4000:]
    assert rotated.stat().st_mode & 0o777 == 0o600
    new = yaml.safe_load(rotated.read_text())
    assert set(new) == {"titan_api_password", "titan_db_password", "titan_exchange_api_key",
                        "titan_exchange_api_secret", "titan_mexc_api_key", "titan_mexc_api_secret"}
    assert not set(new.values()) & set(old.values())

    # the exchanges refuse the compromised keys and accept the new ones
    assert exchange_accepts(fleet, "exchange-standin", old["exchange_api_key"]) == 401
    assert exchange_accepts(fleet, "exchange-mexc-standin", old["mexc_api_key"]) == 401
    assert exchange_accepts(fleet, "exchange-standin", new["titan_exchange_api_key"]) == 200
    assert exchange_accepts(fleet, "exchange-mexc-standin", new["titan_mexc_api_key"]) == 200
    # the services take the new API password only; trading halted
    assert call(fleet, "titan-execution", "/api/execution/master-arm")[0] == 401
    assert master_arm_with(fleet, new["titan_api_password"]) == (200, False)
    # the database takes the new password only
    for password, works in ((new["titan_db_password"], True), (old["db_password"], False)):
        login = subprocess.run(["psql", "-X", "-qtA", "-w", "-h", "127.0.0.1", "-p",
                                str(fleet.config.ports["postgresql"]), "-U", "titan_user", "-d", "titan_brain",
                                "-c", "select 1"], env={**os.environ, "PGPASSWORD": password}, capture_output=True)
        assert (login.returncode == 0) is works
    assert all(status == "online" for status, _ in app_state(fleet).values())

    entries = Timeline("SEC-1", incidents).entries()
    [decision] = [entry for entry in entries if entry["kind"] == "note"]
    assert decision["type"] == "decision" and decision["text"].startswith("credentials rotated")
    bundles = sorted((incidents / "SEC-1").glob("*.tar.gz"))
    assert len(bundles) == 3
    texts = [done.stdout, done.stderr, json_path.read_text(), junit_path.read_text()]
    for bundle in bundles:
        with tarfile.open(bundle) as archive:
            names = [member.name for member in archive]
            texts += [archive.extractfile(member).read().decode(errors="replace") for member in archive
                      if member.isfile()]
        assert any(name.endswith("last-logins.txt") for name in names)
        assert any(name.endswith("open-connections.txt") for name in names)
    texts += [path.read_text(errors="replace") for path in (incidents / "SEC-1").rglob("*")
              if path.is_file() and not path.name.endswith(".tar.gz")]
    everything = "\n".join(texts)
    assert [name for name, value in new.items() if value in everything] == []


def master_arm_with(fleet: Fleet, password: str) -> tuple[int, bool]:
    """(status, master arm enabled) of a GET with the services' API user and ``password``."""
    request = urllib.request.Request(fleet.url("titan-execution") + "/api/execution/master-arm")
    token = base64.b64encode(f"{fleet.api_credentials[0]}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())["enabled"]
    except urllib.error.HTTPError as error:
        return error.code, False
