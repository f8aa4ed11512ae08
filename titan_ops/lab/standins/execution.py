"""STAND-IN titan-execution: master arm, orders, positions, reconciliation and trades, with state on disk.

Not the real Execution service. Endpoints (all but ``/health`` need basic auth):

- ``GET /health``: 200, or 503 while the database is unreachable.
- ``GET|POST /api/execution/master-arm``: POST ``{"enabled": false, "operator_id": "..."}``.
- ``GET /api/execution/orders[?status=open]``; ``POST /api/execution/orders``
  ``{"symbol", "side", "qty", "price"}`` (refused with 409 while master arm is off);
  ``POST /api/execution/cancel-all`` ``{"operator_id"}``.
- ``GET /api/execution/positions`` (open positions); ``POST /api/execution/flatten-all``
  ``{"operator_id"}`` closes every open position (and does nothing else).
- ``POST /api/execution/reconcile``: takes the exchange's positions as the truth;
  ``GET /api/execution/reconciliation-status``: ``ok`` or ``mismatch`` (computed now).
- ``GET /api/execution/trades?limit=50``: newest first.
- ``/ws``: the real-time updates WebSocket (handshake, a snapshot frame, close);
  ``POST /_standin/websocket`` ``{"up": false}`` makes it answer 503.
- Stand-in only: ``POST /_standin/position-mismatch`` (the exchange's view of a
  position drifts), ``POST /_standin/reset`` (the seeded state).
"""

from __future__ import annotations

import copy
from typing import Any

from .common import Request, Response, Service, State, now_iso, redis_answers, state_path, tcp_reachable

_POSITIONS = [
    {"symbol": "BTCUSDT", "side": "long", "size": 0.5, "entry_price": 64250.0},
    {"symbol": "ETHUSDT", "side": "short", "size": 4.0, "entry_price": 3120.5},
]
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
        "positions": [{**position, "status": "open"} for position in _POSITIONS],
        "exchange_positions": copy.deepcopy(_POSITIONS),
        "trades": trades,
        "reconciliation": {"last_reconciled_at": None, "corrections": []},
        "audit": [],
    }


def _operator(body: dict[str, Any]) -> str:
    operator = body.get("operator_id")
    if not isinstance(operator, str) or not operator.strip():
        raise ValueError("operator_id is required")
    return operator


def _open_positions(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["symbol"]: item for item in data["positions"] if item["status"] == "open"}


def _mismatches(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Where our open positions and the exchange's differ, by symbol."""
    ours = _open_positions(data)
    theirs = {item["symbol"]: item for item in data["exchange_positions"] if item["size"]}
    found = []
    for symbol in sorted(set(ours) | set(theirs)):
        mine, exchange = ours.get(symbol), theirs.get(symbol)
        if mine is None or exchange is None or (mine["side"], mine["size"]) != (exchange["side"], exchange["size"]):
            found.append({"symbol": symbol,
                          "local": None if mine is None else {"side": mine["side"], "size": mine["size"]},
                          "exchange": None if exchange is None else {"side": exchange["side"],
                                                                     "size": exchange["size"]}})
    return found


def build(env: dict[str, str]) -> Service:
    """The Execution stand-in's routes over its state file."""
    service = Service("titan-execution", env, websocket="/ws")
    state = State(state_path("execution"), initial_state)
    service.gauge("titan_master_arm_enabled", "1 while master arm is enabled.",
                  lambda: float(state.data["master_arm"]["enabled"]))
    service.gauge("titan_position_mismatch", "1 while tracked positions differ from the exchange's.",
                  lambda: float(bool(_mismatches(state.data))))
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
                                            "master_arm": state.data["master_arm"]["enabled"]}

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

    @service.route("GET", "/api/execution/positions")
    def positions(_request: Request) -> Response:
        found = list(_open_positions(state.data).values())
        return 200, {"positions": found, "count": len(found)}

    @service.route("POST", "/api/execution/flatten-all")
    def flatten_all(request: Request) -> Response:
        operator = _operator(request.json())
        with state.lock:
            closed = list(_open_positions(state.data).values())
            for position in closed:
                position.update(status="closed", closed_at=now_iso())
                state.data["trades"].append({"id": f"trd-{len(state.data['trades']) + 1:04d}",
                                             "symbol": position["symbol"],
                                             "side": "sell" if position["side"] == "long" else "buy",
                                             "qty": position["size"], "price": position["entry_price"],
                                             "at": now_iso(), "reason": "flatten-all"})
            state.data["exchange_positions"] = [item for item in state.data["exchange_positions"]
                                                if item["symbol"] not in {p["symbol"] for p in closed}]
            audit(state.data, "flatten-all", operator, closed=len(closed))
            state.save()
            return 200, {"closed": len(closed), "positions": []}

    @service.route("POST", "/api/execution/reconcile")
    def reconcile(request: Request) -> Response:
        operator = request.json().get("operator_id")
        with state.lock:
            corrections = _mismatches(state.data)
            state.data["positions"] = [item for item in state.data["positions"] if item["status"] != "open"]
            state.data["positions"] += [{**item, "status": "open"} for item in state.data["exchange_positions"]
                                        if item["size"]]
            state.data["reconciliation"] = {"last_reconciled_at": now_iso(), "corrections": corrections}
            audit(state.data, "reconcile", operator, corrections=len(corrections))
            state.save()
            return 200, {"status": "ok", "corrections": corrections}

    @service.route("GET", "/api/execution/reconciliation-status")
    def reconciliation_status(_request: Request) -> Response:
        mismatches = _mismatches(state.data)
        return 200, {"status": "mismatch" if mismatches else "ok", "mismatches": mismatches,
                     **state.data["reconciliation"]}

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
        symbol, size = body.get("symbol", "BTCUSDT"), float(body.get("exchange_size", 0.75))
        with state.lock:
            others = [item for item in state.data["exchange_positions"] if item["symbol"] != symbol]
            local = _open_positions(state.data).get(symbol, {"side": "long", "entry_price": 1.0})
            state.data["exchange_positions"] = others + [{"symbol": symbol, "side": local["side"], "size": size,
                                                          "entry_price": local["entry_price"]}]
            state.save()
            return 200, {"mismatches": _mismatches(state.data)}

    @service.route("POST", "/_standin/reset")
    def reset(_request: Request) -> Response:
        state.reset()
        service.reset_faults()
        return 200, {"reset": True}

    return service
