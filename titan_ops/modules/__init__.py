"""The module registry: short names and their ``ansible.builtin.`` aliases."""

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

_BUILTIN_PREFIXES = ("ansible.builtin.", "ansible.legacy.")

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


def canonical_name(name: str) -> str:
    """``ansible.builtin.copy`` -> ``copy``; other names are returned as given."""
    for prefix in _BUILTIN_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


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
