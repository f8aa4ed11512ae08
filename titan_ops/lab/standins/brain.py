"""STAND-IN titan-brain: the circuit breaker and the dashboard, with state on disk.

Not the real Brain. Endpoints (all but ``/health`` need basic auth):

- ``GET /health``: 200, or 503 while the database is unreachable.
- ``GET /api/brain/breaker``: ``state``, ``reason``, ``trigger`` (for a risk-limit trip:
  ``{"metric", "value", "limit"}``, the reading that tripped it; null when a component
  failure tripped it), ``cooldown_until``; ``POST /api/brain/breaker/reset``
  ``{"operator_id", "justification"}`` (both required).
  A risk-limit trip (one with a ``trigger``) closes by itself once its cooldown has passed,
  as the Brain's breaker does; a trip without a trigger stays open until it is reset.
- ``GET /api/brain/dashboard``: signal latency in ms, equity, breaker state.
- ``POST /api/brain/signals`` ``{"signal_id", "symbol", "action", "test": true}``: a signal goes
  through the Brain to the Execution service (``EXECUTION_URL``), which records it (a test signal
  trades nothing); 202 when accepted.
- Stand-in only: ``POST /_standin/breaker`` ``{"state": "open", "reason", "trigger",
  "cooldown_s"}`` trips the breaker; ``POST /_standin/signals`` ``{"stalled": true}`` makes the
  Brain accept signals and never pass them on (``false`` passes the held ones on);
  ``POST /_standin/dashboard`` ``{"signal_latency_ms", "equity"}`` sets what the dashboard
  reports; ``POST /_standin/reset``.
"""

from __future__ import annotations

from typing import Any

import base64
import json
import threading
import time
import urllib.error
import urllib.request

from .common import Request, Response, Service, State, now_iso, redis_answers, state_path, tcp_reachable


def initial_state() -> dict[str, Any]:
    """A closed breaker, 45 ms signal latency, 25,000 equity."""
    return {
        "breaker": {"state": "closed", "tripped": False, "reason": None, "trigger": None, "tripped_at": None,
                    "cooldown_until": None, "reset_at": None, "reset_by": None, "justification": None},
        "signal_latency_ms": 45.0,
        "equity": 25000.0,
        "active_strategies": ["scavenger-trap", "hunter-momentum", "sentinel-basis"],
    }


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} is required")
    return value


def build(env: dict[str, str]) -> Service:
    """The Brain stand-in's routes over its state file."""
    service = Service("titan-brain", env)
    state = State(state_path("brain"), initial_state)
    service.gauge("titan_breaker_open", "1 while the circuit breaker is open.",
                  lambda: float(state.data["breaker"]["state"] == "open"))
    service.gauge("titan_breaker_system_failure", "1 while the breaker is open without a risk-limit trigger.",
                  lambda: float(state.data["breaker"]["state"] == "open" and not state.data["breaker"]["trigger"]))
    service.gauge("titan_signal_latency_ms", "Signal processing latency in milliseconds.",
                  lambda: state.data["signal_latency_ms"])
    service.gauge("titan_equity", "Account equity.", lambda: state.data["equity"])
    service.gauge("titan_database_up", "1 while the database accepts connections.",
                  lambda: float(tcp_reachable(env.get("DATABASE_URL"))))

    @service.route("GET", "/health")
    def health(_request: Request) -> Response:
        database = tcp_reachable(env.get("DATABASE_URL"))
        return (200 if database else 503), {"status": "ok" if database else "degraded", "service": service.name,
                                            "standin": True, "database": database,
                                            "redis": redis_answers(env.get("REDIS_URL"))}

    def cooled_down() -> dict[str, Any]:
        """The breaker, closed first if it was a risk-limit trip whose cooldown has passed."""
        breaker = state.data["breaker"]
        until = breaker.get("cooldown_until")
        if breaker["state"] == "open" and breaker.get("trigger") and until and until <= now_iso():
            with state.lock:
                breaker.update(state="closed", tripped=False, reset_at=now_iso(), reset_by="cooldown",
                               justification=f"cooldown over ({breaker['reason']})")
                state.save()
        return breaker

    held: list[dict[str, Any]] = []
    stalled = {"on": False}

    def forward(signal: dict[str, Any]) -> None:
        """Pass a signal on to the Execution service (in the background, as the Brain's pipeline does)."""
        token = base64.b64encode(f"{env['TITAN_API_USER']}:{env['TITAN_API_PASSWORD']}".encode()).decode()
        request = urllib.request.Request(env.get("EXECUTION_URL", "").rstrip("/") + "/api/execution/signals",
                                         data=json.dumps(signal).encode(), method="POST",
                                         headers={"Authorization": f"Basic {token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5):
                pass
        except (urllib.error.URLError, OSError) as error:
            service.log_error(f"signal {signal['signal_id']} not delivered: {error}")

    @service.route("GET", "/api/brain/breaker")
    def breaker(_request: Request) -> Response:
        return 200, cooled_down()

    @service.route("POST", "/api/brain/signals")
    def signal(request: Request) -> Response:
        body = request.json()
        if not isinstance(body.get("signal_id"), str) or not body["signal_id"]:
            raise ValueError("signal_id is required")
        accepted = {**body, "sent_at_ms": time.time() * 1000, "accepted_at": now_iso()}
        if stalled["on"]:
            held.append(accepted)
        else:
            threading.Thread(target=forward, args=(accepted,), daemon=True).start()
        return 202, {"accepted": body["signal_id"]}

    @service.route("POST", "/_standin/signals")
    def stall(request: Request) -> Response:
        stalled["on"] = bool(request.json().get("stalled", True))
        if not stalled["on"]:
            while held:
                threading.Thread(target=forward, args=(held.pop(0),), daemon=True).start()
        return 200, {"stalled": stalled["on"], "held": len(held)}

    @service.route("POST", "/api/brain/breaker/reset")
    def reset_breaker(request: Request) -> Response:
        body = request.json()
        operator, justification = _text(body, "operator_id"), _text(body, "justification")
        with state.lock:
            state.data["breaker"].update(state="closed", tripped=False, reason=None, trigger=None,
                                         cooldown_until=None, reset_at=now_iso(), reset_by=operator,
                                         justification=justification)
            state.save()
            return 200, state.data["breaker"]

    @service.route("GET", "/api/brain/dashboard")
    def dashboard(_request: Request) -> Response:
        data = state.data
        return 200, {"signal_latency_ms": data["signal_latency_ms"], "equity": data["equity"],
                     "breaker_state": cooled_down()["state"], "active_strategies": data["active_strategies"],
                     "last_signal_at": now_iso(), "standin": True}

    @service.route("POST", "/_standin/breaker")
    def trip(request: Request) -> Response:
        body = request.json()
        trigger = body.get("trigger")
        if trigger is not None and not (isinstance(trigger, dict) and {"metric", "value", "limit"} <= set(trigger)):
            raise ValueError("trigger must be null or {metric, value, limit}")
        cooldown = float(body.get("cooldown_s", 900))
        with state.lock:
            tripped = body.get("state", "open") == "open"
            until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + cooldown)) if tripped else None
            state.data["breaker"].update(state="open" if tripped else "closed", tripped=tripped,
                                         reason=body.get("reason", "daily drawdown limit"),
                                         trigger=trigger if tripped else None,
                                         tripped_at=now_iso() if tripped else None, cooldown_until=until)
            state.save()
            return 200, state.data["breaker"]

    @service.route("POST", "/_standin/dashboard")
    def set_dashboard(request: Request) -> Response:
        body = request.json()
        with state.lock:
            for key in ("signal_latency_ms", "equity"):
                if key in body:
                    state.data[key] = float(body[key])
            state.save()
            return 200, {key: state.data[key] for key in ("signal_latency_ms", "equity")}

    @service.route("POST", "/_standin/reset")
    def reset(_request: Request) -> Response:
        state.reset()
        service.reset_faults()
        stalled["on"] = False
        held.clear()
        return 200, {"reset": True}

    return service
