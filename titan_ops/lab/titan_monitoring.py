"""The Titan lab's real daemons from Debian packages: nginx in front of the services, and the monitoring.

- **nginx** (package ``nginx``) on the ``interface`` host: the services' public
  URLs, as ``https://titan.yourdomain.com/api/...`` in the procedures
  (``/api/brain/`` to the Brain, ``/api/execution/`` and the ``/ws`` WebSocket
  to Execution, ``/`` to the Console), ``/nginx-health`` and ``/nginx_status``.
- **Prometheus** (package ``prometheus``) on the ``monitoring`` host: scrapes
  every stand-in's ``/metrics``, node-exporter, Alertmanager and itself, and
  evaluates the alert rules of ``ALERT_RULES`` (the procedures' severities).
- **Alertmanager** (package ``prometheus-alertmanager``): routes every alert to
  the webhook of ``FleetConfig.alert_webhook`` (nowhere without one), with
  clustering off (no fixed port).
- **node-exporter** (package ``prometheus-node-exporter``): the hosts' disk and
  memory (the lab hosts share the controller's kernel and disks).

Each runs inside its lab host under ``start-stop-daemon`` with a pid file,
its configuration in the host's ``/etc/titan`` or ``/var/lib/titan``, its
log in ``/var/log/titan``, on a port of the lab's own. Grafana has no Debian
package: the lab's ``grafana`` is a stand-in pm2 runs (``standins/simple.py``).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from titan_ops.lab.lab import Lab
from titan_ops.lab.namespace import run_in_host
from titan_ops.lab.sshd import LabError
from titan_ops.lab.titan_config import (ALERTMANAGER_CONFIG, APPS, LOG_DIR, NGINX_DIR, PROMETHEUS_CONFIG_DIR,
                                        FleetConfig, wait_until)

NGINX_CONF = f"{NGINX_DIR}/nginx.conf"
PROMETHEUS_CONFIG = f"{PROMETHEUS_CONFIG_DIR}/prometheus.yml"
ALERT_RULES_FILE = f"{PROMETHEUS_CONFIG_DIR}/titan-alerts.yml"


@dataclass(frozen=True)
class Daemon:
    """One daemon: its binary, the group of the host it runs on, and how to start it (given the config)."""

    name: str
    binary: str
    group: str
    health_path: str

    @property
    def pid_file(self) -> str:
        return f"/var/lib/titan/{self.name}/{self.name}.pid"

    @property
    def log(self) -> str:
        return f"{LOG_DIR}/{self.name}.log"

    def arguments(self, config: FleetConfig) -> list[str]:
        port = config.ports[self.name]
        if self.name == "prometheus":
            return [f"--config.file={PROMETHEUS_CONFIG}", "--storage.tsdb.path=/var/lib/titan/prometheus/data",
                    f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
                    "--storage.tsdb.retention.time=2d"]
        if self.name == "alertmanager":
            return [f"--config.file={ALERTMANAGER_CONFIG}", "--storage.path=/var/lib/titan/alertmanager/data",
                    f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                    f"--web.external-url=http://127.0.0.1:{port}"]
        return [f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
                "--collector.filesystem", "--collector.meminfo", "--collector.loadavg"]

    def start_command(self, config: FleetConfig) -> str:
        """Start it in the background (nothing done when it already runs)."""
        return shlex.join(["start-stop-daemon", "--start", "--quiet", "--oknodo", "--background", "--make-pidfile",
                           "--pidfile", self.pid_file, "--output", self.log, "--exec", self.binary, "--",
                           *self.arguments(config)])

    def stop_command(self) -> str:
        """Stop the process of its pid file (and only if it is this binary); nothing done when it does not run."""
        return shlex.join(["start-stop-daemon", "--stop", "--quiet", "--oknodo", "--retry", "TERM/10/KILL/5",
                           "--pidfile", self.pid_file, "--exec", self.binary])

    def check_command(self) -> str:
        """Exit 0 while the process of its pid file runs."""
        return shlex.join(["start-stop-daemon", "--status", "--pidfile", self.pid_file, "--exec", self.binary])


DAEMONS = (
    Daemon("prometheus", "/usr/bin/prometheus", "monitoring", "/-/healthy"),
    Daemon("alertmanager", "/usr/bin/prometheus-alertmanager", "monitoring", "/-/healthy"),
    Daemon("node-exporter", "/usr/bin/prometheus-node-exporter", "monitoring", "/metrics"),
)
PACKAGES = {"/usr/sbin/nginx": "nginx", "/usr/bin/prometheus": "prometheus",
            "/usr/bin/prometheus-alertmanager": "prometheus-alertmanager",
            "/usr/bin/prometheus-node-exporter": "prometheus-node-exporter", "/usr/bin/sar": "sysstat"}


def nginx_commands() -> dict[str, str]:
    """nginx's start, stop, reload and check command lines (its own config, prefix and pid file)."""
    base = ["/usr/sbin/nginx", "-p", f"{NGINX_DIR}/", "-c", NGINX_CONF, "-e", f"{LOG_DIR}/nginx/error.log"]
    pid = f"{NGINX_DIR}/nginx.pid"
    return {
        "start": f"{shlex.join(base)} -t -q && {shlex.join(base)}",
        "stop": f"{shlex.join(base)} -s quit; while [ -f {pid} ]; do sleep 0.1; done",
        "reload": f"{shlex.join(base)} -t -q && {shlex.join(base)} -s reload",
        "check": shlex.join(["start-stop-daemon", "--status", "--pidfile", pid, "--exec", "/usr/sbin/nginx"]),
    }


def require_packages() -> None:
    """LabError naming the Debian packages that are missing."""
    missing = sorted(package for binary, package in PACKAGES.items() if shutil.which(binary) is None)
    if missing:
        raise LabError(f"not installed: {' '.join(missing)} (scripts/setup.sh installs them: "
                       f"apt-get install -y {' '.join(missing)})")


def nginx_conf(config: FleetConfig) -> str:
    """The lab's nginx: one server on the nginx port, the services behind it (docs/lab.md)."""
    ports = config.ports
    upstream = "proxy_http_version 1.1; proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;"
    return f"""# Written by titan-ops lab up --titan: the lab's nginx (Debian's), in front of the Titan services.
daemon on;
worker_processes 1;
pid {NGINX_DIR}/nginx.pid;
error_log {LOG_DIR}/nginx/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {LOG_DIR}/nginx/access.log;
    client_body_temp_path {NGINX_DIR}/client_body;
    proxy_temp_path {NGINX_DIR}/proxy;
    fastcgi_temp_path {NGINX_DIR}/fastcgi;
    uwsgi_temp_path {NGINX_DIR}/uwsgi;
    scgi_temp_path {NGINX_DIR}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{ports['nginx']};
        server_name titan.lab;
        location = /nginx-health {{ access_log off; return 200 "ok\\n"; }}
        location = /nginx_status {{ stub_status; }}
        location /api/brain/ {{ proxy_pass http://127.0.0.1:{ports['titan-brain']}; {upstream} }}
        location /api/execution/ {{ proxy_pass http://127.0.0.1:{ports['titan-execution']}; {upstream} }}
        location = /ws {{
            proxy_pass http://127.0.0.1:{ports['titan-execution']}; {upstream}
            proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 3600s;
        }}
        location / {{ proxy_pass http://127.0.0.1:{ports['titan-console']}; {upstream} }}
    }}
}}
"""


def prometheus_config(config: FleetConfig) -> str:
    """Prometheus: every stand-in's /metrics, node-exporter, Alertmanager and itself; the alert rules."""
    ports = config.ports
    jobs = [{"job_name": app.name, "static_configs": [{"targets": [f"127.0.0.1:{ports[app.name]}"]}]}
            for app in APPS if app.tier]
    jobs += [{"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{ports[name]}"]}]}
             for name in ("prometheus", "alertmanager", "node-exporter")]
    document = {
        "global": {"scrape_interval": "5s", "evaluation_interval": "5s", "scrape_timeout": "4s"},
        "rule_files": [ALERT_RULES_FILE],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]}]},
        "scrape_configs": jobs,
    }
    return "# Written by titan-ops lab up --titan: the lab's Prometheus (Debian's).\n" + \
        yaml.safe_dump(document, sort_keys=False)


def _rule(name: str, expression: str, severity: int, summary: str, wait: str = "15s",
          playbook: str = "health-check.yml") -> dict[str, object]:
    return {"alert": name, "expr": expression, "for": wait,
            "labels": {"severity": str(severity), "team": "titan"},
            "annotations": {"summary": summary, "runbook": f"playbooks/{playbook}"}}


ALERT_RULES = {"groups": [{"name": "titan", "rules": [
    _rule("TitanAllServicesDown", 'sum(up{job=~"titan-.*"}) == 0', 1, "All Titan services are down",
          playbook="restart-services.yml"),
    _rule("TitanCoreServiceDown", 'up{job=~"titan-brain|titan-execution"} == 0', 1,
          "{{ $labels.job }} is down (no new signals or no order execution)", playbook="restart-services.yml"),
    _rule("TitanConsoleDown", 'up{job="titan-console"} == 0', 2, "The Console is down (no monitoring)",
          playbook="restart-services.yml"),
    _rule("TitanScavengerDown", 'up{job="titan-scavenger"} == 0', 2, "Scavenger is down (phase 1 disabled)",
          playbook="restart-services.yml"),
    _rule("TitanAIQuantDown", 'up{job="titan-ai-quant"} == 0', 3, "AI Quant is down (no optimization)",
          playbook="restart-services.yml"),
    _rule("TitanDatabaseUnreachable", "min(titan_database_up) == 0", 1,
          "The services cannot reach the database", playbook="db-check.yml"),
    _rule("TitanCircuitBreakerSystemFailure", "titan_breaker_system_failure == 1", 1,
          "The circuit breaker tripped on a system failure", wait="0s", playbook="circuit-breaker.yml"),
    _rule("TitanCircuitBreakerOpen", "titan_breaker_open == 1", 3,
          "The circuit breaker is open: verify its reason (valid trigger: wait for the cooldown)",
          playbook="circuit-breaker.yml"),
    _rule("TitanPositionMismatch", "titan_position_mismatch == 1", 2,
          "Tracked positions differ from the exchange's", playbook="position-mismatch.yml"),
    _rule("TitanSignalLatencyHigh", "titan_signal_latency_ms > 500", 2, "Signal latency over 500 ms",
          playbook="verify-recovery.yml"),
    _rule("TitanSignalLatencyDegraded", "titan_signal_latency_ms > 200 and titan_signal_latency_ms <= 500", 3,
          "Signal latency 200-500 ms", playbook="verify-recovery.yml"),
    _rule("TitanErrorRateSpike",
          "rate(titan_errors_total[2m]) > 0.1 and rate(titan_errors_total[2m]) > "
          "5 * (rate(titan_errors_total[1h] offset 2m) or rate(titan_errors_total[2m]) * 0)", 3,
          "{{ $labels.service }} logs errors at more than five times its usual rate", wait="0s",
          playbook="collect-diagnostics.yml"),
    _rule("TitanMemoryLeak", 'process_resident_memory_bytes{job=~"titan-.*"} > 512 * 1024 * 1024', 2,
          "{{ $labels.job }} uses over 512 MiB (memory leak?)", playbook="restart-services.yml"),
    _rule("TitanMonitoringDown", 'up{job=~"alertmanager|grafana|node-exporter"} == 0', 3,
          "{{ $labels.job }} is down (monitoring)", playbook="restart-services.yml"),
    _rule("TitanDiskSpaceLow",
          '100 * (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"})'
          " > 90", 4, "Disk over 90% full (capacity planning)"),
    _rule("TitanMemoryHigh", "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 95", 4,
          "Memory over 95% in use (capacity planning)"),
]}]}
"""The procedures' severities as Prometheus alert rules (label ``severity``: 1 critical ... 4 low)."""


def alertmanager_config(webhook: str | None) -> str:
    """Every alert to ``webhook`` (grouped by alert name and severity, resolved ones too); nowhere without one."""
    receiver: dict[str, object] = {"name": "titan-ops"}
    if webhook:
        receiver["webhook_configs"] = [{"url": webhook, "send_resolved": True}]
    document = {
        "route": {"receiver": "titan-ops", "group_by": ["alertname", "severity"], "group_wait": "1s",
                  "group_interval": "5s", "repeat_interval": "1h"},
        "receivers": [receiver],
    }
    return ("# Written by titan-ops lab up --titan: the lab's Alertmanager (Debian's).\n"
            "# The webhook: `titan-ops lab up --titan --alert-webhook URL`, or titan_monitoring.set_alert_webhook().\n"
            + yaml.safe_dump(document, sort_keys=False))


def write_files(lab: Lab, config: FleetConfig) -> None:
    """nginx's, Prometheus's and Alertmanager's configuration, and their folders (always rewritten)."""
    interface, monitoring = config.host_of("interface"), config.host_of("monitoring")
    for folder in (NGINX_DIR, f"{LOG_DIR}/nginx"):
        lab.host_path(interface, folder).mkdir(parents=True, exist_ok=True)
    _write(lab, interface, NGINX_CONF, nginx_conf(config))
    for daemon in DAEMONS:
        lab.host_path(monitoring, daemon.pid_file).parent.mkdir(parents=True, exist_ok=True)
    lab.host_path(monitoring, LOG_DIR).mkdir(parents=True, exist_ok=True)
    _write(lab, monitoring, PROMETHEUS_CONFIG, prometheus_config(config))
    _write(lab, monitoring, ALERT_RULES_FILE, "# The Titan alert rules (titan_ops/lab/titan_monitoring.py).\n"
           + yaml.safe_dump(ALERT_RULES, sort_keys=False))
    _write(lab, monitoring, ALERTMANAGER_CONFIG, alertmanager_config(config.alert_webhook))


def _write(lab: Lab, host: str, path: str, text: str) -> None:
    target = lab.host_path(host, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(target)


def ensure(lab: Lab, config: FleetConfig) -> None:
    """Write the configuration and start nginx and the monitoring daemons that are not running; wait for them."""
    require_packages()
    record_sysstat()
    write_files(lab, config)
    interface = config.host_of("interface")
    commands = nginx_commands()
    if run_in_host(lab, interface, commands["check"], check=False).returncode != 0:
        run_in_host(lab, interface, commands["start"])
    else:
        run_in_host(lab, interface, commands["reload"])
    monitoring = config.host_of("monitoring")
    for daemon in DAEMONS:
        run_in_host(lab, monitoring, daemon.start_command(config))
    reload_alertmanager(config)
    for name, path in (("nginx", "/nginx-health"), *((daemon.name, daemon.health_path) for daemon in DAEMONS)):
        if not wait_until(lambda name=name, path=path: answers(config, name, path), 30.0):
            log = f"{LOG_DIR}/nginx/error.log" if name == "nginx" else f"{LOG_DIR}/{name}.log"
            host = interface if name == "nginx" else monitoring
            tail = lab.host_path(host, log).read_text(errors="replace").strip().splitlines()[-5:] \
                if lab.host_path(host, log).exists() else []
            raise LabError(f"{name} did not answer on port {config.ports[name]}: {' | '.join(tail) or 'no log'}")


def answers(config: FleetConfig, name: str, path: str) -> bool:
    """Whether ``name`` answers ``path`` with 200."""
    try:
        with urllib.request.urlopen(config.url(name) + path, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def running(lab: Lab, config: FleetConfig) -> dict[str, bool]:
    """Whether nginx and each monitoring daemon runs (its pid file names a live process of its binary)."""
    found = {}
    for name, host, check in (("nginx", config.host_of("interface"), nginx_commands()["check"]),
                              *((daemon.name, config.host_of(daemon.group), daemon.check_command())
                                for daemon in DAEMONS)):
        found[name] = lab.host(host).alive and run_in_host(lab, host, check, check=False).returncode == 0
    return found


def stop(lab: Lab, config: FleetConfig) -> list[str]:
    """Stop nginx and the monitoring daemons of this lab (their own pid files); return what was stopped."""
    stopped = []
    state = running(lab, config)
    if state["nginx"]:
        run_in_host(lab, config.host_of("interface"), nginx_commands()["stop"], check=False)
        stopped.append("nginx")
    for daemon in DAEMONS:
        if state[daemon.name]:
            run_in_host(lab, config.host_of(daemon.group), daemon.stop_command(), check=False)
            stopped.append(daemon.name)
    return stopped


def set_alert_webhook(lab: Lab, config: FleetConfig, url: str | None) -> None:
    """Point Alertmanager's receiver at ``url`` (None: nowhere) and make the running Alertmanager reload it.

    The caller records ``url`` in the fleet's config (``titan.set_alert_webhook`` does both).
    """
    config.alert_webhook = url
    _write(lab, config.host_of("monitoring"), ALERTMANAGER_CONFIG, alertmanager_config(url))
    reload_alertmanager(config)


def reload_alertmanager(config: FleetConfig) -> None:
    """``POST /-/reload`` to Alertmanager, when it answers (a failed reload is a LabError)."""
    if not answers(config, "alertmanager", "/-/healthy"):
        return
    request = urllib.request.Request(config.url("alertmanager") + "/-/reload", method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except urllib.error.HTTPError as error:
        raise LabError(f"alertmanager refused its configuration: {error.read().decode(errors='replace')}") from None


def active_alerts(config: FleetConfig) -> list[dict[str, object]]:
    """The alerts Alertmanager holds now (its API v2)."""
    with urllib.request.urlopen(config.url("alertmanager") + "/api/v2/alerts", timeout=5) as answer:
        return json.loads(answer.read())


def inventory_variables(config: FleetConfig) -> dict[str, dict[str, object]]:
    """nginx and the monitoring daemons as ``titan_services`` entries (manager ``command``)."""
    interface, monitoring = config.host_of("interface"), config.host_of("monitoring")
    services: dict[str, dict[str, object]] = {
        "nginx": {"host": interface, "group": "interface", "tier": 1, "manager": "command",
                  "port": config.ports["nginx"], "health_url": config.url("nginx") + "/nginx-health",
                  "config": NGINX_CONF, "logs": [f"{LOG_DIR}/nginx/error.log"], **nginx_commands()},
    }
    for daemon in DAEMONS:
        services[daemon.name] = {
            "host": monitoring, "group": "monitoring", "tier": 5, "manager": "command",
            "port": config.ports[daemon.name], "url": config.url(daemon.name),
            "health_url": config.url(daemon.name) + daemon.health_path, "logs": [daemon.log],
            "start": daemon.start_command(config), "stop": daemon.stop_command(), "check": daemon.check_command(),
        }
    return services


def monitoring_variables(config: FleetConfig) -> dict[str, object]:
    """``titan_monitoring``: how to reach Prometheus, Alertmanager and Grafana, and where the webhook is set."""
    return {
        "host": config.host_of("monitoring"),
        "prometheus_url": config.url("prometheus"),
        "alertmanager_url": config.url("alertmanager"),
        "grafana_url": config.url("grafana"),
        "alert_rules": ALERT_RULES_FILE,
        "alertmanager_config": ALERTMANAGER_CONFIG,
        "alert_webhook": config.alert_webhook,
    }


SADC = "/usr/lib/sysstat/sadc"
SYSSTAT_DIR = Path("/var/log/sysstat")


def record_sysstat() -> None:
    """Today's sysstat file (``/var/log/sysstat/saDD``), so that ``sar -A`` has data to read.

    Production collects with sysstat's timer every ten minutes; the lab has no
    timer, so ``up`` records two one-second samples when today has none. The
    folder is shared by the lab hosts (it is not one of their private paths).
    """
    if not Path(SADC).exists():
        raise LabError("sysstat not found: apt-get install -y sysstat (scripts/setup.sh does it)")
    if (SYSSTAT_DIR / time.strftime("sa%d")).exists():
        return
    SYSSTAT_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([SADC, "-S", "XALL", "1", "2", str(SYSSTAT_DIR)], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0:
        raise LabError(f"sadc failed: {done.stderr.strip()}")
