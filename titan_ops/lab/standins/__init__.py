"""STAND-INS for the Titan services, for the lab only: not the real Titan software.

Small HTTP services (Python's standard library only) that pm2 supervises in
``titan-ops lab up --titan``. They answer the endpoints the runbooks use,
with real state kept in a JSON file, so playbooks and drills act on
something that changes and persists:

- ``brain`` (titan-brain): circuit breaker and dashboard (signal latency).
- ``execution`` (titan-execution): master arm, orders, positions,
  reconciliation, trades, and the real-time updates WebSocket (``/ws``).
- ``console``, ``scavenger``, ``ai-quant``: a health endpoint each.
- ``grafana``: Grafana's ``/api/health`` (Grafana has no Debian package).
- ``exchange``, ``exchange-mexc``: Bybit-like and MEXC-like exchanges (time, account, rate limit,
  positions, balance, API key management), with faults.

Each reads ``.env`` from its working folder (``/opt/titan``) at start and
exits with status 1 when it is missing or broken, as a real service would;
its port comes from ``PORT``. Each serves Prometheus metrics on ``/metrics``.
Endpoints under ``/_standin/`` exist only here: tests and drills use them to
inject faults (a position mismatch, a tripped breaker, slow signals, error
lines, a memory leak, a crash loop, a WebSocket down).

Run one with ``python -m titan_ops.lab.standins NAME``; in a lab host they run from
``/opt/titan/lib/titan_standins`` (a copy made by ``lab up --titan``) as ``python3 -m titan_standins NAME``.
"""
