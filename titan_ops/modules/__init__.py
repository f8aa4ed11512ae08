"""The module registry: short names and their Ansible long names
(``ansible.builtin.copy``, ``community.postgresql.postgresql_query``)."""

from __future__ import annotations

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.checks import Assert, Fail
from titan_ops.modules.command import Command, Shell
from titan_ops.modules.controller import Debug, SetFact
from titan_ops.modules.evidence import Evidence
from titan_ops.modules.files import FILE_MODULES
from titan_ops.modules.meta import Meta
from titan_ops.modules.pause import Pause
from titan_ops.modules.pm2 import Pm2
from titan_ops.modules.postgresql import PostgresqlDb, PostgresqlQuery
from titan_ops.modules.service import Service
from titan_ops.modules.setup import Setup
from titan_ops.modules.triage import Triage
from titan_ops.modules.uri import Uri
from titan_ops.modules.wait_for import WaitFor

_ALL: tuple[Module, ...] = (
    Command(),
    Shell(),
    Debug(),
    SetFact(),
    Meta(),
    Setup(),
    Assert(),
    Fail(),
    WaitFor(),
    Pause(),
    Uri(),
    Triage(),
    Evidence(),
    Pm2(),
    Service(),
    PostgresqlQuery(),
    PostgresqlDb(),
    *FILE_MODULES,
)

MODULES: dict[str, Module] = {module.name: module for module in _ALL}

_LONG_NAMES: dict[str, str] = {
    f"{prefix}.{module.name}": module.name
    for module in _ALL if module.collection
    for prefix in ({module.collection, "ansible.legacy"} if module.collection == "ansible.builtin"
                   else {module.collection})
}


def long_name(module: Module) -> str | None:
    """The module's Ansible long name, or None when Ansible has no such module."""
    return f"{module.collection}.{module.name}" if module.collection else None


def canonical_name(name: str) -> str:
    """``ansible.builtin.copy`` -> ``copy``; other names are returned as given."""
    return _LONG_NAMES.get(name, name)


def lookup(name: str) -> Module | None:
    """The module called ``name`` (short or prefixed), or None."""
    return MODULES.get(canonical_name(name))


def bypasses_host_loop(name: str) -> bool:
    """True for modules that run once per batch rather than once per host."""
    module = lookup(name)
    return module is not None and module.once_per_batch


def shows_result(name: str) -> bool:
    """True for modules whose result the console prints without -v."""
    module = lookup(name)
    return module is not None and module.shows_result


def is_module(name: str) -> bool:
    return lookup(name) is not None


__all__ = ["Decision", "HostContext", "Module", "MODULES", "canonical_name", "is_module", "lookup"]
