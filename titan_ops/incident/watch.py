"""``titan-ops watch``: Alertmanager webhooks (and plain JSON alerts) in, incidents opened, triaged and notified.

Every request is first written whole to ``<dir>/.watch/inbox/`` and only
then answered 200, so an alert received is never lost: a restarted watcher
works through the inbox first. Processing an alert is idempotent: its
``alert`` entry carries the receipt, the incident's triage (one health
check, whose verdict becomes the incident's severity) is marked by a
``watch`` entry, and messages and escalations follow from the clock (what
is owed and not yet done). Between alerts the watcher ticks: it escalates
and sends updates and resolution messages as the policy's clock asks, and
can run the health check on a schedule. Every entry it writes, its
health checks' included, is stamped by its clock (injectable).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from titan_ops.errors import TitanOpsError
from titan_ops.incident.clock import Clock, iso, parse_time, system_clock
from titan_ops.incident.lifecycle import Incident
from titan_ops.incident.policy import Policy
from titan_ops.incident.respond import act_on_duties
from titan_ops.incident.state import fold
from titan_ops.incident.timeline import default_directory, incident_ids

MAX_BODY = 1 << 20


def alerts_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts of an Alertmanager webhook (``alerts``), or a plain JSON alert (``title``, ``severity``,
    ``service``, ``detected_at``, ``category``) as one Alertmanager-shaped alert."""
    if isinstance(payload.get("alerts"), list):
        return [alert for alert in payload["alerts"] if isinstance(alert, dict)]
    if not payload.get("title"):
        raise TitanOpsError("an alert needs 'alerts' (Alertmanager) or 'title' (plain JSON)")
    labels = {"alertname": str(payload["title"])}
    for key in ("severity", "service", "category"):
        if payload.get(key) is not None:
            labels[key] = str(payload[key])
    fingerprint = payload.get("fingerprint") or hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()
    return [{"status": payload.get("status", "firing"), "labels": labels,
             "annotations": {"summary": str(payload["title"])}, "startsAt": payload.get("detected_at"),
             "fingerprint": fingerprint[:16]}]


class Watcher:
    """Turns alerts into incidents and keeps their clock; the HTTP side is :func:`serve`."""

    def __init__(self, policy: Policy, directory: str | os.PathLike[str] | None = None, *,
                 inventory: str | None = None, health_check: str | None = None, clock: Clock = system_clock,
                 health_check_every: float | None = None, run_options: dict[str, Any] | None = None,
                 log: Callable[[str], None] = print):
        self.policy = policy
        self.directory = Path(directory) if directory is not None else default_directory()
        self.inbox = self.directory / ".watch" / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.inventory = inventory
        self.health_check = health_check
        self.clock = clock
        self.health_check_every = health_check_every
        self.run_options = dict(run_options or {})
        self.log = log
        self._last_health_check = time.monotonic()
        self._lock = threading.Lock()

    # -- receiving -----------------------------------------------------------------
    def receive(self, body: bytes) -> str:
        """Check and keep a request body in the inbox; its receipt. TitanOpsError for a body that is no alert."""
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise TitanOpsError(f"not JSON: {error}") from None
        if not isinstance(payload, dict):
            raise TitanOpsError("an alert is a JSON object")
        alerts_of(payload)
        receipt = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        temporary = self.inbox / f".{receipt}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.inbox / f"{receipt}.json")
        return receipt

    # -- processing ----------------------------------------------------------------
    def process_inbox(self) -> list[str]:
        """Work through every kept request, oldest first; the incidents they touched."""
        touched: list[str] = []
        with self._lock:
            for path in sorted(self.inbox.glob("*.json")):
                touched += self._process(path.stem, json.loads(path.read_bytes()))
                path.unlink()
        return list(dict.fromkeys(touched))

    def _process(self, receipt: str, payload: dict[str, Any]) -> list[str]:
        touched = []
        for number, alert in enumerate(alerts_of(payload)):
            incident = self._record(f"{receipt}/{number}", alert)
            if incident is None:
                continue
            touched.append(incident.incident_id)
            self._triage(incident)
            act_on_duties(incident, self.policy)
        return touched

    def _open_incidents(self) -> list[Incident]:
        found = []
        for incident_id in incident_ids(self.directory):
            incident = Incident(incident_id, self.directory, clock=self.clock, operator="watcher")
            state = fold(incident_id, incident.entries())
            if state.opened is not None and state.closed is None:
                found.append(incident)
        return found

    def _record(self, receipt: str, alert: dict[str, Any]) -> Incident | None:
        labels = {str(key): str(value) for key, value in (alert.get("labels") or {}).items()}
        annotations = {str(key): str(value) for key, value in (alert.get("annotations") or {}).items()}
        name = labels.get("alertname", "alert")
        fingerprint = str(alert.get("fingerprint") or hashlib.sha256(
            json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16])
        status = "resolved" if alert.get("status") == "resolved" else "firing"
        incident = self._incident_of(fingerprint, receipt)
        if incident is None:
            if status == "resolved":
                return None
            incident = self._open(name, labels, annotations, alert)
        entries = incident.entries()
        if not any(entry.get("receipt") == receipt for entry in entries):
            incident.append("alert", receipt=receipt, name=name, status=status, fingerprint=fingerprint,
                            labels=labels, summary=annotations.get("summary") or annotations.get("description", ""),
                            starts_at=alert.get("startsAt"), ends_at=alert.get("endsAt"))
            self.log(f"{incident.incident_id}: alert {name} {status}")
        return incident

    def _incident_of(self, fingerprint: str, receipt: str) -> Incident | None:
        for incident in self._open_incidents():
            for entry in incident.entries():
                if entry.get("kind") == "alert" and (entry.get("fingerprint") == fingerprint
                                                     or entry.get("receipt") == receipt):
                    return incident
        return None

    def _open(self, name: str, labels: dict[str, str], annotations: dict[str, str],
              alert: dict[str, Any]) -> Incident:
        detection = self.policy.detection
        severity = detection.severities.get(labels.get(detection.severity_label, ""), detection.default_severity)
        now = self.clock()
        try:
            detected = min(parse_time(str(alert["startsAt"])), now) if alert.get("startsAt") else now
        except TitanOpsError:
            detected = now
        category = labels.get(detection.category_label)
        incident = Incident.create(annotations.get("summary") or name, self.directory, severity=severity,
                                   detected_at=detected, source=f"alert {name}", categories=[category] if category
                                   else [], clock=self.clock, operator="watcher")
        self.log(f"{incident.incident_id}: opened (severity {severity}, detected {iso(detected)})")
        return incident

    def _triage(self, incident: Incident) -> None:
        """Run the health check once per incident: the triage's verdict, in the timeline, is the incident's
        severity (the alert's label was a first guess)."""
        if not self.inventory or not self.health_check:
            return
        if any(entry.get("kind") == "watch" for entry in incident.entries()):
            return
        import titan_ops

        titan_ops.run(self.health_check, self.inventory, incident=incident.incident_id, incident_dir=self.directory,
                      incident_clock=self.clock, operator="watcher", **self.run_options)
        state = incident.state()
        triage = state.last_triage or {}
        if triage.get("severity") is not None and triage["severity"] != state.severity:
            worst = [str(finding.get("reason")) for finding in triage.get("findings") or []
                     if finding.get("severity") == triage["severity"]]
            incident.set_severity(triage["severity"], "triage of the health check: " + "; ".join(worst))
        incident.append("watch", step="triaged", playbook=str(self.health_check))
        self.log(f"{incident.incident_id}: triaged, severity {triage.get('severity')}")

    # -- the clock -----------------------------------------------------------------
    def tick(self) -> None:
        """Escalate and send what the clock says is owed, for every open incident; the scheduled health check."""
        with self._lock:
            for incident in self._open_incidents():
                act_on_duties(incident, self.policy)
            if self.health_check_every and time.monotonic() - self._last_health_check >= self.health_check_every:
                self._last_health_check = time.monotonic()
                self._routine_health_check()

    def _routine_health_check(self) -> None:
        import titan_ops
        from titan_ops.incident.recorder import IncidentRecorder, triage_entry
        from titan_ops.triage import from_run

        if not self.inventory or not self.health_check:
            return
        result = titan_ops.run(self.health_check, self.inventory, **self.run_options)
        assessment = from_run(result.to_dict())
        if assessment.severity is None:
            return
        if any(fold(incident.incident_id, incident.entries()).source == "routine health check"
               for incident in self._open_incidents()):
            return
        incident = Incident.create(f"Routine health check: {assessment.findings[0].reason}", self.directory,
                                   severity=assessment.severity, source="routine health check", clock=self.clock,
                                   operator="watcher")
        recorder = IncidentRecorder(incident.incident_id, self.directory, operator="watcher", clock=self.clock)
        incident.timeline.append(recorder.entry(result))
        incident.timeline.append(triage_entry(assessment.to_dict(), "watcher", self.health_check, self.clock()))
        act_on_duties(incident, self.policy)
        self.log(f"{incident.incident_id}: opened by the routine health check (severity {assessment.severity})")


def serve(watcher: Watcher, host: str, port: int, stop: threading.Event, *, tick_seconds: float = 30,
          ready: Callable[[str, int], None] | None = None) -> None:
    """Receive alerts on ``host:port`` (POST any path) until ``stop`` is set; process and tick meanwhile."""
    wake = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413, "too large")
                return
            try:
                receipt = watcher.receive(self.rfile.read(length))
            except TitanOpsError as error:
                self._answer(400, str(error))
                return
            self._answer(200, receipt)
            wake.set()

        def do_GET(self) -> None:  # noqa: N802
            self._answer(200, "titan-ops watch")

        def _answer(self, code: int, text: str) -> None:
            data = (text + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    listener = threading.Thread(target=server.serve_forever, name="watch-http", daemon=True)
    listener.start()
    if ready is not None:
        ready(*server.server_address[:2])
    try:
        next_tick = time.monotonic()
        while not stop.is_set():
            try:
                watcher.process_inbox()
                if time.monotonic() >= next_tick:
                    watcher.tick()
                    next_tick = time.monotonic() + tick_seconds
            except TitanOpsError as error:
                watcher.log(f"ERROR! {error}")
            wake.wait(timeout=min(1.0, tick_seconds))
            wake.clear()
    finally:
        server.shutdown()
        server.server_close()

