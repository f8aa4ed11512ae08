"""The runbooks on the Titan lab: final states, check mode changes nothing, db-recovery's safety stops,
and no secret (from the inventory or the environment) in any output."""

from __future__ import annotations

import json
import tarfile

import yaml

import titan_ops
from titan_ops.engine.results import RunResult
from titan_ops.incident import Timeline
from titan_ops.lab.titan import Fleet

from tests.runbooks_support import PLAYBOOKS, call, cli, failures, snapshot


def run(fleet: Fleet, name: str, **options) -> RunResult:
    return titan_ops.run(PLAYBOOKS / name, fleet.inventory_path, **options)


def test_health_check_triages_a_service_down(fleet, tmp_path):
    saved = tmp_path / "health.json"
    done = cli("run", "playbooks/health-check.yml", "-i", str(fleet.inventory_path), "--output-json", str(saved))
    assert done.returncode == 0, done.stdout[-3000:]
    assert "TRIAGE ****" in done.stdout and "none (no incident)" in done.stdout
    stopped = run(fleet, "restart-services.yml", extra_vars={"service_state": "stopped",
                                                              "only_services": ["titan-console"]})
    assert stopped.ok, failures(stopped)
    try:
        done = cli("run", "playbooks/health-check.yml", "-i", str(fleet.inventory_path), "--output-json", str(saved))
        assert done.returncode == 12, "severity 2: exit code 10 + 2"
        assert "severity       2" in done.stdout and "[2] console down (no monitoring)" in done.stdout
        assert "1. playbooks/collect-diagnostics.yml" in done.stdout
        assert "down: titan-console" in done.stdout
        again = cli("triage", "--from-json", str(saved))
        assert again.returncode == 12 and "severity       2" in again.stdout and "15 minutes" in again.stdout
    finally:
        started = run(fleet, "restart-services.yml", extra_vars={"service_state": "started",
                                                                  "only_services": ["titan-console"]})
        assert started.ok, failures(started)
    assert all(status == "online" for status, _ in snapshot(fleet)["apps"].values())


def test_check_mode_changes_nothing(fleet, tmp_path):
    env_file = fleet.lab.host_path("lab2", "/opt/titan/.env")
    original = env_file.read_bytes()
    env_file.write_text("TITAN_API_USER\n<<<corrupted>>>\n")
    call(fleet, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "drawdown"})
    call(fleet, "titan-execution", "/_standin/position-mismatch", {"symbol": "BTCUSDT", "exchange_size": 0.2})
    try:
        before = snapshot(fleet)
        runs = {
            "health-check.yml": {}, "db-check.yml": {}, "db-recovery.yml": {}, "restart-services.yml": {},
            "containment.yml": {"confirm_flatten_all": True}, "config-restore.yml": {}, "verify-recovery.yml": {},
            "collect-diagnostics.yml": {"incident_id": "CHECK-1", "incident_dir": str(tmp_path / "incidents"),
                                        "iostat_samples": 1},
            "circuit-breaker.yml": {"justification": "check mode"}, "position-mismatch.yml": {},
            "exchange-api.yml": {}, "db-freeze.yml": {}, "exchange-switch.yml": {"exchange": "mexc"},
            "rearm.yml": {"confirm_rearm": "yes", "justification": "check mode", "incident_id": "CHECK-2",
                          "incident_dir": str(tmp_path / "incidents")},
        }
        for name, extra_vars in runs.items():
            result = run(fleet, name, check=True, diff=True, extra_vars=extra_vars)
            assert result.stats, name
            if name not in ("verify-recovery.yml", "rearm.yml"):  # they report the injected faults, as they should
                assert result.ok, (name, failures(result))
        assert snapshot(fleet) == before
        assert not (tmp_path / "incidents").exists()
        refused = run(fleet, "keys-compromised.yml", check=True, incident="CHECK-3", incident_dir=tmp_path)
        assert "not in check mode: a new key cannot be previewed" in " ".join(failures(refused))
        assert snapshot(fleet) == before
    finally:
        env_file.write_bytes(original)


def test_containment_with_confirmed_flatten(fleet):
    result = run(fleet, "containment.yml", extra_vars={"operator_id": "alice", "confirm_flatten_all": True})
    assert result.ok, failures(result)
    state = snapshot(fleet)
    assert (state["master_arm"], state["open_orders"], state["positions"]) == (False, 0, 0)
    assert call(fleet, "titan-execution", "/api/execution/master-arm")[1]["operator_id"] == "alice"


def test_containment_never_flattens_unconfirmed(fleet):
    result = run(fleet, "containment.yml")
    assert result.ok, failures(result)
    state = snapshot(fleet)
    assert (state["master_arm"], state["open_orders"], state["positions"]) == (False, 0, 2)


def test_circuit_breaker_resets_a_false_positive_only_with_a_justification(fleet, tmp_path):
    call(fleet, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "stale price feed"})
    result = run(fleet, "circuit-breaker.yml")
    assert result.exit_code == 2 and snapshot(fleet)["breaker"] == "open"
    said = " ".join(str(task.msg) for task in result.host_results("lab2"))
    assert "System failure (no risk-limit trigger)" in said and "not reset: the breaker stays open" in said
    result = run(fleet, "circuit-breaker.yml", extra_vars={"justification": "false positive: stale price feed",
                                                          "operator_id": "bob"},
                 incident="INC-CB", incident_dir=tmp_path)
    assert result.ok, failures(result)
    breaker = call(fleet, "titan-brain", "/api/brain/breaker")[1]
    assert (breaker["state"], breaker["reset_by"]) == ("closed", "bob")
    [note] = [entry for entry in Timeline("INC-CB", tmp_path).entries() if entry["kind"] == "note"]
    assert note["rationale"] == "false positive: stale price feed"


def test_circuit_breaker_leaves_a_valid_trip_to_its_cooldown(fleet):
    trip = {"state": "open", "reason": "daily drawdown limit", "cooldown_s": 600,
            "trigger": {"metric": "drawdown", "value": 0.062, "limit": 0.05}}
    call(fleet, "titan-brain", "/_standin/breaker", trip)
    result = run(fleet, "circuit-breaker.yml")
    assert result.ok, failures(result)
    assert "Valid trigger (drawdown 0.062 reached its limit 0.05)" in " ".join(
        str(task.msg) for task in result.host_results("lab2"))
    assert snapshot(fleet)["breaker"] == "open", "a valid trip waits for its cooldown: nothing reset"


def test_exchange_api_tells_exchange_wide_from_account_trouble(fleet):
    result = run(fleet, "exchange-api.yml")
    assert result.ok, failures(result)
    assert call(fleet, "exchange-standin", "/_standin/fault", {"status": 503})[0] == 200
    try:
        result = run(fleet, "exchange-api.yml")
        assert result.exit_code == 2
        [finding] = [task.msg for task in result.host_results("lab2") if task.module == "debug"]
        assert "bybit (primary): time 503" in finding and "bybit: exchange-wide trouble" in finding
        assert "The backup exchange mexc is sound: switch with playbooks/exchange-switch.yml" in finding
    finally:
        call(fleet, "exchange-standin", "/_standin/fault", {"status": None})


def test_no_secret_in_any_output(fleet, tmp_path):
    """Credentials from the environment (none in the inventory): the runbooks work, and no secret shows."""
    inventory = yaml.safe_load(fleet.inventory_path.read_text())
    variables = inventory["all"]["vars"]
    environment = {}
    for name in ("titan_api_password", "titan_db_password", "titan_db_admin_password", "titan_exchange_api_key",
                 "titan_exchange_api_secret", "titan_redis_password"):
        environment[name.upper()] = variables.pop(name)
    stripped = tmp_path / "inventory.yml"
    stripped.write_text(yaml.safe_dump(inventory))
    secrets = set(fleet.config.secrets.values()) | set(environment.values())
    incidents = tmp_path / "incidents"
    texts = []
    for number, (name, extra) in enumerate([("health-check.yml", []), ("exchange-api.yml", []),
                                            ("db-check.yml", []), ("containment.yml", ["--check"]),
                                            ("collect-diagnostics.yml", ["-e", "iostat_samples=1"])]):
        json_path, junit_path = tmp_path / f"{number}.json", tmp_path / f"{number}.xml"
        done = cli("run", f"playbooks/{name}", "-i", str(stripped), "-vv", "--output-json", str(json_path),
                   "--junit", str(junit_path), "--incident", "INC-SECRET", "--incident-dir", str(incidents), *extra,
                   env=environment)
        assert done.returncode == 0, (name, done.stdout[-3000:])
        texts += [done.stdout, done.stderr, json_path.read_text(), junit_path.read_text()]
    health = json.loads((tmp_path / "0.json").read_text())
    facts = [task["result"]["ansible_facts"]["titan_health"] for play in health["plays"]
             for task in play["tasks"].get("lab2", []) if "titan_health" in task["result"].get("ansible_facts", {})]
    assert facts[0]["signal_latency_ms"] is not None, "the API credentials came from the environment"
    report = cli("incident", "report", "INC-SECRET", "--dir", str(incidents), env=environment)
    texts.append(report.stdout)
    bundles = sorted((incidents / "INC-SECRET").glob("*.tar.gz"))
    assert len(bundles) == 3
    for bundle in bundles:
        with tarfile.open(bundle) as archive:
            texts += [archive.extractfile(member).read().decode(errors="replace") for member in archive
                      if member.isfile()]
    texts += [path.read_text(errors="replace") for path in (incidents / "INC-SECRET").rglob("*") if path.is_file()
              and not path.name.endswith(".tar.gz")]
    everything = "\n".join(texts)
    assert "pg-dump-schema" in everything and "CREATE TABLE public.performance" in everything
    leaked = [secret for secret in secrets if secret in everything]
    assert leaked == []


def test_collect_diagnostics_collects_what_the_procedures_collect(fleet, tmp_path):
    """The full `iostat -x 1 10`, top and per-process CPU/memory of Titan, recent changes, routes and firewall."""
    result = run(fleet, "collect-diagnostics.yml", limit="lab2",
                 extra_vars={"incident_id": "COLLECT-1", "incident_dir": str(tmp_path)})
    assert result.ok, failures(result)
    folder = tmp_path / "COLLECT-1" / "lab2"
    manifest = {entry["name"]: entry for entry in json.loads((folder / "manifest.json").read_text())["diagnostics"]}
    text = {name: (folder / entry["file"]).read_text() for name, entry in manifest.items()}
    assert text["iostat"].count("avg-cpu") == 10 and manifest["iostat"]["command"] == "iostat -x 1 10"
    assert "titan_standins execution" in text["top-titan"] and "%CPU" in text["top-titan"]
    assert "%CPU %MEM" in text["titan-processes"] and "titan_standins brain" in text["titan-processes"]
    assert "titan-execution online restarts=" in text["changes-pm2-restarts"]
    assert manifest["changes-git-log"]["exit_code"] != 127  # git ran (the lab's /opt/titan is no repository)
    assert text["routes"].strip() and manifest["changes-packages"]["exit_code"] == 0
    for name in ("firewall-iptables", "firewall-nftables", "firewall-ufw"):
        assert name in manifest  # collected, or recorded as missing (exit code 127) where the tool is not there
