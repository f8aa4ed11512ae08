"""Bounds on a YAML document before it is built: how far its aliases expand and how deep it nests.

A few lines of anchors and aliases can stand for billions of values (the "billion laughs"), an alias can
hold itself, and a document can nest deeper than Python recurses. Each is refused as a
``yaml.constructor.ConstructorError`` marked at the node that crosses the bound, so every loader that
already reports YAML errors with their line and column reports these too.
"""

from __future__ import annotations

from typing import Any

import yaml

from titan_ops.errors import Location

MAX_ALIAS_VALUES = 1_000_000
"""Values that aliases may add to a document (each use of an alias counts every value it stands for)."""
MAX_DEPTH = 100
"""Levels of mappings and lists one inside the other."""


class BoundedConstruction:
    """A loader mixin (put it before the PyYAML loader class) that checks the bounds before constructing."""

    def construct_document(self, node: yaml.Node) -> Any:
        check_bounds(node)
        return super().construct_document(node)  # type: ignore[misc]


class BoundedSafeLoader(BoundedConstruction, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's where available), bounded."""


def check_bounds(root: yaml.Node) -> None:
    """Raise ConstructorError when ``root``'s aliases expand past MAX_ALIAS_VALUES, an alias holds itself,
    or it nests deeper than MAX_DEPTH."""
    sizes, heights = _measure(root)
    if sizes[id(root)] - len(sizes) > MAX_ALIAS_VALUES:
        node = _descend(root, lambda child: sizes[id(child)] > MAX_ALIAS_VALUES)
        raise yaml.constructor.ConstructorError(
            None, None, f"YAML aliases here expand to {sizes[id(node)]} values (more than {MAX_ALIAS_VALUES}): "
                        "refused (an alias bomb?)", node.start_mark)
    if heights[id(root)] > MAX_DEPTH:
        node, depth = root, 1
        while depth <= MAX_DEPTH:
            node = max(_children(node), key=lambda child: heights[id(child)])
            depth += 1
        raise yaml.constructor.ConstructorError(
            None, None, f"nested more than {MAX_DEPTH} levels deep (mappings and lists): refused", node.start_mark)


def unreadable(error: yaml.reader.ReaderError, text: str, file: str) -> tuple[str, Location]:
    """What a reader error (a character YAML does not accept, such as NUL) says, and where it is in ``text``."""
    before = text[:error.position]
    line_start = before.rfind("\n") + 1
    what = f"#x{error.character:04x}" if isinstance(error.character, int) else repr(error.character)
    return (f"unacceptable character {what}: {error.reason}",
            Location(file, before.count("\n") + 1, error.position - line_start + 1))


def too_deep(value: Any) -> list[Any] | None:
    """The path (keys and indexes) to the first value of ``value`` (parsed data: dicts and lists) that nests
    deeper than MAX_DEPTH, or None; without recursion."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            return path
        if isinstance(item, dict):
            stack.extend((child, [*path, key]) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((child, [*path, index]) for index, child in reversed(list(enumerate(item))))
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _measure(root: yaml.Node) -> tuple[dict[int, int], dict[int, int]]:
    """Per node (by id): how many values it stands for with its aliases expanded, and its height; without
    recursion, each node once."""
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        children = _children(node)
        if finished:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            heights[id(node)] = 1 + max((heights[id(child)] for child in children), default=0)
            continue
        if id(node) in sizes:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise yaml.constructor.ConstructorError(None, None, "a YAML alias refers to a value that holds it: "
                                                        "refused", child.start_mark)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes, heights


def _descend(node: yaml.Node, too_big: Any) -> yaml.Node:
    """The innermost node on the way down from ``node`` whose children are each within the bound."""
    while True:
        bigger = next((child for child in _children(node) if too_big(child)), None)
        if bigger is None:
            return node
        node = bigger
