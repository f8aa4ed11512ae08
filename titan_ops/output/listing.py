"""What ``--list-hosts``, ``--list-tasks`` and ``--list-tags`` print, as ansible-playbook prints it.

Nothing runs: the playbook is loaded (its roles and imports inlined), the inventory read. A task
is listed with every tag it inherits; ``--list-tasks`` shows the tasks ``--tags``/``--skip-tags``
select (all of them along with ``--list-tags``, as Ansible does), an ``include_tasks``/``include_role``
as itself (what it includes is known only when it runs).
"""

from __future__ import annotations

from collections.abc import Iterator

from titan_ops.engine.tags import TagFilter
from titan_ops.inventory import Inventory
from titan_ops.playbook.model import Block, IncludeRole, IncludeTasks, Playbook, TaskItem


def listing(playbook: Playbook, inventory: Inventory, limit: str | None, tag_filter: TagFilter, hosts: bool,
            tasks: bool, tags: bool) -> str:
    """The listing of ``playbook`` with the parts asked for."""
    lines = ["", f"playbook: {playbook.path}"]
    for number, play in enumerate(playbook.plays, start=1):
        lines += ["", f"  play #{number} ({play.hosts}): {play.name}\tTAGS: [{', '.join(play.tags)}]"]
        if hosts:
            matched = inventory.list_hosts(play.hosts, limit)
            lines += [f"    pattern: {[play.hosts]!r}", f"    hosts ({len(matched)}):"]
            lines += [f"      {host}" for host in matched]
        entries = list(_tasks(play.pre_tasks + play.tasks + play.post_tasks, list(play.tags)))
        if tasks:
            lines.append("    tasks:")
            lines += [f"      {name}\tTAGS: [{', '.join(sorted(set(found)))}]" for name, found in entries
                      if tags or tag_filter.selects(found)]
        if tags:
            every = sorted({tag for _, found in entries for tag in found})
            lines.append(f"      TASK TAGS: [{', '.join(every)}]")
    return "\n".join(lines) + "\n"


def _tasks(items: list[TaskItem], inherited: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Each task's name (``include_*`` as such) and every tag it has, inherited ones too."""
    for item in items:
        tags = inherited + item.tags
        if isinstance(item, Block):
            yield from _tasks(item.block + item.rescue + item.always, tags)
        elif isinstance(item, (IncludeTasks, IncludeRole)):
            yield item.name or item.action, tags
        else:  # a role's named task as ``role : name``, as ansible-core lists it
            yield (item.display_name if item.name else item.action or item.module), tags
