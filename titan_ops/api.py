"""The library API: load an inventory and a playbook, run, get results back.

Nothing is printed unless a subscriber is passed.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from titan_ops.connection.base import ConnectionOptions
from titan_ops.engine.events import Subscriber
from titan_ops.engine.options import RunOptions
from titan_ops.engine.results import RunResult
from titan_ops.engine.runner import run_playbook
from titan_ops.inventory import Inventory, load_inventory
from titan_ops.playbook import Playbook, load_playbook

PathLike = str | os.PathLike


def run(
    playbook: Playbook | PathLike,
    inventory: Inventory | PathLike | Sequence[PathLike] | None = None,
    *,
    limit: str | None = None,
    forks: int = 5,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    tags: Sequence[str] = (),
    skip_tags: Sequence[str] = (),
    host_key_checking: bool = True,
    connect_timeout: float = 10.0,
    command_timeout: float | None = None,
    subscribers: Iterable[Subscriber] = (),
) -> RunResult:
    """Run a playbook and return its :class:`RunResult`.

    ``playbook`` and ``inventory`` are loaded objects or paths. Raises
    :class:`~titan_ops.errors.TitanOpsError` for bad input, before any host
    is touched; host failures are reported in the result, never raised.
    """
    if not isinstance(playbook, Playbook):
        playbook = load_playbook(playbook)
    if not isinstance(inventory, Inventory):
        inventory = load_inventory(inventory)
    options = RunOptions(
        forks=forks,
        limit=limit,
        extra_vars=dict(extra_vars or {}),
        check=check,
        diff=diff,
        tags=tuple(tags),
        skip_tags=tuple(skip_tags),
        connection=ConnectionOptions(host_key_checking=host_key_checking, connect_timeout=connect_timeout,
                                     command_timeout=command_timeout),
    )
    return run_playbook(playbook, inventory, options, subscribers)
