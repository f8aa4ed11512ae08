"""``--tags`` and ``--skip-tags`` with Ansible's special tags."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable


@dataclass(frozen=True)
class TagFilter:
    """Decides whether a task with given tags runs.

    ``always`` runs unless skipped by name; ``never`` runs only when one of
    its tags is asked for; ``all``, ``tagged`` and ``untagged`` work as in
    Ansible.
    """

    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, tags: Iterable[str] | None, skip_tags: Iterable[str] | None) -> TagFilter:
        return cls(frozenset(_split(tags)), frozenset(_split(skip_tags)))

    def selects(self, tags: Iterable[str]) -> bool:
        tags = set(tags)
        if self.skip:
            if tags & self.skip or ("tagged" in self.skip and tags) or ("untagged" in self.skip and not tags):
                return False
            if "all" in self.skip and "always" not in tags:
                return False
        if "never" in tags and not (tags - {"never"}) & self.only and "never" not in self.only:
            return False
        if not self.only or "all" in self.only:
            return True
        if "always" in tags:
            return True
        if "tagged" in self.only and tags:
            return True
        if "untagged" in self.only and not tags:
            return True
        return bool(tags & self.only)


def tag_variables(tags: Iterable[str] | None, skip_tags: Iterable[str] | None) -> dict[str, list[str]]:
    """``ansible_run_tags`` and ``ansible_skip_tags``: the tags asked for, in order, each once (``all`` when
    ``--tags`` is not given), as ansible-core gives them to every task."""
    return {"ansible_run_tags": list(dict.fromkeys(_split(tags))) or ["all"],
            "ansible_skip_tags": list(dict.fromkeys(_split(skip_tags)))}


def _split(values: Iterable[str] | None) -> list[str]:
    result: list[str] = []
    for value in values or ():
        result.extend(tag.strip() for tag in value.split(",") if tag.strip())
    return result
