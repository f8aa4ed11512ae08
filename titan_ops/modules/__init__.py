"""The module registry: short names and their Ansible long names
(``ansible.builtin.copy``, ``community.postgresql.postgresql_query``).

A module's code is imported the first time the module is looked up, so a
run imports only the modules its playbooks use. ``tests/test_module_registry.py``
checks that :data:`ENTRIES` agrees with the classes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from titan_ops.modules.base import Decision, HostContext, Module


class Entry(NamedTuple):
    """Where a module's class is, and the Ansible collection it matches (its ``collection``)."""

    collection: str | None
    path: str
    class_name: str


_BUILTIN = "ansible.builtin"
_POSTGRESQL = "community.postgresql"

ENTRIES: dict[str, Entry] = {
    "command": Entry(_BUILTIN, "titan_ops.modules.command", "Command"),
    "shell": Entry(_BUILTIN, "titan_ops.modules.command", "Shell"),
    "debug": Entry(_BUILTIN, "titan_ops.modules.controller", "Debug"),
    "set_fact": Entry(_BUILTIN, "titan_ops.modules.controller", "SetFact"),
    "set_stats": Entry(_BUILTIN, "titan_ops.modules.stats", "SetStats"),
    "include_vars": Entry(_BUILTIN, "titan_ops.modules.include_vars", "IncludeVars"),
    "meta": Entry(_BUILTIN, "titan_ops.modules.meta", "Meta"),
    "ping": Entry(_BUILTIN, "titan_ops.modules.ping", "Ping"),
    "raw": Entry(_BUILTIN, "titan_ops.modules.raw", "Raw"),
    "script": Entry(_BUILTIN, "titan_ops.modules.script", "Script"),
    "user": Entry(_BUILTIN, "titan_ops.modules.accounts", "User"),
    "group": Entry(_BUILTIN, "titan_ops.modules.accounts", "Group"),
    "add_host": Entry(_BUILTIN, "titan_ops.modules.inventory_changes", "AddHost"),
    "group_by": Entry(_BUILTIN, "titan_ops.modules.inventory_changes", "GroupBy"),
    "setup": Entry(_BUILTIN, "titan_ops.modules.setup", "Setup"),
    "gather_facts": Entry(_BUILTIN, "titan_ops.modules.setup", "GatherFacts"),
    "getent": Entry(_BUILTIN, "titan_ops.modules.getent", "Getent"),
    "assert": Entry(_BUILTIN, "titan_ops.modules.checks", "Assert"),
    "fail": Entry(_BUILTIN, "titan_ops.modules.checks", "Fail"),
    "validate_argument_spec": Entry(_BUILTIN, "titan_ops.modules.argument_spec", "ValidateArgumentSpec"),
    "wait_for": Entry(_BUILTIN, "titan_ops.modules.wait_for", "WaitFor"),
    "wait_for_connection": Entry(_BUILTIN, "titan_ops.modules.wait_for_connection", "WaitForConnection"),
    "reboot": Entry(_BUILTIN, "titan_ops.modules.reboot", "Reboot"),
    "pause": Entry(_BUILTIN, "titan_ops.modules.pause", "Pause"),
    "uri": Entry(_BUILTIN, "titan_ops.modules.uri.module", "Uri"),
    "triage": Entry(None, "titan_ops.modules.triage", "Triage"),
    "evidence": Entry(None, "titan_ops.modules.evidence", "Evidence"),
    "incident_decision": Entry(None, "titan_ops.modules.decision", "IncidentDecision"),
    "incident_steps": Entry(None, "titan_ops.modules.incident_steps", "IncidentSteps"),
    "pm2": Entry(None, "titan_ops.modules.pm2", "Pm2"),
    "service": Entry(_BUILTIN, "titan_ops.modules.service", "Service"),
    "service_facts": Entry(_BUILTIN, "titan_ops.modules.service_facts", "ServiceFacts"),
    "systemd_service": Entry(_BUILTIN, "titan_ops.modules.systemd_service", "SystemdService"),
    "postgresql_query": Entry(_POSTGRESQL, "titan_ops.modules.postgresql.query", "PostgresqlQuery"),
    "postgresql_db": Entry(_POSTGRESQL, "titan_ops.modules.postgresql.db", "PostgresqlDb"),
    "copy": Entry(_BUILTIN, "titan_ops.modules.files.copy", "Copy"),
    "template": Entry(_BUILTIN, "titan_ops.modules.files.template", "Template"),
    "file": Entry(_BUILTIN, "titan_ops.modules.files.file", "File"),
    "stat": Entry(_BUILTIN, "titan_ops.modules.files.stat", "Stat"),
    "find": Entry(_BUILTIN, "titan_ops.modules.files.find", "Find"),
    "lineinfile": Entry(_BUILTIN, "titan_ops.modules.files.lineinfile", "LineInFile"),
    "replace": Entry(_BUILTIN, "titan_ops.modules.files.replace", "Replace"),
    "blockinfile": Entry(_BUILTIN, "titan_ops.modules.files.blockinfile", "BlockInFile"),
    "fetch": Entry(_BUILTIN, "titan_ops.modules.files.fetch", "Fetch"),
    "tempfile": Entry(_BUILTIN, "titan_ops.modules.files.tempfile", "TempFile"),
    "slurp": Entry(_BUILTIN, "titan_ops.modules.files.slurp", "Slurp"),
    "assemble": Entry(_BUILTIN, "titan_ops.modules.files.assemble", "Assemble"),
    "unarchive": Entry(_BUILTIN, "titan_ops.modules.files.unarchive", "Unarchive"),
    "known_hosts": Entry(_BUILTIN, "titan_ops.modules.files.known_hosts", "KnownHosts"),
    "async_status": Entry(_BUILTIN, "titan_ops.modules.jobs", "AsyncStatus"),
    "get_url": Entry(_BUILTIN, "titan_ops.modules.get_url", "GetUrl"),
    "apt": Entry(_BUILTIN, "titan_ops.modules.packages.apt", "Apt"),
    "dnf": Entry(_BUILTIN, "titan_ops.modules.packages.dnf", "Dnf"),
    "package": Entry(_BUILTIN, "titan_ops.modules.packages.package", "Package"),
    "package_facts": Entry(_BUILTIN, "titan_ops.modules.packages.facts", "PackageFacts"),
}
"""Every module by short name."""

GATHERS_FACTS = frozenset({"setup", "gather_facts", "getent", "package_facts", "service_facts"})
"""The modules whose ``ansible_facts`` go to the host's fact cache (as ansible-core's fact modules)."""

ALIASES: dict[str, str] = {"systemd": "systemd_service"}
"""Other short names of modules (Ansible's module redirects), by the name they stand for."""


class _Registry(Mapping[str, Module]):
    """One instance of each module by short name; a module's code is imported on first access."""

    def __init__(self) -> None:
        self._loaded: dict[str, Module] = {}

    def __getitem__(self, name: str) -> Module:
        module = self._loaded.get(name)
        if module is None:
            entry = ENTRIES[name]
            module = getattr(importlib.import_module(entry.path), entry.class_name)()
            module = self._loaded.setdefault(name, module)  # two threads' first lookups keep one instance
        return module

    def __contains__(self, name: object) -> bool:
        return name in ENTRIES

    def __iter__(self) -> Iterator[str]:
        return iter(ENTRIES)

    def __len__(self) -> int:
        return len(ENTRIES)


MODULES: Mapping[str, Module] = _Registry()

_LONG_NAMES: dict[str, str] = {
    f"{prefix}.{alias}": name
    for alias, name in [*((name, name) for name in ENTRIES), *ALIASES.items()] if ENTRIES[name].collection
    for prefix in ((_BUILTIN, "ansible.legacy") if ENTRIES[name].collection == _BUILTIN
                   else (ENTRIES[name].collection,))
} | ALIASES


def long_name(module: Module) -> str | None:
    """The module's Ansible long name, or None when Ansible has no such module."""
    return f"{module.collection}.{module.name}" if module.collection else None


def aliases(module: Module) -> list[str]:
    """The module's other names, short and long (``systemd``, ``ansible.builtin.systemd``)."""
    return [name for alias, target in ALIASES.items() if target == module.name
            for name in (alias, *((f"{module.collection}.{alias}",) if module.collection else ()))]


def canonical_name(name: str) -> str:
    """``ansible.builtin.copy`` -> ``copy``, ``systemd`` -> ``systemd_service``; other names are returned
    as given."""
    return _LONG_NAMES.get(name, name)


def lookup(name: str) -> Module | None:
    """The module called ``name`` (short or prefixed), or None."""
    name = canonical_name(name)
    return MODULES[name] if name in ENTRIES else None


def bypasses_host_loop(name: str) -> bool:
    """True for modules that run once per batch rather than once per host."""
    module = lookup(name)
    return module is not None and module.once_per_batch


def shows_result(name: str) -> bool:
    """True for modules whose result the console prints without -v."""
    module = lookup(name)
    return module is not None and module.shows_result


def is_module(name: str) -> bool:
    """True when ``name`` (short or prefixed) is a module; imports nothing."""
    return canonical_name(name) in ENTRIES


__all__ = ["Decision", "HostContext", "Module", "MODULES", "aliases", "canonical_name", "is_module", "lookup"]
