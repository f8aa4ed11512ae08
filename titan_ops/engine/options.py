"""Run-wide options, passed as arguments: the API reads no global state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from titan_ops.connection.base import ConnectionOptions
from titan_ops.playbook.model import VarPrompt
from titan_ops.vault import Vault


@dataclass(frozen=True)
class RunOptions:
    """How to run a playbook (the CLI builds one from ansible-playbook's options)."""

    forks: int = 5
    limit: str | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    check: bool = False
    diff: bool = False
    verbosity: int = 0
    """ansible-playbook's ``-v`` count: a ``debug`` task with a higher ``verbosity`` is skipped."""
    tags: tuple[str, ...] = ()
    skip_tags: tuple[str, ...] = ()
    connection: ConnectionOptions = field(default_factory=ConnectionOptions)
    cluster: Any = None
    """Where the hosts' connections live: None (this process), a Dask scheduler's address, ``local``
    or ``local:N`` (a LocalCluster of N workers started for the run), or a ``distributed.Client``."""
    host_defaults: dict[str, Any] = field(default_factory=dict)
    """Connection variables (``ansible_user``, ``ansible_connection``, ...) for hosts that do not set them."""
    keyword_defaults: dict[str, Any] = field(default_factory=dict)
    """Play keywords (``become``, ...) for plays that do not set them."""
    force_handlers: bool = False
    """Notified handlers run on hosts that failed too."""
    error_on_missing_handler: bool = True
    """A ``notify:`` of a handler the play does not have is an error (else a warning of its task)."""
    start_at_task: str | None = None
    """The run starts at the first task of this name (tasks before it are not run)."""
    gather_facts: bool = True
    """Whether a play that does not say gathers facts."""
    vault: Vault | None = None
    """The vault passwords; every value they open is masked in every output."""
    ask: Callable[[VarPrompt], str] | None = None
    """How ``vars_prompt`` asks the operator (None: it cannot; defaults answer, see engine.prompts)."""
    secrets: tuple[str, ...] = ()
    """Values known to be secret before the run (a secret store's, given with ``-e @secrets.yml``)."""
