"""``loop_control``: its names rendered, and the variables each iteration of a loop gets, as ansible gives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from titan_ops.errors import TemplateError
from titan_ops.filters import to_bool
from titan_ops.templating import Templar


@dataclass(frozen=True)
class LoopControl:
    """The loop's variable (``item``), its index variable, ``label``, ``pause``, ``extended`` (with
    ``extended_allitems``) and ``break_when`` (conditions that end the loop after the item they hold for)."""

    loop_var: str = "item"
    index_var: str | None = None
    label: Any = None
    pause: float = 0.0
    extended: bool = False
    extended_allitems: bool = True
    break_when: list[Any] | None = None

    @classmethod
    def of(cls, control: Mapping[str, Any], templar: Templar, variables: Mapping[str, Any]) -> LoopControl:
        """``control`` with its names rendered (``loop_var: "{{ name }}"``); the label is rendered per item."""
        names = {}
        for key in ("loop_var", "index_var"):
            if control.get(key) is not None:
                name = templar.render(control[key], variables)
                if not isinstance(name, str) or not name.isidentifier():
                    raise TemplateError(f"'{key}' must name a variable, got {name!r}", key=key)
                names[key] = name
        return cls(loop_var=names.get("loop_var", "item"), index_var=names.get("index_var"),
                   label=control.get("label"), pause=float(templar.render(control.get("pause") or 0, variables)),
                   extended=to_bool(templar.render(control.get("extended", False), variables)),
                   extended_allitems=to_bool(templar.render(control.get("extended_allitems", True), variables)),
                   break_when=_conditions(control.get("break_when")))

    def variables(self, items: list[Any], index: int) -> dict[str, Any]:
        """What the iteration over ``items[index]`` sees: the item, its index and, when ``extended``,
        ``ansible_loop``."""
        values: dict[str, Any] = {self.loop_var: items[index], "ansible_loop_var": self.loop_var}
        if self.index_var:
            values[self.index_var] = index
            values["ansible_index_var"] = self.index_var
        if self.extended:
            values["ansible_loop"] = _loop_info(items, index, self.extended_allitems)
        return values


def _conditions(given: Any) -> list[Any] | None:
    """``break_when`` as a list of conditions (None: not given)."""
    if given is None:
        return None
    return list(given) if isinstance(given, list) else [given]


def _loop_info(items: list[Any], index: int, allitems: bool) -> dict[str, Any]:
    """``ansible_loop``: no ``previtem`` on the first item, no ``nextitem`` on the last, ``allitems`` unless
    ``extended_allitems`` is false, as in ansible."""
    length = len(items)
    info = {"index": index + 1, "index0": index, "revindex": length - index, "revindex0": length - index - 1,
            "first": index == 0, "last": index == length - 1, "length": length}
    if allitems:
        info["allitems"] = items
    if index:
        info["previtem"] = items[index - 1]
    if index < length - 1:
        info["nextitem"] = items[index + 1]
    return info
