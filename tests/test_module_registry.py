"""The lazy module registry's table agrees with the module classes, so it cannot drift."""

from __future__ import annotations

import importlib
import pkgutil

import titan_ops.modules
from titan_ops.modules import ENTRIES, MODULES, Module, canonical_name, is_module, lookup


def _module_classes() -> set[type[Module]]:
    """Every concrete Module subclass (one that sets ``name``) in titan_ops.modules, all imported."""
    for info in pkgutil.walk_packages(titan_ops.modules.__path__, "titan_ops.modules."):
        importlib.import_module(info.name)
    found, pending = set(), list(Module.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("titan_ops.modules.") and "name" in vars(cls):
            found.add(cls)
    return found


def test_every_entry_names_its_class():
    for name, entry in ENTRIES.items():
        cls = getattr(importlib.import_module(entry.path), entry.class_name)
        assert cls.__module__ == entry.path, f"{name}: {entry.class_name} is defined in {cls.__module__}"
        assert cls.name == name, f"{name}: {entry.path}.{entry.class_name} is called {cls.name!r}"
        assert cls.collection == entry.collection, f"{name}: the class's collection is {cls.collection!r}"


def test_every_module_class_is_in_the_table():
    table = {(entry.path, entry.class_name) for entry in ENTRIES.values()}
    missing = {f"{cls.__module__}.{cls.__qualname__}" for cls in _module_classes()
               if (cls.__module__, cls.__qualname__) not in table}
    assert not missing, f"add to titan_ops.modules.ENTRIES: {sorted(missing)}"


def test_lookup_by_short_and_long_names():
    assert lookup("copy") is MODULES["copy"] is lookup("ansible.builtin.copy") is lookup("ansible.legacy.copy")
    assert lookup("community.postgresql.postgresql_query") is MODULES["postgresql_query"]
    assert canonical_name("ansible.builtin.triage") == "ansible.builtin.triage"  # triage is titan-ops's own
    assert lookup("ansible.builtin.triage") is None and lookup("when") is None
    assert is_module("ansible.builtin.shell") and not is_module("register")
    assert sorted(MODULES) == sorted(ENTRIES) and len(MODULES) == len(ENTRIES)
