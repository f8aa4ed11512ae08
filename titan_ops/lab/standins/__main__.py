"""``python -m titan_ops.lab.standins NAME``: run one stand-in on ``$PORT`` (see the package's docstring)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from . import brain, exchange, execution, simple
from .common import Service, crash_if_looping, load_env_or_exit

BUILDERS: dict[str, Callable[[dict[str, str]], Service]] = {
    "brain": brain.build,
    "execution": execution.build,
    "console": lambda env: simple.health_only("titan-console", env),
    "scavenger": lambda env: simple.health_only("titan-scavenger", env),
    "ai-quant": lambda env: simple.health_only("titan-ai-quant", env),
    "grafana": simple.grafana,
    "exchange": lambda env: exchange.build(exchange.BYBIT, env),
    "exchange-mexc": lambda env: exchange.build(exchange.MEXC, env),
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in BUILDERS:
        print(f"usage: python -m {__package__} {{{','.join(BUILDERS)}}}", file=sys.stderr)
        return 2
    port = int(os.environ.get("PORT", "0"))
    if not port:
        print("PORT is not set", file=sys.stderr)
        return 2
    service = BUILDERS[argv[0]](load_env_or_exit(argv[0]))
    crash_if_looping(service.name)
    service.serve(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
