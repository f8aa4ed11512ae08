"""Which text may be a template: trust by origin, decided here and nowhere else.

Text is rendered (``{{ }}``) or evaluated (``when:``) only when the operator
wrote it: playbooks and task files, vars files, inventories with their
``group_vars``/``host_vars``, extra vars, the library API's arguments and
template files. Their loaders mark that text :class:`Authored`. Everything
else is data, however it travels: module results, facts, registered and
``set_fact`` values, what a template renders to, text a host printed, and
text cut out of authored text by code that does not say so (:func:`derived`).
A value can lose trust but never gain it, so a path that forgets the mark
fails closed (a template left as written), never open (host text run as
code). This is ansible-core 2.19's model; ``!unsafe`` (:class:`Unsafe`)
takes authored text out of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


class Authored(str):
    """Text from an authored source: the only text ever rendered or evaluated as a template."""

    __slots__ = ()


class Unsafe(str):
    """Authored text tagged ``!unsafe``: never a template (ansible-inventory shows it as ``__ansible_unsafe``)."""

    __slots__ = ()


def trusted(value: Any) -> Any:
    """``value``, read from an authored source, with its strings marked :class:`Authored` (keys stay as
    they are; :class:`Unsafe` text stays unsafe)."""
    kind = type(value)
    if kind is str:
        return Authored(value)
    if kind is dict or (isinstance(value, Mapping) and kind is not Authored):
        return {key: trusted(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [trusted(item) for item in value]
    return value


def derived(source: Any, value: Any) -> Any:
    """``value``, computed from ``source`` by parsing it (not by rendering it), as trusted as ``source``."""
    return trusted(value) if type(source) is Authored else value


def is_authored(value: Any) -> bool:
    """True for text an authored source holds (the only text that may be a template)."""
    return type(value) is Authored


def construct_authored(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> Authored:
    """The YAML constructor of plain strings in authored files."""
    return Authored(loader.construct_scalar(node))


def construct_unsafe(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
    """The YAML constructor of ``!unsafe``: the string, or every string in the list or mapping (keys aside),
    is data, never a template (as in Ansible)."""
    if isinstance(node, yaml.ScalarNode):
        return Unsafe(loader.construct_scalar(node))
    return _unsafe_inside(loader, node)


def _unsafe_inside(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return [_unsafe_inside(loader, item) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return {loader.construct_object(key, deep=True): _unsafe_inside(loader, value) for key, value in node.value}
    if node.tag in ("tag:yaml.org,2002:str", "!unsafe"):
        return Unsafe(loader.construct_scalar(node))
    return loader.construct_object(node, deep=True)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_str(str(value))


for _dumper in {yaml.SafeDumper, getattr(yaml, "CSafeDumper", yaml.SafeDumper)}:
    _dumper.add_representer(Authored, _represent_text)
    _dumper.add_representer(Unsafe, _represent_text)
