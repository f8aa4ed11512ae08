"""Run-wide options, passed as arguments: the API reads no global state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from titan_ops.connection.base import ConnectionOptions


@dataclass(frozen=True)
class RunOptions:
    """How to run a playbook (the CLI builds one from ansible-playbook's options)."""

    forks: int = 5
    limit: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    check: bool = False
    diff: bool = False
    tags: tuple[str, ...] = ()
    skip_tags: tuple[str, ...] = ()
    connection: ConnectionOptions = field(default_factory=ConnectionOptions)
    cluster: Any = None
    """Where the hosts' connections live: None (this process), a Dask scheduler's address, ``local``
    or ``local:N`` (a LocalCluster of N workers started for the run), or a ``distributed.Client``."""
