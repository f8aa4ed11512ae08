"""STAND-IN titan-execution: master arm, orders, positions, reconciliation and trades, with state on disk.

Not the real Execution service. Endpoints (all but ``/health`` need basic auth):

- ``GET /health``: 200, or 503 while the database is unreachable.
- ``GET|POST /api/execution/master-arm``: POST ``{"enabled": false, "operator_id": "..."}``.
- ``GET /api/execution/orders[?status=open]``; ``POST /api/execution/orders``
  ``{"symbol", "side", "qty", "price"}`` (refused with 409 while master arm is off);
  ``POST /api/execution/cancel-all`` ``{"operator_id"}``.
- ``GET /api/execution/positions`` (open positions); ``POST /api/execution/flatten-all``
  ``{"operator_id"}`` closes every open position (and does nothing else).
- ``POST /api/execution/reconcile``: takes each exchange's positions (read from the exchange
  stand-ins, with the .env's keys) as the truth; ``GET /api/execution/reconciliation-status``:
  ``ok``, ``mismatch`` or ``unknown`` (an exchange did not answer), computed now.
- ``GET /api/execution/balances``: the balance Titan tracks on each exchange.
- ``GET /api/execution/exchange``: the active exchange (``ACTIVE_EXCHANGE`` of the .env), the
  configured ones, and whether each accepts Titan's API key now.
- ``POST /api/execution/signals``: a signal from the Brain; ``GET /api/execution/signals?id=ID``.
- ``GET /api/execution/trades?limit=50``: newest first.
- ``/ws``: the real-time updates WebSocket (handshake, a snapshot frame, close);
  ``POST /_standin/websocket`` ``{"up": false}`` makes it answer 503.
- Stand-in only: ``POST /_standin/position-mismatch`` ``{"symbol", "exchange_size", "exchange"}``
  (the exchange's view of a position drifts: set on the exchange stand-in), ``POST
  /_standin/reconciler`` ``{"frozen": true}`` (the reconciliation status stops being computed
  and keeps saying what it said last: a stalled reconciler), ``POST /_standin/reset`` (the seeded
  state, here and on the exchange stand-ins).
"""

from __future__ import annotations

import time
from typing import Any

from .common import Request, Response, Service, State, now_iso, redis_answers, state_path, tcp_reachable
from .exchange import SEEDED_BALANCES, SEEDED_POSITIONS
from .exchange_client import ExchangeError, clients
_ORDERS = [
    {"id": "ord-1001", "symbol": "BTCUSDT", "side": "buy", "qty": 0.1, "price": 63000.0},
    {"id": "ord-1002", "symbol": "ETHUSDT", "side": "sell", "qty": 1.0, "price": 3300.0},
    {"id": "ord-1003", "symbol": "SOLUSDT", "side": "buy", "qty": 25.0, "price": 142.0},
]


def initial_state() -> dict[str, Any]:
    """The seeded book: armed, three open orders, two positions, sixty past trades."""
    trades = [{"id": f"trd-{number:04d}", "symbol": ("BTCUSDT", "ETHUSDT", "SOLUSDT")[number % 3],
               "side": "buy" if number % 2 else "sell", "qty": round(0.05 * (1 + number % 5), 2),
               "price": round(100.0 + number * 1.5, 2), "at": f"2025-01-01T{number // 60:02d}:{number % 60:02d}:00Z"}
              for number in range(1, 61)]
    return {
        "master_arm": {"enabled": True, "changed_at": None, "operator_id": None},
        "orders": [{**order, "status": "open", "created_at": "2025-01-01T00:00:00Z"} for order in _ORDERS],
        "positions": [{**position, "exchange": exchange, "status": "open"}
                      for exchange, positions in SEEDED_POSITIONS.items() for position in positions],
        "balances": {exchange: dict(balance) for exchange, balance in SEEDED_BALANCES.items()},
        "trades": trades,
        "reconciliation": {"last_reconciled_at": None, "corrections": [], "frozen": False, "last": None},
        "signals": [],
        "audit": [],
    }


def _operator(body: dict[str, Any]) -> str:
    operator = body.get("operator_id")
    if not isinstance(operator, str) or not operator.strip():
        raise ValueError("operator_id is required")
    return operator


def _open_positions(data: dict[str, Any], exchange: str | None = None) -> list[dict[str, Any]]:
    return [item for item in data["positions"] if item["status"] == "open" and exchange in (None, item["exchange"])]


def _mismatches(ours: list[dict[str, Any]], theirs: list[dict[str, Any]], exchange: str) -> list[dict[str, Any]]:
    """Where our open positions on ``exchange`` and the exchange's own differ, by symbol (``venue``: which
    exchange; ``local`` and ``exchange``: the two views)."""
    mine_by = {item["symbol"]: item for item in ours}
    theirs_by = {item["symbol"]: item for item in theirs if item["size"]}
    found = []
    for symbol in sorted(set(mine_by) | set(theirs_by)):
        mine, exchanged = mine_by.get(symbol), theirs_by.get(symbol)
        if mine is None or exchanged is None or \
                (mine["side"], float(mine["size"])) != (exchanged["side"], float(exchanged["size"])):
            found.append({"venue": exchange, "symbol": symbol,
                          "local": None if mine is None else {"side": mine["side"], "size": mine["size"]},
                          "exchange": None if exchanged is None else {"side": exchanged["side"],
                                                                      "size": exchanged["size"]}})
    return found


def build(env: dict[str, str]) -> Service:
    """The Execution stand-in's routes over its state file."""
    service = Service("titan-execution", env, websocket="/ws")
    state = State(state_path("execution"), initial_state)
    exchanges = clients(env)
    active = env.get("ACTIVE_EXCHANGE", "bybit")
    service.gauge("titan_master_arm_enabled", "1 while master arm is enabled.",
                  lambda: float(state.data["master_arm"]["enabled"]))
    service.gauge("titan_position_mismatch", "1 while tracked positions differ from an exchange's own.",
                  lambda: float(status_now()["status"] == "mismatch"))
    service.gauge("titan_open_orders", "Open orders.",
                  lambda: float(sum(order["status"] == "open" for order in state.data["orders"])))
    service.gauge("titan_database_up", "1 while the database accepts connections.",
                  lambda: float(tcp_reachable(env.get("DATABASE_URL"))))

    def audit(data: dict[str, Any], action: str, operator: str | None, **details: Any) -> None:
        data["audit"].append({"at": now_iso(), "action": action, "operator_id": operator, **details})

    @service.route("GET", "/health")
    def health(_request: Request) -> Response:
        database = tcp_reachable(env.get("DATABASE_URL"))
        return (200 if database else 503), {"status": "ok" if database else "degraded", "service": service.name,
                                            "standin": True, "database": database,
                                            "redis": redis_answers(env.get("REDIS_URL")),
                                            "master_arm": state.data["master_arm"]["enabled"], "exchange": active}

    @service.route("GET", "/api/execution/master-arm")
    def master_arm(_request: Request) -> Response:
        return 200, state.data["master_arm"]

    @service.route("POST", "/api/execution/master-arm")
    def set_master_arm(request: Request) -> Response:
        body = request.json()
        operator = _operator(body)
        if not isinstance(body.get("enabled"), bool):
            raise ValueError("enabled must be true or false")
        with state.lock:
            state.data["master_arm"] = {"enabled": body["enabled"], "changed_at": now_iso(), "operator_id": operator}
            audit(state.data, "master-arm", operator, enabled=body["enabled"])
            state.save()
            return 200, state.data["master_arm"]

    @service.route("GET", "/api/execution/orders")
    def orders(request: Request) -> Response:
        wanted = request.query.get("status")
        found = [order for order in state.data["orders"] if wanted in (None, order["status"])]
        return 200, {"orders": found, "count": len(found)}

    @service.route("POST", "/api/execution/orders")
    def place_order(request: Request) -> Response:
        body = request.json()
        missing = [key for key in ("symbol", "side", "qty", "price") if key not in body]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        with state.lock:
            if not state.data["master_arm"]["enabled"]:
                return 409, {"error": "master arm is disabled: no new orders"}
            order = {"id": f"ord-{1001 + len(state.data['orders'])}", "symbol": body["symbol"],
                     "side": body["side"], "qty": body["qty"], "price": body["price"], "status": "open",
                     "created_at": now_iso()}
            state.data["orders"].append(order)
            state.save()
            return 201, order

    @service.route("POST", "/api/execution/cancel-all")
    def cancel_all(request: Request) -> Response:
        operator = _operator(request.json())
        with state.lock:
            cancelled = [order for order in state.data["orders"] if order["status"] == "open"]
            for order in cancelled:
                order.update(status="cancelled", cancelled_at=now_iso())
            audit(state.data, "cancel-all", operator, cancelled=len(cancelled))
            state.save()
            return 200, {"cancelled": len(cancelled), "open_orders": 0}

    def status_now() -> dict[str, Any]:
        """Our positions against every configured exchange's own, now (or the last answer, while frozen)."""
        reconciliation = state.data["reconciliation"]
        if reconciliation["frozen"] and reconciliation["last"] is not None:
            return reconciliation["last"]
        mismatches: list[dict[str, Any]] = []
        errors = {}
        for name, client in exchanges.items():
            try:
                mismatches += _mismatches(_open_positions(state.data, name), client.positions(), name)
            except ExchangeError as error:
                errors[name] = str(error)
        status = "unknown" if errors else ("mismatch" if mismatches else "ok")
        answer = {"status": status, "mismatches": mismatches, "errors": errors, "checked_at": now_iso()}
        with state.lock:
            reconciliation["last"] = answer
            state.save()
        return answer

    @service.route("GET", "/api/execution/positions")
    def positions(_request: Request) -> Response:
        found = _open_positions(state.data)
        return 200, {"positions": found, "count": len(found)}

    @service.route("GET", "/api/execution/balances")
    def balances(_request: Request) -> Response:
        return 200, {"balances": {name: state.data["balances"].get(name, {}) for name in exchanges}}

    @service.route("GET", "/api/execution/exchange")
    def exchange(_request: Request) -> Response:
        accounts = {}
        for name, client in exchanges.items():
            try:
                accounts[name] = {"key_accepted": client.account_ok()}
            except ExchangeError as error:
                accounts[name] = {"key_accepted": False, "error": str(error)}
        return 200, {"active": active, "configured": list(exchanges), "accounts": accounts}

    @service.route("POST", "/api/execution/flatten-all")
    def flatten_all(request: Request) -> Response:
        operator = _operator(request.json())
        with state.lock:
            closed = _open_positions(state.data)
            for position in closed:
                position.update(status="closed", closed_at=now_iso())
                state.data["trades"].append({"id": f"trd-{len(state.data['trades']) + 1:04d}",
                                             "symbol": position["symbol"],
                                             "side": "sell" if position["side"] == "long" else "buy",
                                             "qty": position["size"], "price": position["entry_price"],
                                             "at": now_iso(), "reason": "flatten-all"})
            audit(state.data, "flatten-all", operator, closed=len(closed))
            state.save()
        for client in exchanges.values():  # the closing orders fill on the exchange
            client.set_positions([])
        return 200, {"closed": len(closed), "positions": []}

    @service.route("POST", "/api/execution/reconcile")
    def reconcile(request: Request) -> Response:
        operator = request.json().get("operator_id")
        views = {}
        for name, client in exchanges.items():
            try:
                views[name] = client.positions()
            except ExchangeError as error:
                return 502, {"status": "failed", "error": f"{name}: {error}"}
        with state.lock:
            corrections = [item for name, view in views.items()
                           for item in _mismatches(_open_positions(state.data, name), view, name)]
            state.data["positions"] = [item for item in state.data["positions"] if item["status"] != "open"]
            state.data["positions"] += [{**item, "exchange": name, "status": "open"}
                                        for name, view in views.items() for item in view if item["size"]]
            state.data["reconciliation"].update(last_reconciled_at=now_iso(), corrections=corrections,
                                                frozen=False, last=None)
            audit(state.data, "reconcile", operator, corrections=len(corrections))
            state.save()
        return 200, {"status": "ok", "corrections": corrections}

    @service.route("GET", "/api/execution/reconciliation-status")
    def reconciliation_status(_request: Request) -> Response:
        reconciliation = state.data["reconciliation"]
        return 200, {**status_now(), "last_reconciled_at": reconciliation["last_reconciled_at"],
                     "corrections": reconciliation["corrections"]}

    @service.route("POST", "/api/execution/signals")
    def receive_signal(request: Request) -> Response:
        body = request.json()
        if not isinstance(body.get("signal_id"), str):
            raise ValueError("signal_id is required")
        received = time.time() * 1000
        signal = {**body, "received_at": now_iso(),
                  "latency_ms": round(received - float(body.get("sent_at_ms", received)), 1)}
        with state.lock:
            state.data["signals"] = (state.data["signals"] + [signal])[-100:]
            state.save()
        return 202, signal

    @service.route("GET", "/api/execution/signals")
    def signals(request: Request) -> Response:
        wanted = request.query.get("id")
        found = [signal for signal in state.data["signals"] if wanted in (None, signal["signal_id"])]
        return 200, {"signals": found, "count": len(found)}

    @service.route("GET", "/api/execution/trades")
    def trades(request: Request) -> Response:
        limit = int(request.query.get("limit", "50"))
        if limit < 1:
            raise ValueError("limit must be positive")
        newest = list(reversed(state.data["trades"]))[:limit]
        return 200, {"trades": newest, "count": len(newest)}

    @service.route("POST", "/_standin/position-mismatch")
    def inject_mismatch(request: Request) -> Response:
        body = request.json()
        name = body.get("exchange", active)
        if name not in exchanges:
            raise ValueError(f"no exchange {name!r} configured")
        symbol, size = body.get("symbol", "BTCUSDT"), float(body.get("exchange_size", 0.75))
        view = [item for item in exchanges[name].positions() if item["symbol"] != symbol]
        local = next((item for item in _open_positions(state.data, name) if item["symbol"] == symbol),
                     {"side": "long", "entry_price": 1.0})
        exchanges[name].set_positions(view + [{"symbol": symbol, "side": local["side"], "size": size,
                                               "entry_price": local.get("entry_price", 1.0)}])
        return 200, {"mismatches": status_now()["mismatches"]}

    @service.route("POST", "/_standin/reconciler")
    def freeze_reconciler(request: Request) -> Response:
        frozen = bool(request.json().get("frozen", True))
        if frozen:
            status_now()
        with state.lock:
            state.data["reconciliation"]["frozen"] = frozen
            state.save()
        return 200, {"frozen": frozen}

    @service.route("POST", "/_standin/reset")
    def reset(_request: Request) -> Response:
        for client in exchanges.values():
            client.reset()
        state.reset()
        service.reset_faults()
        return 200, {"reset": True}

    return service
