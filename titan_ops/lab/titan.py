"""The full lab (``titan-ops lab up --titan``): the SSH hosts plus a small Titan fleet on them.

With three hosts: lab1 is ``databases`` (PostgreSQL, Redis), lab2 ``core``
and ``trading`` (pm2: titan-brain, titan-execution, titan-scavenger,
titan-ai-quant), lab3 ``interface`` and ``monitoring`` (nginx in front of the
services; Prometheus, Alertmanager and node-exporter; pm2: titan-console, the
Grafana stand-in and the exchange stand-in). With fewer hosts the parts
share the last one. The services, ports, credentials and per-service
manager go into the lab inventory as variables (see docs/lab.md).

>>> fleet = up(hosts=3)                    # doctest: +SKIP
>>> fleet.inventory_path, fleet.url("titan-execution")   # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import yaml

from titan_ops.lab import lab as hosts_lab
from titan_ops.lab import titan_apps, titan_data, titan_monitoring
from titan_ops.lab.lab import Lab
from titan_ops.lab.sshd import LabError
from titan_ops.lab.titan_config import (API_USER, APPS, BACKUP_DIR, CONFIG_BACKUP_DIR, DB_ADMIN, DB_DUMP, DB_NAME,
                                        DB_USER, ECOSYSTEM_FILE, ENV_FILE, GROUP_SLOTS, LOG_DIR, PG_DATA, PG_DIR,
                                        PG_LOG, PM2_HOME, REDIS_DIR, App, FleetConfig, load, load_or_create, save)


@dataclass(frozen=True)
class ServiceState:
    """One service of the fleet: where it runs, who manages it, and whether it runs."""

    name: str
    host: str
    manager: str
    port: int
    status: str
    """``online`` for a running service; pm2's word (``stopped``, ``errored``...) or ``down`` otherwise."""

    @property
    def running(self) -> bool:
        return self.status == "online"


@dataclass
class Fleet:
    """A lab with its Titan fleet."""

    lab: Lab
    config: FleetConfig
    services: list[ServiceState]

    @property
    def inventory_path(self) -> Path:
        return self.lab.inventory_path

    def url(self, service: str) -> str:
        """``http://127.0.0.1:PORT`` of a service (``titan-brain``, ``exchange-standin``...)."""
        return self.config.url(service)

    def host_of(self, group: str) -> str:
        """The lab host playing ``group`` (databases, core, trading, interface, monitoring)."""
        return self.config.host_of(group)

    @property
    def api_credentials(self) -> tuple[str, str]:
        """(user, password) of the services' basic auth."""
        return API_USER, self.config.secrets["api_password"]

    @property
    def public_url(self) -> str:
        """nginx's ``http://127.0.0.1:PORT``: the services' API as the procedures reach it (``/api/...``)."""
        return self.config.url("nginx")

    @property
    def running(self) -> bool:
        return all(service.running for service in self.services)


def up(hosts: int = 3, directory: str | os.PathLike[str] | None = None, *,
       alert_webhook: str | None = None) -> Fleet:
    """Make sure the SSH hosts and the whole fleet run; write the inventory. Running parts are reused.

    ``alert_webhook``: where Alertmanager sends notifications from now on (else the recorded one).
    """
    current = hosts_lab.status(directory)
    recorded = load(current.directory) if current.directory.exists() else None
    if recorded is not None and recorded.hosts != hosts and any(state.running
                                                                for state in _states(current, recorded)):
        raise LabError(f"the fleet runs on {recorded.hosts} hosts: `titan-ops lab down` before changing that")
    lab = hosts_lab.up(hosts=hosts, directory=directory)
    with _locked(lab.directory):
        taken = {host.port for host in lab.hosts}
        config = load_or_create(lab.directory, hosts, taken)
        if alert_webhook is not None:
            config.alert_webhook = alert_webhook or None
            save(lab.directory, config)
        titan_monitoring.require_packages()
        titan_data.ensure_postgres(lab, config)
        titan_data.ensure_redis(lab, config)
        titan_data.write_latest_dump(lab, config)
        titan_apps.write_files(lab, config)
        titan_apps.ensure_apps(lab, config)
        titan_apps.wait_healthy(lab, config, list(APPS))
        titan_monitoring.ensure(lab, config)
        _write_inventory(lab, config)
    return Fleet(lab, config, _states(lab, config))


def status(directory: str | os.PathLike[str] | None = None) -> Fleet | None:
    """The fleet and each service's state, or None when the lab never had one."""
    lab = hosts_lab.status(directory)
    config = load(lab.directory)
    return None if config is None else Fleet(lab, config, _states(lab, config))


def down(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Stop the fleet's services (nginx and monitoring, pm2 kill, pg_ctl stop, Redis) on running hosts;
    return what was stopped.

    Only the lab's own processes are touched: those of the lab's pid files,
    pm2 with the lab's PM2_HOME, the cluster of the lab's data directory.
    The SSH hosts stay up (``titan_ops.lab.down`` stops them).
    """
    lab = hosts_lab.status(directory)
    config = load(lab.directory)
    if config is None:
        return []
    stopped = titan_monitoring.stop(lab, config)
    stopped += [f"pm2@{host}" for host in config.app_hosts() if titan_apps.stop_pm2(lab, host)]
    if titan_data.stop_postgres(lab, config):
        stopped.append("postgresql")
    if titan_data.stop_redis(lab, config):
        stopped.append("redis")
    return stopped


def set_alert_webhook(url: str | None, directory: str | os.PathLike[str] | None = None) -> None:
    """Send Alertmanager's notifications to ``url`` (None: nowhere): recorded, written to Alertmanager's
    configuration (``titan_monitoring.alertmanager_url``'s host, ``/etc/titan/alertmanager/alertmanager.yml``),
    reloaded, and in the inventory's ``titan_monitoring.alert_webhook``."""
    lab = hosts_lab.status(directory)
    with _locked(lab.directory):
        config = load(lab.directory)
        if config is None:
            raise LabError(f"no Titan fleet in {lab.directory}: `titan-ops lab up --titan` first")
        titan_monitoring.set_alert_webhook(lab, config, url)
        save(lab.directory, config)
        _write_inventory(lab, config)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".titan.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _states(lab: Lab, config: FleetConfig) -> list[ServiceState]:
    database_host = config.host_of("databases")
    states = [
        ServiceState("postgresql", database_host, "command", config.ports["postgresql"],
                     "online" if titan_data.postgres_running(lab, config) else "down"),
        ServiceState("redis", database_host, "command", config.ports["redis"],
                     "online" if titan_data.redis_running(config) else "down"),
    ]
    for host, apps in config.app_hosts().items():
        statuses = titan_apps.app_statuses(lab, host)
        states += [ServiceState(app.name, host, "pm2", config.ports[app.name], statuses.get(app.name, "down"))
                   for app in apps]
    daemons = titan_monitoring.inventory_variables(config)
    states += [ServiceState(name, str(daemons[name]["host"]), "command", config.ports[name],
                            "online" if up else "down")
               for name, up in titan_monitoring.running(lab, config).items()]
    return states


def inventory_variables(config: FleetConfig, directory: Path) -> dict[str, Any]:
    """The fleet of the lab in ``directory`` as inventory variables: ``titan_services``, ``titan_db``, ...
    and the secrets."""
    database_host, ports = config.host_of("databases"), config.ports
    pg_ctl = f"runuser -u postgres -- {titan_data.postgres_bin_dir()}/pg_ctl -D {PG_DATA}"
    services: dict[str, Any] = {
        "postgresql": {"host": database_host, "group": "databases", "tier": 1, "manager": "command",
                       "port": ports["postgresql"],
                       "start": f"{pg_ctl} -l {PG_LOG} -w start", "stop": f"{pg_ctl} -m fast -w stop",
                       "check": f"pg_isready -h 127.0.0.1 -p {ports['postgresql']}"},
        "redis": {"host": database_host, "group": "databases", "tier": 1, "manager": "command",
                  "port": ports["redis"], "start": f"redis-server {REDIS_DIR}/redis.conf",
                  "stop": f"redis-cli -e -p {ports['redis']} shutdown nosave",
                  "check": f"redis-cli -e -p {ports['redis']} ping"},
        **titan_monitoring.inventory_variables(config),
    }
    for app in APPS:
        if app.tier:
            services[app.name] = _app_variables(config, app)
    exchange, backup_exchange = (app for app in APPS if not app.tier)
    return {
        "titan_lab": True,
        "titan_api_user": API_USER,
        "titan_api_password": config.secrets["api_password"],
        "titan_services": services,
        "titan_db": {"host": "127.0.0.1", "port": ports["postgresql"], "name": DB_NAME, "user": DB_USER,
                     "admin_user": DB_ADMIN, "server_host": database_host, "data_dir": PG_DATA,
                     "pg_dir": PG_DIR, "log": PG_LOG, "backup": DB_DUMP,
                     "tables": ["allocations", "decisions", "performance"]},
        "titan_db_password": config.secrets["db_password"],
        "titan_db_admin_password": config.secrets["db_admin_password"],
        "titan_redis": {"host": "127.0.0.1", "port": ports["redis"], "server_host": database_host},
        "titan_redis_password": config.secrets["redis_password"],
        "titan_public_url": config.url("nginx"),
        "titan_health_baseline": str(directory / "health-baseline.json"),
        "titan_monitoring": titan_monitoring.monitoring_variables(config),
        "titan_exchange": {"url": config.url(exchange.name), "host": config.host_of(exchange.group),
                           "manager": "pm2", "app": exchange.name, "time_path": exchange.health_path},
        "titan_exchange_api_key": config.secrets["exchange_api_key"],
        "titan_exchange_api_secret": config.secrets["exchange_api_secret"],
        "titan_exchanges": {
            "bybit": {"kind": "bybit", "role": "primary", "url": config.url(exchange.name),
                      "host": config.host_of(exchange.group), "app": exchange.name, "time_path": exchange.health_path,
                      "key_var": "titan_exchange_api_key", "secret_var": "titan_exchange_api_secret"},
            "mexc": {"kind": "mexc", "role": "backup", "url": config.url(backup_exchange.name),
                     "host": config.host_of(backup_exchange.group), "app": backup_exchange.name,
                     "time_path": backup_exchange.health_path,
                     "key_var": "titan_mexc_api_key", "secret_var": "titan_mexc_api_secret"},
        },
        "titan_mexc_api_key": config.secrets["mexc_api_key"],
        "titan_mexc_api_secret": config.secrets["mexc_api_secret"],
        "titan_dir": "/opt/titan",
        "titan_env_file": ENV_FILE,
        "titan_ecosystem_file": ECOSYSTEM_FILE,
        "titan_pm2_home": PM2_HOME,
        "titan_log_dir": LOG_DIR,
        "titan_backup_dir": BACKUP_DIR,
        "titan_config_backup_dir": CONFIG_BACKUP_DIR,
    }


PUBLIC_APPS = ("titan-brain", "titan-execution", "titan-console")
"""The apps whose API nginx serves (``url`` is nginx's; ``standin_url`` the app's own port)."""


def _app_variables(config: FleetConfig, app: App) -> dict[str, Any]:
    own = config.url(app.name)
    variables = {"host": config.host_of(app.group), "group": app.group, "tier": app.tier, "manager": "pm2",
                 "app": app.name, "port": config.ports[app.name],
                 "url": config.url("nginx") if app.name in PUBLIC_APPS else own, "standin_url": own,
                 "health_url": own + app.health_path, "pm2_home": PM2_HOME, "ecosystem": ECOSYSTEM_FILE,
                 "logs": [f"{LOG_DIR}/{app.name}.out.log", f"{LOG_DIR}/{app.name}.err.log"]}
    if app.name == "titan-execution":
        variables["websocket_url"] = config.url("nginx").replace("http://", "ws://") + "/ws"
    return variables


def _write_inventory(lab: Lab, config: FleetConfig) -> None:
    """Add the fleet's groups and variables to the inventory `lab up` wrote."""
    document = yaml.safe_load(lab.inventory_path.read_text())
    top = document["all"]
    children = top.setdefault("children", {})
    for group in GROUP_SLOTS:
        children[group] = {"hosts": {config.host_of(group): {}}}
    top["vars"] = inventory_variables(config, lab.directory)
    header = ("# Written by `titan-ops lab up --titan`; rewritten on every run.\n"
              "# The Titan fleet of the lab: groups databases/core/trading/interface/monitoring and the\n"
              "# titan_* variables (docs/lab.md). The *_password, *_key and *_secret values are masked in output.\n")
    temporary = lab.inventory_path.with_suffix(".tmp")
    temporary.write_text(header + yaml.safe_dump(document, sort_keys=False))
    temporary.replace(lab.inventory_path)
