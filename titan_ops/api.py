"""The library API: load an inventory and a playbook, run, get results back.

Nothing is printed unless a subscriber is passed.
"""

from __future__ import annotations

import os
from pathlib import Path
from datetime import datetime
from typing import Any
from collections.abc import Callable, Iterable, Sequence

from titan_ops.connection.base import ConnectionOptions
from titan_ops.connection.limits import raise_open_file_limit
from titan_ops.engine.events import Subscriber
from titan_ops.connection.address import SESSION_VARIABLE
from titan_ops.engine.options import RunOptions
from titan_ops.engine.results import RunResult
from titan_ops.engine.runner import run_playbook
from titan_ops.inventory import Inventory, load_inventory
from titan_ops.playbook import Playbook, load_playbook
from titan_ops.playbook.model import VarPrompt
from titan_ops.signals import terminate_as_interrupt
from titan_ops.vault import Vault
from titan_ops.redaction import Redactor
from titan_ops.trust import trusted

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
    verbosity: int = 0,
    tags: Sequence[str] = (),
    skip_tags: Sequence[str] = (),
    host_key_checking: bool = True,
    connect_timeout: float = 10.0,
    command_timeout: float | None = None,
    remote_user: str | None = None,
    connection: str | None = None,
    private_key_file: str | None = None,
    remote_port: int | None = None,
    password: str | None = None,
    ssh_args: str | None = None,
    session: bool | None = None,
    become: bool | None = None,
    become_user: str | None = None,
    become_method: str | None = None,
    force_handlers: bool = False,
    error_on_missing_handler: bool = True,
    start_at_task: str | None = None,
    gather_facts: bool = True,
    vault: Vault | None = None,
    ask: Callable[[VarPrompt], str] | None = None,
    secrets: Iterable[str] = (),
    subscribers: Iterable[Subscriber] = (),
    incident: str | None = None,
    incident_dir: PathLike | None = None,
    incident_clock: Callable[[], datetime] | None = None,
    operator: str | None = None,
    cluster: Any = None,
) -> RunResult:
    """Run a playbook and return its :class:`RunResult`.

    ``playbook`` and ``inventory`` are loaded objects or paths; ``extra_vars``
    are authored, as a playbook is (their strings may be templates); ``secrets``
    are values known to be secret (masked in every output, as the run's own). Raises
    :class:`~titan_ops.errors.TitanOpsError` for bad input, before any host
    is touched; host failures are reported in the result, never raised.

    ``cluster`` runs the hosts' connections on a Dask cluster: a scheduler's address
    (``tcp://host:8786``), ``local`` or ``local:N`` (a LocalCluster started for the run), or a
    ``distributed.Client``; :class:`~titan_ops.errors.ClusterError` before any host is touched
    when it cannot be used. The API reads no environment variable for it (the CLI does).

    ``verbosity`` is ansible-playbook's ``-v`` count (a ``debug`` task with a higher ``verbosity`` is skipped).

    ``incident`` records the run in that incident's timeline (in ``incident_dir``), stamped by
    ``incident_clock`` (default: the system clock; the watcher passes its own).

    ``remote_user``, ``connection`` (``ssh`` or ``local``), ``private_key_file``, ``remote_port``,
    ``password``, ``ssh_args`` and ``session`` apply to hosts whose inventory does not set them
    (ansible-playbook's ``-u``, ``-c``, ``--private-key``, ``-k``, ansible.cfg's ``ssh_args``, and
    ``ansible_titan_session``: commands through one shell session per host); ``become``,
    ``become_user`` and ``become_method`` to plays that do not (``-b``, ...). ``gather_facts`` is the
    default of plays that do not say (ansible.cfg's ``gathering = explicit`` makes it False).
    ``error_on_missing_handler=False`` (ansible.cfg's ``error_on_missing_handler``) makes a ``notify:`` of a
    handler the play does not have a warning of its task instead of an error.
    ``vault`` opens vault-encrypted files and values (of the playbook and inventory loaded from paths
    here, and of what the run loads); what it opens is masked in every output. ``ask`` answers
    ``vars_prompt`` (the CLI asks on the terminal; without it a prompt's default answers, and a prompt
    without one is an error before any host is touched).

    Ctrl-C, and SIGTERM where the caller has no handler of its own for it,
    end what runs on the hosts and return the result with ``interrupted`` set.
    """
    if not isinstance(playbook, Playbook):
        playbook = load_playbook(playbook, vault=vault)
    if not isinstance(inventory, Inventory):
        inventory = load_inventory(inventory, vault=vault)
    inventory = inventory.beside_playbook(Path(playbook.path).parent)
    extra_vars = trusted(dict(extra_vars or {}))
    secrets = tuple(secrets)
    subscribers = list(subscribers)
    if incident is not None:
        from titan_ops.incident import IncidentRecorder  # only a run recorded in an incident needs it

        recorder = IncidentRecorder(incident, incident_dir, operator=operator, arguments={
            "extra_vars": Redactor(secrets).scrub(extra_vars), "limit": limit, "check": check, "diff": diff,
            "tags": list(tags), "skip_tags": list(skip_tags)}, clock=incident_clock)
        extra_vars.setdefault("incident_id", incident)
        extra_vars.setdefault("incident_dir", str(recorder.timeline.folder.parent))
        subscribers.append(recorder)
    options = RunOptions(
        forks=forks,
        limit=limit,
        extra_vars=extra_vars,
        check=check,
        diff=diff,
        verbosity=verbosity,
        tags=tuple(tags),
        skip_tags=tuple(skip_tags),
        connection=ConnectionOptions(host_key_checking=host_key_checking, connect_timeout=connect_timeout,
                                     command_timeout=command_timeout),
        cluster=cluster,
        host_defaults=_set({"ansible_user": remote_user, "ansible_connection": connection,
                            "ansible_ssh_private_key_file": private_key_file, "ansible_port": remote_port,
                            "ansible_password": password, "ansible_ssh_args": ssh_args,
                            SESSION_VARIABLE: session}),
        keyword_defaults=_set({"become": become, "become_user": become_user, "become_method": become_method}),
        force_handlers=force_handlers,
        error_on_missing_handler=error_on_missing_handler,
        start_at_task=start_at_task,
        gather_facts=gather_facts,
        vault=vault,
        ask=ask,
        secrets=secrets,
    )
    raise_open_file_limit()
    with terminate_as_interrupt():
        return run_playbook(playbook, inventory, options, subscribers)


def _set(values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that are set (not None)."""
    return {key: value for key, value in values.items() if value is not None}
