"""STAND-INS with little state: console, scavenger, ai-quant, monitoring, and the exchange.

Not the real services:

- ``console``, ``scavenger``, ``ai-quant``: ``GET /health``.
- ``grafana``: Grafana's ``GET /api/health`` (Grafana has no Debian package; Prometheus and
  Alertmanager in the lab are the real ones).
- ``exchange``: ``GET /v5/market/time`` (public) and ``GET /v5/account/info``
  (header ``X-BAPI-API-KEY`` must be ``EXCHANGE_API_KEY`` of the .env), with
  rate-limit headers; stand-in only: ``POST /_standin/fault`` ``{"status": 503}``
  makes every ``/v5`` answer fail with that status (``{"status": null}`` heals).
"""

from __future__ import annotations

import hmac
import time

from .common import Request, Response, Service


def health_only(name: str, env: dict[str, str]) -> Service:
    """A service that only says it is healthy."""
    service = Service(name, env)

    @service.route("GET", "/health")
    def health(_request: Request) -> Response:
        return 200, {"status": "ok", "service": name, "standin": True}

    return service


def grafana(env: dict[str, str]) -> Service:
    """Grafana's health endpoint, as Grafana 10 answers it."""
    service = Service("grafana", env, public=("/api/health",))

    @service.route("GET", "/api/health")
    def health(_request: Request) -> Response:
        return 200, {"commit": "standin", "database": "ok", "version": "10.0.0-standin", "standin": True}

    return service


def exchange(env: dict[str, str]) -> Service:
    """The exchange's time and account endpoints, and a switch to make them fail."""
    service = Service("exchange", env, public=("/health", "/v5/market/time", "/v5/account/info"))
    fault: dict[str, int | None] = {"status": None}

    def limits() -> dict[str, str]:
        return {"X-Bapi-Limit": "120", "X-Bapi-Limit-Status": "119",
                "X-Bapi-Limit-Reset-Timestamp": str(int(time.time() * 1000) + 1000)}

    @service.route("GET", "/health")
    def health(_request: Request) -> Response:
        return 200, {"status": "ok", "service": "exchange", "standin": True}

    @service.route("GET", "/v5/market/time")
    def market_time(_request: Request) -> Response:
        if fault["status"]:
            return fault["status"], {"retCode": 10016, "retMsg": "Service unavailable (stand-in fault)"}
        now = time.time_ns()
        return 200, {"retCode": 0, "retMsg": "OK", "time": now // 1_000_000,
                     "result": {"timeSecond": str(now // 1_000_000_000), "timeNano": str(now)}}, limits()

    @service.route("GET", "/v5/account/info")
    def account(request: Request) -> Response:
        if fault["status"]:
            return fault["status"], {"retCode": 10016, "retMsg": "Service unavailable (stand-in fault)"}
        key = request.headers.get("X-BAPI-API-KEY", "")
        if not hmac.compare_digest(key, env.get("EXCHANGE_API_KEY", "")):
            return 401, {"retCode": 10003, "retMsg": "API key is invalid."}
        return 200, {"retCode": 0, "retMsg": "OK",
                     "result": {"unifiedMarginStatus": 3, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False,
                                "status": "NORMAL"}}, limits()

    @service.route("POST", "/_standin/fault")
    def set_fault(request: Request) -> Response:
        status = request.json().get("status")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status or null")
        fault["status"] = status
        return 200, fault

    return service
