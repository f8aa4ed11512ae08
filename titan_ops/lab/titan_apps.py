"""The Titan lab's apps: real pm2 (one daemon per app host) supervising the stand-in services.

Each app host gets ``/opt/titan/.env`` (credentials and URLs, read by the
stand-ins at start), ``/opt/titan/ecosystem.config.js`` (the apps, their
ports and log files) and copies of both under ``/var/backups/titan/config``.
pm2's home is ``/var/lib/titan/pm2`` on the host; the apps log to
``/var/log/titan/<app>.out.log`` and ``.err.log`` and keep their state in
``/var/lib/titan/standins``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from titan_ops.lab import standins, titan_data
from titan_ops.lab.lab import Lab
from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.paths import private_root
from titan_ops.lab.sshd import LabError
from titan_ops.lab.titan_config import (API_USER, CONFIG_BACKUP_DIR, DB_NAME, DB_USER, ECOSYSTEM_FILE, ENV_FILE,
                                        LOG_DIR, PM2_HOME, STATE_DIR, TITAN_DIR, App, FleetConfig, wait_until)

# The stand-ins use only the standard library: each app host gets its own
# copy under /opt/titan/lib, so they run whatever the checkout's path (a
# checkout under /tmp is not visible inside a lab host, whose /tmp is private).
STANDINS_LIB = f"{TITAN_DIR}/lib"
STANDINS_PACKAGE = "titan_standins"


def _interpreter() -> str:
    """A Python that the lab hosts can see: this one's real binary, unless it is under a private path."""
    real = os.path.realpath(sys.executable)
    return real if private_root(real) is None else "/usr/bin/python3"


# Reads the apps without starting a daemon that is not there.
_JLIST = f'if [ -f {PM2_HOME}/pm2.pid ] && kill -0 "$(cat {PM2_HOME}/pm2.pid)" 2>/dev/null; ' \
         'then pm2 jlist; else echo "[]"; fi'


def require_pm2() -> None:
    """LabError unless pm2 is installed."""
    if shutil.which("pm2") is None:
        raise LabError("pm2 not found: npm install -g pm2 (scripts/setup.sh does it)")


def env_text(config: FleetConfig) -> str:
    """The .env every stand-in reads: API credentials, database, Redis, the exchanges (Bybit active)."""
    secrets, ports = config.secrets, config.ports
    lines = [
        "# Titan configuration (lab stand-ins), written by `titan-ops lab up --titan`.",
        "NODE_ENV=production",
        f"TITAN_API_USER={API_USER}",
        f"TITAN_API_PASSWORD={secrets['api_password']}",
        f"DATABASE_URL=postgresql://{DB_USER}:{secrets['db_password']}@127.0.0.1:{ports['postgresql']}/{DB_NAME}",
        f"REDIS_URL={titan_data.redis_url(config)}",
        f"BRAIN_URL={config.url('titan-brain')}",
        f"EXECUTION_URL={config.url('titan-execution')}",
        "ACTIVE_EXCHANGE=bybit",
        f"BYBIT_BASE_URL={config.url('exchange-standin')}",
        f"BYBIT_API_KEY={secrets['exchange_api_key']}",
        f"BYBIT_API_SECRET={secrets['exchange_api_secret']}",
        f"MEXC_BASE_URL={config.url('exchange-mexc-standin')}",
        f"MEXC_API_KEY={secrets['mexc_api_key']}",
        f"MEXC_API_SECRET={secrets['mexc_api_secret']}",
    ]
    return "\n".join(lines) + "\n"


def ecosystem_text(config: FleetConfig, apps: list[App]) -> str:
    """pm2's ecosystem file for ``apps``: each a stand-in run by this Python, in /opt/titan, on its port."""
    entries = [{
        "name": app.name,
        "script": _interpreter(),
        "args": ["-m", STANDINS_PACKAGE, app.standin],
        "interpreter": "none",
        "cwd": TITAN_DIR,
        "env": {"PORT": str(config.ports[app.name]), "PYTHONPATH": STANDINS_LIB, "TITAN_STATE_DIR": STATE_DIR,
                "PYTHONUNBUFFERED": "1"},
        "out_file": f"{LOG_DIR}/{app.name}.out.log",
        "error_file": f"{LOG_DIR}/{app.name}.err.log",
        "time": True,
        "autorestart": True,
        "max_restarts": 5,
        "min_uptime": 3000,
        "restart_delay": 500,
        "kill_timeout": 3000,
    } for app in apps]
    return ("// Titan's pm2 apps in the titan-ops lab: STAND-INS (titan_ops.lab.standins), not the real services.\n"
            "// Written by `titan-ops lab up --titan`.\n"
            f"module.exports = {json.dumps({'apps': entries}, indent=2)};\n")


def write_files(lab: Lab, config: FleetConfig) -> None:
    """.env and ecosystem.config.js on each app host, and their backups, unless present."""
    for host, apps in config.app_hosts().items():
        contents = {ENV_FILE: env_text(config), ECOSYSTEM_FILE: ecosystem_text(config, apps)}
        for path, text in contents.items():
            for copy in (path, f"{CONFIG_BACKUP_DIR}/{Path(path).name}"):
                target = lab.host_path(host, copy)
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text)
                    target.chmod(0o600 if target.name == ".env" else 0o644)
        for folder in (LOG_DIR, STATE_DIR, PM2_HOME):
            lab.host_path(host, folder).mkdir(parents=True, exist_ok=True)
        install_standins(lab, host)


def install_standins(lab: Lab, host: str) -> None:
    """Copy the stand-ins' code into ``host`` (always, so an update reaches it)."""
    source = Path(standins.__file__).parent
    target = lab.host_path(host, f"{STANDINS_LIB}/{STANDINS_PACKAGE}")
    target.mkdir(parents=True, exist_ok=True)
    for module in source.glob("*.py"):
        shutil.copyfile(module, target / module.name)


def app_statuses(lab: Lab, host: str) -> dict[str, str]:
    """pm2's status of each app on ``host`` (empty when its daemon is not running)."""
    if not lab.host(host).alive:
        return {}
    done = run_in_host(lab, host, _JLIST, env={"PM2_HOME": PM2_HOME}, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    if done.returncode != 0 or not lines:
        return {}
    return {entry["name"]: entry["pm2_env"]["status"] for entry in json.loads(lines[-1])}


def ensure_apps(lab: Lab, config: FleetConfig) -> None:
    """Start (from the ecosystem file) every app that is not online; leave online ones alone."""
    require_pm2()
    for host, apps in config.app_hosts().items():
        statuses = app_statuses(lab, host)
        missing = [app.name for app in apps if statuses.get(app.name) != "online"]
        if missing:
            command = ["pm2", "start", ECOSYSTEM_FILE, "--only", ",".join(missing)]
            run_in_host(lab, host, f"cd {TITAN_DIR} && {shlex.join(command)}", env={"PM2_HOME": PM2_HOME})


def stop_pm2(lab: Lab, host: str) -> bool:
    """``pm2 kill`` of the lab's own daemon on ``host`` (its PM2_HOME); True if one was running."""
    if not lab.host(host).alive or not lab.host_path(host, f"{PM2_HOME}/pm2.pid").exists():
        return False
    script = f'if [ -f {PM2_HOME}/pm2.pid ] && kill -0 "$(cat {PM2_HOME}/pm2.pid)" 2>/dev/null; ' \
             'then pm2 kill; else exit 3; fi'
    return run_in_host(lab, host, script, env={"PM2_HOME": PM2_HOME}, check=False).returncode == 0


def healthy(config: FleetConfig, app: App) -> bool:
    """Whether the app's health endpoint answers 200."""
    try:
        with urllib.request.urlopen(config.url(app.name) + app.health_path, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_healthy(lab: Lab, config: FleetConfig, apps: list[App], timeout: float = 30.0) -> None:
    """Wait until every app answers its health check; LabError with the app's error log otherwise."""
    for app in apps:
        if not wait_until(lambda app=app: healthy(config, app), timeout):
            log = lab.host_path(config.host_of(app.group), f"{LOG_DIR}/{app.name}.err.log")
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            raise LabError(f"{app.name} did not become healthy on port {config.ports[app.name]}: "
                           f"{' | '.join(tail) or 'no error log'}")
