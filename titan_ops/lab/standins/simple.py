"""STAND-INS with little state: console, scavenger, ai-quant and Grafana (the exchanges: ``exchange.py``).

Not the real services:

- ``console``, ``scavenger``, ``ai-quant``: ``GET /health``.
- ``grafana``: Grafana's ``GET /api/health`` (Grafana has no Debian package; Prometheus and
  Alertmanager in the lab are the real ones).
"""

from __future__ import annotations

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
