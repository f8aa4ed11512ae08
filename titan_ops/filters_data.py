"""Ansible's filters over data structures and choices: ``extract``, ``subelements``, ``zip``,
``zip_longest``, ``split``, ``random``, ``shuffle``, ``from_yaml_all`` and ``fileglob``, with ansible-core
2.19's results and messages."""

from __future__ import annotations

import glob
import itertools
import os.path
import random as randomness
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import yaml

from titan_ops.errors import TemplateError
from titan_ops.yaml_bounds import BoundedSafeLoader


@jinja2.pass_environment
def extract(environment: jinja2.Environment, item: Any, container: Any, morekeys: Any = None) -> Any:
    """``container[item]``, then each of ``morekeys`` (a key or a list of keys) into that; a missing key
    (or an undefined container) gives an undefined value, which ``default`` replaces."""
    keys = [item] + (morekeys if isinstance(morekeys, list) else [] if morekeys is None else [morekeys])
    value = container
    for key in keys:
        value = environment.getitem(value, key)
    return value


@jinja2.pass_environment
def subelements(environment: jinja2.Environment, elements: Any, path: Any,
                skip_missing: bool = False) -> list[tuple[Any, Any]]:
    """Each element of a list of dicts (or of a dict's values) paired with each item of the list found at
    ``path`` in it (a dotted string or a list of keys), as Ansible's ``subelements``; each key is read as
    templates read one, through the sandbox."""
    if isinstance(elements, Mapping):
        items = list(elements.values())
    elif isinstance(elements, list):
        items = list(elements)
    else:
        raise TemplateError("obj must be a list of dicts or a nested dict")
    if isinstance(path, list):
        keys = list(path)
    elif isinstance(path, str):
        keys = path.split(".")
    else:
        raise TemplateError("subelements must be a list or a string")
    pairs = []
    for element in items:
        values = element
        for key in keys:
            if isinstance(values, Mapping) and key not in values:
                if not skip_missing:
                    raise TemplateError(f"could not find {key!r} key in iterated item {values!r}")
                values = []
                break
            values = _item(environment, values, key)
        if not isinstance(values, list):
            raise TemplateError(f"the key {key!r} should point to a list, got {values!r}")
        pairs.extend((element, value) for value in values)
    return pairs


def _item(environment: jinja2.Environment, container: Any, key: Any) -> Any:
    """``container[key]`` read as a template reads it: an item, else an attribute the sandbox allows (one it
    forbids fails with its SecurityError, as in ``map(attribute=...)``); neither fails in ansible's words."""
    found = environment.getitem(container, key)
    if isinstance(found, jinja2.Undefined):
        try:
            found._fail_with_undefined_error()
        except jinja2.UndefinedError:
            raise TemplateError(f"the key {key} should point to a dictionary, got '{container}'") from None
    return found


def zip_lists(*sequences: Any) -> list[list[Any]]:
    """Ansible's ``zip``: the lists' items side by side, as long as the shortest."""
    return [list(items) for items in zip(*sequences)]


def zip_longest(*sequences: Any, fillvalue: Any = None) -> list[list[Any]]:
    """Ansible's ``zip_longest``: the lists' items side by side, the shorter ones filled with ``fillvalue``."""
    return [list(items) for items in itertools.zip_longest(*sequences, fillvalue=fillvalue)]


def split(text: Any, separator: str | None = None, maxsplit: int = -1) -> list[str]:
    """Python's ``str.split`` (Ansible's ``split``)."""
    return str(text).split(separator, maxsplit)


def _chooser(seed: Any) -> randomness.Random:
    """Python's generator seeded with ``seed`` as ansible-core seeds it (the same seed gives the same
    choice), or the system's when there is none."""
    return randomness.SystemRandom() if seed is None else randomness.Random(seed)


def random(end: Any, start: Any = None, step: Any = None, seed: Any = None) -> Any:
    """A number of ``range(start or 0, end, step or 1)`` for an integer, else an item of the sequence."""
    chooser = _chooser(seed)
    if isinstance(end, int):
        return chooser.randrange(start or 0, end, step or 1)
    if hasattr(end, "__iter__"):
        if start or step:
            raise TemplateError("start and step can only be used with integer values")
        return chooser.choice(end if isinstance(end, Sequence) else list(end))
    raise TemplateError("random can only be used on sequences and integers")


def shuffle(items: Any, seed: Any = None) -> Any:
    """The items in a random order (the same for the same ``seed``); a value that is no sequence, as it is."""
    try:
        shuffled = list(items)
    except TypeError:
        return items
    if seed:
        randomness.Random(seed).shuffle(shuffled)
    else:
        randomness.SystemRandom().shuffle(shuffled)
    return shuffled


def from_yaml_all(text: Any) -> Any:
    """Every document of a YAML text, as a list (None: an empty list; a value that is not text, as it is)."""
    if text is None:
        return []
    if not isinstance(text, str):
        return text
    try:
        return list(yaml.load_all(str(text), Loader=BoundedSafeLoader))  # noqa: S506 - a safe loader, bounded
    except yaml.YAMLError as error:
        raise TemplateError(f"from_yaml_all: {error}") from None


def fileglob(pattern: Any) -> list[str]:
    """The controller's files (not folders) matching a shell pattern, as the ``fileglob`` lookup reads them."""
    return [path for path in glob.glob(os.path.expanduser(str(pattern))) if os.path.isfile(path)]


FILTERS = {
    "extract": extract,
    "subelements": subelements,
    "zip": zip_lists,
    "zip_longest": zip_longest,
    "split": split,
    "random": random,
    "shuffle": shuffle,
    "from_yaml_all": from_yaml_all,
    "fileglob": fileglob,
}
