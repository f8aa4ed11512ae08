"""How the Execution stand-in talks to the exchange stand-ins: positions, the account, and the test switches.

The exchanges are the ones the .env configures (``BYBIT_BASE_URL``, ``MEXC_BASE_URL``), each with its API
key (``BYBIT_API_KEY``, ``MEXC_API_KEY``): the key Titan trades with, so a revoked key is refused here too.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

KINDS = ("bybit", "mexc")


class ExchangeError(ValueError):
    """The exchange did not answer, or refused (a stand-in route answers it as 400, with the reason)."""


class ExchangeClient:
    """One configured exchange, as Titan sees it."""

    def __init__(self, kind: str, base_url: str, key: str, basic_auth: tuple[str, str]):
        self.kind = kind
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.basic_auth = basic_auth

    def _call(self, path: str, headers: dict[str, str], body: Any = None) -> Any:
        request = urllib.request.Request(self.base_url + path, headers=headers,
                                         data=None if body is None else json.dumps(body).encode(),
                                         method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(request, timeout=3) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ExchangeError(f"HTTP {error.code} from {path}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ExchangeError(f"{path}: {error}") from None

    def _standin(self, path: str, body: Any) -> Any:
        token = base64.b64encode(":".join(self.basic_auth).encode()).decode()
        return self._call(path, {"Authorization": f"Basic {token}", "Content-Type": "application/json"}, body)

    def positions(self) -> list[dict[str, Any]]:
        """The open positions the exchange holds: ``{symbol, side (long/short), size, entry_price}``."""
        if self.kind == "bybit":
            answer = self._call("/v5/position/list?category=linear", {"X-BAPI-API-KEY": self.key})
            if answer.get("retCode") != 0:
                raise ExchangeError(f"retCode {answer.get('retCode')}: {answer.get('retMsg')}")
            return [{"symbol": item["symbol"], "side": "long" if item["side"] == "Buy" else "short",
                     "size": float(item["size"]), "entry_price": float(item.get("avgPrice") or 0)}
                    for item in answer["result"]["list"]]
        answer = self._call("/api/v1/private/position/open_positions", {"ApiKey": self.key})
        if not answer.get("success"):
            raise ExchangeError(f"code {answer.get('code')}: {answer.get('message')}")
        return [{"symbol": item["symbol"].replace("_", ""), "side": "long" if item["positionType"] == 1 else "short",
                 "size": float(item["holdVol"]), "entry_price": float(item.get("holdAvgPrice") or 0)}
                for item in answer["data"]]

    def account_ok(self) -> bool:
        """Whether the exchange accepts Titan's key on the account endpoint and says the account is usable."""
        if self.kind == "bybit":
            return self._call("/v5/account/info", {"X-BAPI-API-KEY": self.key}).get("retCode") == 0
        answer = self._call("/api/v3/account", {"X-MEXC-APIKEY": self.key})
        return answer.get("code") in (None, 0, 200) and bool(answer.get("canTrade"))

    def set_positions(self, positions: list[dict[str, Any]]) -> None:
        """Stand-in only: what the exchange holds (an order filled, a drift injected)."""
        self._standin("/_standin/positions", {"positions": positions})

    def reset(self) -> None:
        """Stand-in only: the exchange's seeded state."""
        try:
            self._standin("/_standin/reset", {})
        except ExchangeError:
            pass  # an exchange that does not answer keeps its state


def clients(env: dict[str, str]) -> dict[str, ExchangeClient]:
    """Every exchange the .env configures, by name."""
    auth = (env.get("TITAN_API_USER", ""), env.get("TITAN_API_PASSWORD", ""))
    return {kind: ExchangeClient(kind, env[f"{kind.upper()}_BASE_URL"], env.get(f"{kind.upper()}_API_KEY", ""), auth)
            for kind in KINDS if env.get(f"{kind.upper()}_BASE_URL")}
