"""Variable scopes and their precedence, as Ansible resolves them.

Lowest to highest: role defaults, inventory (group then host vars), play
vars and vars_files, role vars, block vars (outer to inner), task vars,
include_vars, facts set by set_fact and registered results, role parameters,
magic variables, extra vars.
"""

from __future__ import annotations

import threading
from collections import ChainMap
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from collections.abc import Callable

from titan_ops.inventory.model import LOCALHOST_NAMES


class HostFacts:
    """Per-host variables created during the run (set_fact and register). A name in ``aliases`` stands for
    another host (a name of the local machine for the local host): its variables are that host's."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self._facts: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._aliases = aliases

    def of(self, host: str) -> dict[str, Any]:
        with self._lock:
            return self._facts.setdefault(self._aliases.get(host, host), {})

    def update(self, host: str, values: Mapping[str, Any]) -> None:
        with self._lock:
            self._facts.setdefault(self._aliases.get(host, host), {}).update(values)

    def clear(self, host: str) -> None:
        with self._lock:
            self._facts.setdefault(self._aliases.get(host, host), {}).clear()


class HostVars(Mapping):
    """The ``hostvars`` magic variable: every host's variables, built on demand (each renders its own
    templates when read: see ``templating.renders_on_read``). A name of the local machine (``localhost``,
    ``127.0.0.1``, ``::1``) is a host of every inventory (ansible's implicit localhost), though not one of
    its hosts when iterated."""

    renders_on_read = True

    def __init__(self, host_names: list[str], build: Callable[[str], Mapping[str, Any]]):
        self._names = host_names
        self._build = build

    def __getitem__(self, host: str) -> Mapping[str, Any]:
        if host not in self._names and host not in LOCALHOST_NAMES:
            raise KeyError(host)
        return self._build(host)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def task_scope(
    *,
    inventory_vars: Mapping[str, Any],
    play_vars: Mapping[str, Any],
    block_vars: list[Mapping[str, Any]],
    task_vars: Mapping[str, Any],
    facts: Mapping[str, Any],
    magic: Mapping[str, Any],
    extra_vars: Mapping[str, Any],
    role_defaults: Sequence[Mapping[str, Any]] = (),
    role_vars: Sequence[Mapping[str, Any]] = (),
    role_params: Sequence[Mapping[str, Any]] = (),
    included_vars: Mapping[str, Any] | None = None,
    gathered_facts: Mapping[str, Any] | None = None,
    host_defaults: Mapping[str, Any] | None = None,
) -> ChainMap:
    """The variables a task sees on one host, highest precedence first.

    Role layers come outermost first (a role's dependency before the role): ``role_defaults`` are
    below the inventory, ``role_vars`` above the play's vars and vars_files, ``role_params`` above
    ``set_fact``; ``included_vars`` (``include_vars``) sit between task vars and ``set_fact``;
    ``gathered_facts`` (the fact cache) between the inventory and the play's vars;
    ``host_defaults`` come last: what a host has when no variable sets it (``ansible_host`` is the
    inventory name, ``ansible_facts`` is empty before any fact is gathered). The scopes are chained,
    not copied (this runs per host per task); nothing writes to the chain.
    """
    return ChainMap(extra_vars, magic, *reversed(role_params), facts,  # type: ignore[arg-type]
                    *([included_vars] if included_vars else []), task_vars, *reversed(block_vars),
                    *reversed(role_vars), play_vars, *([gathered_facts] if gathered_facts else []),
                    inventory_vars, *reversed(role_defaults),
                    *([host_defaults] if host_defaults else []))
