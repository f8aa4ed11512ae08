"""STAND-IN exchanges, Bybit-like and MEXC-like: not the real exchanges, and not their full APIs.

Each keeps, in its state file, the account's API keys (seeded from the .env:
``BYBIT_API_KEY``/``BYBIT_API_SECRET`` or ``MEXC_API_KEY``/``MEXC_API_SECRET``),
its own view of the open positions and the balance, and its faults.
Private endpoints take the key in the exchange's header and answer with the
exchange's own status codes (Bybit: ``retCode``/``retMsg`` in every body;
MEXC: ``code``/``msg`` on errors).

Bybit flavour (``exchange``):
- ``GET /v5/market/time`` (public); ``GET /v5/account/info``; ``GET /v5/account/rate-limit``
  (the endpoint the procedures name); ``GET /v5/position/list``; ``GET /v5/account/wallet-balance``;
- key management: ``POST /v5/user/create-sub-api`` (a new key for the account, returned once),
  ``POST /v5/user/delete-api`` (revokes the key that signs the request).

MEXC flavour (``exchange-mexc``):
- ``GET /api/v3/ping``, ``GET /api/v3/time`` (public); ``GET /api/v3/account`` (``X-MEXC-APIKEY``);
  ``GET /api/v1/private/position/open_positions`` (futures, ``ApiKey`` header);
- key management: ``POST /api/v3/sub-account/apiKey`` (new key), ``DELETE /api/v3/sub-account/apiKey``
  ``?apiKey=KEY`` (revokes it; signed by any active key).

Stand-in only (no auth: the exchange is not Titan's, its test switches do not take Titan's credentials):
``POST /_standin/fault`` ``{"status": 503}`` (every API answer fails with that
HTTP status), ``{"account_code": 10005}`` (the account endpoint answers HTTP 200 with that error code),
``{"rate_limited": true}``, or nulls to heal; ``POST /_standin/positions`` ``{"positions": [...]}`` and
``POST /_standin/balance`` ``{"USDT": 1.0}`` set what the exchange holds; ``POST /_standin/reset``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from .common import Request, Response, Service, State, now_iso, state_path

BYBIT, MEXC = "bybit", "mexc"
SEEDED_POSITIONS = {
    BYBIT: [{"symbol": "BTCUSDT", "side": "long", "size": 0.5, "entry_price": 64250.0},
            {"symbol": "ETHUSDT", "side": "short", "size": 4.0, "entry_price": 3120.5}],
    MEXC: [],
}
"""What each exchange holds at the start (the Execution stand-in seeds its own view with the same)."""
SEEDED_BALANCES = {BYBIT: {"USDT": 25000.0}, MEXC: {"USDT": 10000.0}}
_HEADERS = {BYBIT: "X-BAPI-API-KEY", MEXC: "X-MEXC-APIKEY"}


def build(flavour: str, env: dict[str, str]) -> Service:
    """The stand-in exchange of ``flavour`` (``bybit`` or ``mexc``) over its state file."""
    prefix = flavour.upper()
    paths = _BYBIT_PUBLIC if flavour == BYBIT else _MEXC_PUBLIC
    switches = ("/_standin/fault", "/_standin/positions", "/_standin/balance", "/_standin/reset")
    service = Service(f"exchange-{flavour}", env, public=("/health", *paths, *switches))

    def initial() -> dict[str, Any]:
        key = env.get(f"{prefix}_API_KEY", "")
        return {"keys": {key: {"secret": env.get(f"{prefix}_API_SECRET", ""), "status": "active",
                               "created_at": None}} if key else {},
                "positions": [dict(item) for item in SEEDED_POSITIONS[flavour]],
                "balance": dict(SEEDED_BALANCES[flavour]),
                "fault": {"status": None, "account_code": None, "rate_limited": False}}

    state = State(state_path(f"exchange-{flavour}"), initial)

    def failing() -> Response | None:
        status = state.data["fault"]["status"]
        if status:
            body = {"retCode": 10016, "retMsg": "Service unavailable (stand-in fault)"} if flavour == BYBIT \
                else {"code": 10016, "msg": "Service unavailable (stand-in fault)"}
            return status, body
        return None

    def key_of(request: Request, header: str | None = None) -> str | None:
        """The request's API key if it is an active key of the account, else None."""
        given = request.headers.get(header or _HEADERS[flavour], "")
        for key, about in state.data["keys"].items():
            if about["status"] == "active" and given and hmac.compare_digest(given, key):
                return key
        return None

    def refused() -> Response:
        if flavour == BYBIT:
            return 401, {"retCode": 10003, "retMsg": "API key is invalid."}
        return 401, {"code": 10072, "msg": "Api key info invalid"}

    def new_key() -> dict[str, str]:
        key, secret = secrets.token_hex(9), secrets.token_hex(18)
        with state.lock:
            state.data["keys"][key] = {"secret": secret, "status": "active", "created_at": now_iso()}
            state.save()
        return {"key": key, "secret": secret}

    def revoke(key: str) -> None:
        with state.lock:
            state.data["keys"][key].update(status="revoked", revoked_at=now_iso())
            state.save()

    @service.route("GET", "/health")
    def health(_request: Request) -> Response:
        return 200, {"status": "ok", "service": service.name, "standin": True}

    if flavour == BYBIT:
        _bybit_routes(service, state, failing, key_of, refused, new_key, revoke)
    else:
        _mexc_routes(service, state, failing, key_of, refused, new_key, revoke)

    @service.route("POST", "/_standin/fault")
    def set_fault(request: Request) -> Response:
        body = request.json()
        status = body.get("status")
        if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status or null")
        with state.lock:
            fault = state.data["fault"]
            for key in ("status", "account_code", "rate_limited"):
                if key in body:
                    fault[key] = body[key]
            state.save()
            return 200, fault

    @service.route("POST", "/_standin/positions")
    def set_positions(request: Request) -> Response:
        positions = request.json().get("positions")
        if not isinstance(positions, list) or not all(isinstance(item, dict) and {"symbol", "side", "size"}
                                                      <= set(item) for item in positions):
            raise ValueError("positions must be a list of {symbol, side, size}")
        with state.lock:
            state.data["positions"] = [{"entry_price": 1.0, **item} for item in positions]
            state.save()
            return 200, {"positions": state.data["positions"]}

    @service.route("POST", "/_standin/balance")
    def set_balance(request: Request) -> Response:
        body = request.json()
        with state.lock:
            state.data["balance"].update({str(coin): float(amount) for coin, amount in body.items()})
            state.save()
            return 200, state.data["balance"]

    @service.route("POST", "/_standin/reset")
    def reset(_request: Request) -> Response:
        state.reset()
        return 200, {"reset": True}

    return service


_BYBIT_PUBLIC = ("/v5/market/time", "/v5/account/info", "/v5/account/rate-limit", "/v5/position/list",
                 "/v5/account/wallet-balance", "/v5/user/create-sub-api", "/v5/user/delete-api")
_MEXC_PUBLIC = ("/api/v3/ping", "/api/v3/time", "/api/v3/account", "/api/v1/private/position/open_positions",
                "/api/v3/sub-account/apiKey")


def _limits(remaining: int) -> dict[str, str]:
    return {"X-Bapi-Limit": "120", "X-Bapi-Limit-Status": str(remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(int(time.time() * 1000) + 1000)}


def _bybit_routes(service: Service, state: State, failing: Any, key_of: Any, refused: Any, new_key: Any,
                  revoke: Any) -> None:
    def ok(result: Any, remaining: int = 119) -> Response:
        return 200, {"retCode": 0, "retMsg": "OK", "result": result, "time": int(time.time() * 1000)}, \
            _limits(remaining)

    @service.route("GET", "/v5/market/time")
    def market_time(_request: Request) -> Response:
        now = time.time_ns()
        return failing() or ok({"timeSecond": str(now // 1_000_000_000), "timeNano": str(now)})

    @service.route("GET", "/v5/account/info")
    def account(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        code = state.data["fault"]["account_code"]
        if code:
            return 200, {"retCode": code, "retMsg": "Permission denied (stand-in fault)", "result": {}}
        return ok({"unifiedMarginStatus": 3, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False,
                   "status": "NORMAL"})

    @service.route("GET", "/v5/account/rate-limit")
    def rate_limit(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        remaining = 0 if state.data["fault"]["rate_limited"] else 119
        return ok({"list": [{"path": "/v5/order/create", "limit": 120, "remaining": remaining}]}, remaining)

    @service.route("GET", "/v5/position/list")
    def positions(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        return ok({"category": "linear", "list": [
            {"symbol": item["symbol"], "side": "Buy" if item["side"] == "long" else "Sell",
             "size": f"{item['size']:g}", "avgPrice": f"{item['entry_price']:g}"} for item in state.data["positions"]
            if item["size"]]})

    @service.route("GET", "/v5/account/wallet-balance")
    def wallet(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        coins = [{"coin": coin, "walletBalance": f"{amount:.2f}"} for coin, amount in state.data["balance"].items()]
        return ok({"list": [{"accountType": "UNIFIED", "coin": coins,
                             "totalEquity": f"{sum(state.data['balance'].values()):.2f}"}]})

    @service.route("POST", "/v5/user/create-sub-api")
    def create_key(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        created = new_key()
        return ok({"apiKey": created["key"], "secret": created["secret"], "readOnly": 0})

    @service.route("POST", "/v5/user/delete-api")
    def delete_key(request: Request) -> Response:
        key = key_of(request)
        if failing() or key is None:
            return failing() or refused()
        revoke(key)
        return ok({})


def _mexc_routes(service: Service, state: State, failing: Any, key_of: Any, refused: Any, new_key: Any,
                 revoke: Any) -> None:
    @service.route("GET", "/api/v3/ping")
    def ping(_request: Request) -> Response:
        return failing() or (200, {})

    @service.route("GET", "/api/v3/time")
    def server_time(_request: Request) -> Response:
        return failing() or (200, {"serverTime": int(time.time() * 1000)})

    @service.route("GET", "/api/v3/account")
    def account(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        code = state.data["fault"]["account_code"]
        if code:
            return 200, {"code": code, "msg": "Account abnormal (stand-in fault)"}
        return 200, {"canTrade": True, "canWithdraw": True, "canDeposit": True, "accountType": "SPOT",
                     "balances": [{"asset": coin, "free": f"{amount:.2f}", "locked": "0"}
                                  for coin, amount in state.data["balance"].items()],
                     "permissions": ["SPOT"]}

    @service.route("GET", "/api/v1/private/position/open_positions")
    def positions(request: Request) -> Response:
        if failing() or key_of(request, "ApiKey") is None:
            return failing() or refused()
        return 200, {"success": True, "code": 0, "data": [
            {"symbol": item["symbol"].replace("USDT", "_USDT"), "positionType": 1 if item["side"] == "long" else 2,
             "holdVol": item["size"], "holdAvgPrice": item["entry_price"]} for item in state.data["positions"]
            if item["size"]]}

    @service.route("POST", "/api/v3/sub-account/apiKey")
    def create_key(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        created = new_key()
        return 200, {"apiKey": created["key"], "secretKey": created["secret"], "permissions": "SPOT_ACCOUNT_READ"}

    @service.route("DELETE", "/api/v3/sub-account/apiKey")
    def delete_key(request: Request) -> Response:
        if failing() or key_of(request) is None:
            return failing() or refused()
        target = request.query.get("apiKey", "")
        if target not in state.data["keys"]:
            return 400, {"code": 10072, "msg": "Api key info invalid"}
        revoke(target)
        return 200, {"apiKey": target}
