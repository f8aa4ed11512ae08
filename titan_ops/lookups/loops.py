"""The items of a task's loop: ``loop:`` (a list) or ``with_<lookup>:`` (the lookup's values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from titan_ops import lookups
from titan_ops.errors import TemplateError

if TYPE_CHECKING:
    from titan_ops.templating import Templar


def loop_items(templar: Templar, loop: Any, lookup: str | None, variables: Mapping[str, Any],
               action: str = "") -> list[Any]:
    """The items ``loop`` gives on a host with ``variables``.

    For ``with_<lookup>`` the value is rendered into the lookup's terms (a value that is not a
    list is the only term) and the lookup runs as the loop of a task running ``action``.
    """
    rendered = templar.render(loop, variables)
    if lookup is None:
        if not isinstance(rendered, list):
            raise TemplateError(f"a loop needs a list, got {type(rendered).__name__}: {rendered!r}", key="loop")
        return rendered
    terms = rendered if isinstance(rendered, list) else [rendered]
    context = lookups.LookupContext(variables, templar, as_loop=True, action=action, on_secret=templar.on_secret)
    return lookups.run(lookup, terms, {}, context)
