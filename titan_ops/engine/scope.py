"""What enclosing plays, blocks and includes pass down to the tasks inside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, RoleScope


@dataclass
class Scope:
    """Keywords, variables, conditions and tags a task inherits, and whether a ``rescue`` encloses it."""

    keywords: dict[str, Any] = field(default_factory=dict)
    block_vars: list[dict[str, Any]] = field(default_factory=list)
    when: list[Any] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    rescuable: bool = False
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: list[RoleScope] = field(default_factory=list)
    """The roles the task is in, outermost first (a role's dependencies run outside it)."""
    handler: bool = False
    """Inside a handler: tags do not select its tasks, and they show as handlers."""

    notify: list[str] = field(default_factory=list)
    """The handlers a task notifies when it names none (an enclosing block's ``notify``)."""
    forced: bool = False
    """Inside a handler that ``force_handlers`` runs: hosts that failed before it run it too."""
    caught: bool = False
    """A block around it has a ``rescue`` or an ``always`` still to run for a host that fails here."""

    def enter(self, item: Block | IncludeTasks | IncludeRole, rescuable: bool = False,
              host_vars: dict[str, dict[str, Any]] | None = None, caught: bool = False) -> Scope:
        """The scope inside ``item``; ``host_vars`` are per-host variables of an include's iteration;
        ``caught``: the block's ``rescue`` or ``always`` follows a failure here.

        A block's keywords, conditions and tags hold for every task inside it; an include's keywords hold for
        the include itself only (its ``vars`` are its tasks' too; ``apply`` gives them keywords), as in
        ansible: its conditions were decided once, when it ran, and its tags select it alone.
        """
        if not isinstance(item, Block):
            return Scope(self.keywords, self.block_vars + [item.vars], self.when, self.tags, self.rescuable,
                         host_vars or self.host_vars, self.roles, self.handler, self.notify, self.forced, self.caught)
        keywords = merge_keywords(self.keywords, item.keywords)
        roles = self.roles + [item.role] if item.role else self.roles
        return Scope(keywords, self.block_vars + [item.vars], self.when + item.when, self.tags + item.tags,
                     self.rescuable or rescuable, host_vars or self.host_vars, roles, self.handler,
                     item.notify or self.notify, self.forced, self.caught or caught)

    @property
    def role(self) -> RoleScope | None:
        """The innermost role, whose task this is."""
        return self.roles[-1] if self.roles else None


def merge_keywords(outer: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    """Inner keywords win, except ``environment``, which is merged as in Ansible (outer first: a list of its
    parts, each a mapping or a template, merged once rendered)."""
    merged = {**outer, **inner}
    if outer.get("environment") is not None and inner.get("environment") is not None:
        merged["environment"] = [*_parts(outer["environment"]), *_parts(inner["environment"])]
    return merged


def _parts(environment: Any) -> list[Any]:
    return list(environment) if isinstance(environment, list) else [environment]
