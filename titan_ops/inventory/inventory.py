"""The public inventory: hosts, groups, variables and patterns, answered as Ansible answers them."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from titan_ops.errors import InventoryError
from titan_ops.inventory import render
from titan_ops.inventory.model import LOCALHOST_NAMES, Host, InventoryData
from titan_ops.inventory.patterns import HostMatcher
from titan_ops.inventory.sources import Sources, read_sources
from titan_ops.inventory.variables import Variables
from titan_ops.inventory.vars_files import VarsFiles
from titan_ops.vault import Vault


def load_inventory(sources: Sources, vault: Vault | None = None) -> Inventory:
    """Read inventory sources: YAML or INI files, directories of them, or ``host1,host2,`` lists.

    ``None`` gives an empty inventory (only the implicit ``localhost``). Vault-encrypted files and
    ``!vault`` values are opened with ``vault`` (without one, ``!vault`` values stay encrypted).
    Raises InventoryError, naming the file and line, on a bad source.
    """
    found = read_sources(sources, vault)
    files = VarsFiles(found.vars_directories, vault)
    files.read_all(found.data.groups, found.data.hosts)
    return Inventory(found.data, files, found.warnings, found.names)


class Inventory:
    """A loaded inventory; every answer is the one ansible-core gives for the same sources.

    Only a run's own copy (:meth:`copy`) is changed, by ``add_host`` and ``group_by``.
    """

    def __init__(self, data: InventoryData, files: VarsFiles, warnings: Sequence[str] = (),
                 sources: Sequence[str] = ()) -> None:
        self._data = data
        self._variables = Variables(data, files)
        self._matcher = HostMatcher(data)
        self.warnings: tuple[str, ...] = tuple(warnings)
        """What Ansible would warn of while reading the sources (skipped entries)."""
        self.sources: tuple[str, ...] = tuple(sources)

    def beside_playbook(self, folder: Path) -> Inventory:
        """This inventory with the ``group_vars/`` and ``host_vars/`` of the playbook's ``folder`` too, above
        those of its own sources (as ansible-core reads them); itself when the folder is one of its sources'."""
        known = self._variables.files
        if any(os.path.realpath(directory) == os.path.realpath(folder) for directory in known.directories):
            return self
        files = VarsFiles([*known.directories, Path(folder)], known.vault)
        files.read_all(self._data.groups, [*self._data.hosts, *LOCALHOST_NAMES])
        return Inventory(self._data, files, self.warnings, self.sources)

    def host_names(self) -> list[str]:
        """Every host, in Ansible's order (``ansible all --list-hosts``)."""
        return [host.name for host in self._data.group_hosts(self._data.groups["all"])]

    def has_host(self, name: str) -> bool:
        """Whether ``name`` is a host of the inventory, or a name of the (implicit) local host."""
        return name in self._data.hosts or name in LOCALHOST_NAMES

    def host_vars(self, name: str) -> dict[str, Any]:
        """The merged variables of one host, as ``ansible-inventory --host NAME`` prints them."""
        return copy.deepcopy(self._variables.host_vars(self._host(name)))

    def implicit_host_vars(self, name: str) -> dict[str, Any]:
        """What the inventory gives a host it does not have (an address a task is delegated to), as
        ansible-core gives its implicit host: the ``all`` group's variables and a ``host_vars`` file of that name."""
        return copy.deepcopy(self._variables.host_vars(Host(name)))

    def list_hosts(self, pattern: str | Sequence[str] = "all", limit: str | None = None) -> list[str]:
        """The hosts a play with ``hosts: pattern`` run with ``--limit limit`` targets, in Ansible's order.

        Raises InventoryError on a bad pattern (an invalid regex, a lone
        ``!``) or a limit file that cannot be read.
        """
        return [host.name for host in self._matcher.hosts(pattern, limit)]

    def group_names(self, host: str) -> list[str]:
        """The ``group_names`` variable: the host's groups and their ancestors, sorted, without ``all``."""
        return sorted(group.name for group in self._data.groups_of(self._host(host)) if group.name != "all")

    def groups(self) -> dict[str, list[str]]:
        """The ``groups`` variable: every group (``all`` and ``ungrouped`` too) and its hosts."""
        return {name: [host.name for host in self._data.group_hosts(group)]
                for name, group in self._data.groups.items()}

    def to_list_json(self, limit: str | None = None) -> dict[str, Any]:
        """What ``ansible-inventory --list [--limit LIMIT]`` prints, as parsed JSON."""
        return render.list_json(self._data, self._variables, self._matcher.hosts("all", limit))

    def to_list_yaml(self, limit: str | None = None) -> dict[str, Any]:
        """What ``ansible-inventory --list --yaml [--limit LIMIT]`` prints, as parsed YAML."""
        return render.list_yaml(self._data, self._variables, self._matcher.hosts("all", limit))

    def graph(self, group: str = "all", with_vars: bool = False) -> str:
        """The group tree as ``ansible-inventory --graph [GROUP] [--vars]`` draws it."""
        if group not in self._data.groups:
            raise InventoryError(f"no group named '{group}' to graph")
        return render.graph(self._data.groups[group], self._variables, with_vars)

    def copy(self) -> Inventory:
        """An independent copy, for a run that adds hosts and groups (its variables files are shared)."""
        return Inventory(copy.deepcopy(self._data), self._variables.files, self.warnings, self.sources)

    def add_host(self, name: str, groups: Sequence[str], variables: dict[str, Any]) -> None:
        """Add host ``name`` (or update it) in ``groups``, with ``variables`` over its inline ones."""
        host = self._data.add_host(name)
        for group in groups:
            self._data.add_host(name, group)
        host.vars.update(variables)
        self._changed()

    def add_to_group(self, host: str, group: str, parents: Sequence[str]) -> None:
        """Put ``host`` in ``group``, created under ``parents`` when new."""
        created = group not in self._data.groups
        self._data.add_host(self._host(host).name, group)
        if created:
            for parent in parents:
                self._data.add_child(parent, group)
        self._changed()

    def _changed(self) -> None:
        self._data.finish()
        self._matcher = HostMatcher(self._data)

    def _host(self, name: str) -> Host:
        if name in self._data.hosts:
            return self._data.hosts[name]
        if name in LOCALHOST_NAMES:
            return self._data.localhost(name)
        raise InventoryError(f"no host named '{name}' in the inventory")
