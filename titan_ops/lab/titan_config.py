"""The Titan lab's layout: which host plays which part, the apps, the ports and the secrets.

Recorded in ``DIR/titan.json`` (mode 0600) on the first ``up --titan`` and
reused after, so ports and passwords stay the same across ``down``/``up``.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Callable

from titan_ops.lab.ports import port_free
from titan_ops.lab.sshd import LabError

GROUP_SLOTS: dict[str, int] = {"databases": 1, "core": 2, "trading": 2, "interface": 3, "monitoring": 3}
"""Each inventory group's host: lab1, lab2 or lab3 (the last host when the lab has fewer)."""

API_USER = "titan-ops"
DB_NAME, DB_USER, DB_ADMIN = "titan_brain", "titan_user", "postgres"

# Paths as the hosts see them.
TITAN_DIR = "/opt/titan"
ENV_FILE = f"{TITAN_DIR}/.env"
ECOSYSTEM_FILE = f"{TITAN_DIR}/ecosystem.config.js"
PM2_HOME = "/var/lib/titan/pm2"
STATE_DIR = "/var/lib/titan/standins"
LOG_DIR = "/var/log/titan"
BACKUP_DIR = "/var/backups/titan"
CONFIG_BACKUP_DIR = f"{BACKUP_DIR}/config"
DB_DUMP = f"{BACKUP_DIR}/db/{DB_NAME}-latest.dump"
PG_DIR = "/var/lib/titan/postgresql"
PG_DATA = f"{PG_DIR}/data"
PG_LOG = f"{LOG_DIR}/postgresql/postgresql.log"
REDIS_DIR = "/var/lib/titan/redis"
NGINX_DIR = "/var/lib/titan/nginx"
PROMETHEUS_CONFIG_DIR = "/etc/titan/prometheus"
ALERTMANAGER_CONFIG = "/etc/titan/alertmanager/alertmanager.yml"

_PORT_RANGE = range(20000, 30000)


@dataclass(frozen=True)
class App:
    """One stand-in service pm2 runs: its pm2 name, stand-in, group, recovery tier and health path."""

    name: str
    standin: str
    group: str
    tier: int
    health_path: str = "/health"


APPS: tuple[App, ...] = (
    App("titan-brain", "brain", "core", 2),
    App("titan-execution", "execution", "trading", 2),
    App("titan-console", "console", "interface", 3),
    App("titan-scavenger", "scavenger", "trading", 4),
    App("titan-ai-quant", "ai-quant", "core", 4),
    App("grafana", "grafana", "monitoring", 5, "/api/health"),
    App("exchange-standin", "exchange", "monitoring", 0, "/v5/market/time"),
    App("exchange-mexc-standin", "exchange-mexc", "monitoring", 0, "/api/v3/time"),
)
"""The exchange stand-ins (Bybit-like, the primary; MEXC-like, the backup) are not part of Titan (tier 0:
outside the recovery order)."""

DAEMONS = ("nginx", "prometheus", "alertmanager", "node-exporter")
"""The real daemons from Debian packages around the apps: nginx in front, and the monitoring."""
PORTED = ("postgresql", "redis", *(app.name for app in APPS), *DAEMONS)
SECRET_NAMES = ("api_password", "db_password", "db_admin_password", "exchange_api_key", "exchange_api_secret",
                "redis_password", "mexc_api_key", "mexc_api_secret")


@dataclass
class FleetConfig:
    """The fleet of one lab directory."""

    hosts: int
    ports: dict[str, int]
    secrets: dict[str, str]
    alert_webhook: str | None = None
    """Where Alertmanager sends its notifications (a webhook URL), or None for nowhere."""

    def host_of(self, group: str) -> str:
        """The lab host that plays ``group``."""
        return f"lab{min(GROUP_SLOTS[group], self.hosts)}"

    def app_hosts(self) -> dict[str, list[App]]:
        """Each pm2 host and the apps it runs."""
        found: dict[str, list[App]] = {}
        for app in APPS:
            found.setdefault(self.host_of(app.group), []).append(app)
        return found

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def config_path(directory: Path) -> Path:
    return directory / "titan.json"


def load(directory: Path) -> FleetConfig | None:
    """The recorded fleet, or None when this lab never had one."""
    try:
        return FleetConfig(**json.loads(config_path(directory).read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as error:
        raise LabError(f"{config_path(directory)}: unreadable: {error}") from None


def load_or_create(directory: Path, hosts: int, taken: set[int]) -> FleetConfig:
    """The recorded fleet (its host count updated), or a new one with free ports and fresh secrets.

    A fleet recorded by an older version gets ports and secrets for what it lacks.
    """
    config = load(directory) or FleetConfig(hosts, {}, {})
    missing = [name for name in PORTED if name not in config.ports]
    if missing:
        ports = _free_ports(directory, len(missing), taken | set(config.ports.values()))
        config.ports.update(zip(missing, ports))
    for name in SECRET_NAMES:
        config.secrets.setdefault(name, secrets.token_urlsafe(18))
    config.hosts = hosts
    save(directory, config)
    return config


def save(directory: Path, config: FleetConfig) -> None:
    path = config_path(directory)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(config), handle, indent=2)
    temporary.replace(path)


def _free_ports(directory: Path, count: int, taken: set[int]) -> list[int]:
    """``count`` free ports from this directory's own region of 20000-29999 (not those in ``taken``)."""
    start = zlib.crc32(f"{directory}/titan".encode()) % len(_PORT_RANGE)
    found: list[int] = []
    for step in range(len(_PORT_RANGE)):
        port = _PORT_RANGE.start + (start + step) % len(_PORT_RANGE)
        if port not in taken and port_free(port):
            found.append(port)
            if len(found) == count:
                return found
    raise LabError("no free ports left in 20000-29999 for the Titan services")


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
