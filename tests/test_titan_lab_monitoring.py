"""The lab's real parts around the stand-ins: nginx in front, Prometheus scraping them, Alertmanager
notifying a webhook, Redis with a password, sysstat; and the production example inventory."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import titan_ops
from titan_ops.connection import ConnectionPool
from titan_ops.lab import titan, titan_monitoring
from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.titan import Fleet
from titan_ops.lab.titan_config import wait_until
from tests.runbooks_support import call, reset_standins
from tests.serving import served

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def websocket_handshake(port: int, path: str = "/ws") -> tuple[str, dict[str, str], bytes]:
    """(status line, headers, first bytes after them) of a WebSocket handshake on 127.0.0.1:``port``."""
    key = base64.b64encode(b"titan-ops-test-key").decode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: titan.lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status, *lines = head.decode().split("\r\n")
        # The first frame may come in a packet of its own, after the headers': read it (2 bytes of frame header
        # and its payload, up to 125 bytes or with a 16-bit length), or until the server closes.
        while " 101 " in status + " " and not _whole_frame(rest):
            chunk = connection.recv(4096)
            if not chunk:
                break
            rest += chunk
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    if " 101 " in status + " ":
        assert headers["sec-websocket-accept"] == expected.decode()
    return status, headers, rest


def _whole_frame(data: bytes) -> bool:
    """Does ``data`` begin with a whole unmasked WebSocket frame (payload under 64 KiB)?"""
    if len(data) < 2:
        return False
    length, header = data[1] & 0x7F, 2
    if length == 126:
        if len(data) < 4:
            return False
        length, header = int.from_bytes(data[2:4], "big"), 4
    return len(data) >= header + length


def test_nginx_fronts_the_services_api_and_websocket(titan_lab: Fleet):
    nginx = titan_lab.config.ports["nginx"]
    inventory = titan_ops.load_inventory(titan_lab.inventory_path).host_vars("lab2")
    assert inventory["titan_public_url"] == titan_lab.public_url == f"http://127.0.0.1:{nginx}"
    assert _get(titan_lab.public_url + "/api/brain/dashboard")[0] == 401
    status, body = _get(titan_lab.public_url + "/api/brain/dashboard", titan_lab.api_credentials)
    assert status == 200 and json.loads(body)["breaker_state"] == "closed"
    assert _get(titan_lab.public_url + "/api/execution/positions", titan_lab.api_credentials)[0] == 200
    access_log = titan_lab.lab.host_path("lab3", "/var/log/titan/nginx/access.log").read_text()
    assert "/api/execution/positions" in access_log
    assert inventory["titan_services"]["titan-execution"]["websocket_url"] == f"ws://127.0.0.1:{nginx}/ws"
    status, headers, frames = websocket_handshake(nginx)
    assert " 101 " in status and headers["server"].startswith("nginx")
    assert frames[:1] == b"\x81" and b'"snapshot"' in frames
    assert call(titan_lab, "titan-execution", "/_standin/websocket", {"up": False})[0] == 200
    try:
        assert " 503 " in websocket_handshake(nginx)[0]
    finally:
        reset_standins(titan_lab)
    assert " 101 " in websocket_handshake(nginx)[0]


def test_prometheus_scrapes_every_service_with_the_seed_alert_rules(titan_lab: Fleet):
    prometheus = titan_lab.config.url("prometheus")

    def targets() -> dict[str, str]:
        answer = json.loads(_get(prometheus + "/api/v1/targets")[1])
        return {target["labels"]["job"]: target["health"] for target in answer["data"]["activeTargets"]}

    jobs = {app.name for app in titan.APPS if app.tier} | {"prometheus", "alertmanager", "node-exporter"}
    assert wait_until(lambda: targets() == dict.fromkeys(jobs, "up"), 60), targets()
    rules = json.loads(_get(prometheus + "/api/v1/rules")[1])["data"]["groups"][0]["rules"]
    severities = {rule["name"]: rule["labels"]["severity"] for rule in rules}
    assert {severities[name] for name in ("TitanAllServicesDown", "TitanCoreServiceDown",
                                          "TitanCircuitBreakerSystemFailure", "TitanDatabaseUnreachable")} == {"1"}
    assert severities["TitanConsoleDown"] == severities["TitanSignalLatencyHigh"] == "2"
    assert severities["TitanMonitoringDown"] == severities["TitanErrorRateSpike"] == "3"
    assert severities["TitanDiskSpaceLow"] == severities["TitanMemoryHigh"] == "4"
    assert all(rule["health"] == "ok" for rule in rules)
    query = urllib.parse.quote('titan_signal_latency_ms{job="titan-brain"}')
    answer = json.loads(_get(f"{prometheus}/api/v1/query?query={query}")[1])
    assert float(answer["data"]["result"][0]["value"][1]) == 45.0


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def webhook(titan_lab: Fleet) -> Iterator[list[dict]]:
    """A real HTTP receiver on loopback, set as Alertmanager's webhook for the test; what it received."""
    received: list[dict] = []
    _Receiver.received = received
    with served(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)) as server:
        try:
            titan.set_alert_webhook(f"http://127.0.0.1:{server.server_port}/alerts", titan_lab.lab.directory)
            yield received
        finally:
            titan.set_alert_webhook(None, titan_lab.lab.directory)


def test_alertmanager_notifies_the_configured_webhook(titan_lab: Fleet, webhook: list[dict]):
    config_file = titan_lab.lab.host_path("lab3", "/etc/titan/alertmanager/alertmanager.yml")
    assert "/alerts" in config_file.read_text()
    monitoring = titan_ops.load_inventory(titan_lab.inventory_path).host_vars("lab1")["titan_monitoring"]
    assert monitoring["alert_webhook"].endswith("/alerts")
    assert monitoring["alertmanager_url"] == titan_lab.config.url("alertmanager")
    reset_standins(titan_lab)
    call(titan_lab, "titan-brain", "/_standin/breaker", {"state": "open", "reason": "exchange connection lost",
                                                        "trigger": None})
    try:
        def fired() -> list[dict]:
            return [alert for message in webhook for alert in message["alerts"]
                    if alert["labels"]["alertname"] == "TitanCircuitBreakerSystemFailure"
                    and alert["status"] == "firing"]
        assert wait_until(lambda: bool(fired()), 90), webhook
        alert = fired()[0]
        assert alert["labels"]["severity"] == "1" and alert["labels"]["job"] == "titan-brain"
        held = [alert["labels"]["alertname"] for alert in titan_monitoring.active_alerts(titan_lab.config)]
        assert "TitanCircuitBreakerSystemFailure" in held
        assert alert["annotations"]["runbook"] == "playbooks/circuit-breaker.yml"
    finally:
        reset_standins(titan_lab)


def test_redis_needs_its_password(titan_lab: Fleet):
    port, password = titan_lab.config.ports["redis"], titan_lab.config.secrets["redis_password"]
    without = subprocess.run(["redis-cli", "-e", "-p", str(port), "ping"], capture_output=True, text=True)
    assert without.returncode != 0 and "NOAUTH" in without.stdout + without.stderr
    with_password = subprocess.run(["redis-cli", "-e", "-p", str(port), "ping"], capture_output=True, text=True,
                                   env={"REDISCLI_AUTH": password, "PATH": "/usr/bin:/bin"})
    assert with_password.stdout.strip() == "PONG"
    assert call(titan_lab, "titan-brain", "/health", auth=False)[1]["redis"] is True


def test_sysstat_runs_on_the_lab_hosts(titan_lab: Fleet):
    pool = ConnectionPool()
    try:
        connection = pool.get(titan_lab.lab.address("lab1"))
        for command in ("sar -A", "sar -u 1 1", "iostat -x 1 2"):
            done = connection.run(command)
            assert done.rc == 0 and done.stdout.strip(), (command, done.stderr)
    finally:
        pool.close_all()


def test_down_and_up_restart_the_daemons_from_their_pid_files(titan_lab: Fleet):
    lab = titan_lab.lab
    commands = titan_monitoring.nginx_commands()
    run_in_host(lab, "lab3", commands["stop"])
    assert not titan_monitoring.running(lab, titan_lab.config)["nginx"]
    assert not titan.status(lab.directory).running
    assert titan.up(hosts=3, directory=lab.directory).running
    assert titan_monitoring.answers(titan_lab.config, "nginx", "/nginx-health")


def test_the_production_inventory_is_the_seeds_fleet():
    inventory = titan_ops.load_inventory(ROOT / "inventory" / "production")
    services = inventory.host_vars("db1.titan.internal")["titan_services"]
    managers = {name: service["manager"] for name, service in services.items()}
    assert {name for name, manager in managers.items() if manager == "pm2"} == {
        "titan-brain", "titan-execution", "titan-console", "titan-scavenger", "titan-ai-quant"}
    assert {managers[name] for name in ("postgresql", "redis", "nginx", "prometheus", "alertmanager", "grafana")} \
        == {"systemd"}
    assert services["titan-brain"]["url"] == "https://titan.yourdomain.com"
    assert "-e" in services["redis"]["check"].split()
    assert set(inventory.groups()) >= {"databases", "core", "trading", "interface", "monitoring"}
