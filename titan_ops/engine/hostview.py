"""The host view: what one host looks like to a task (its variables) and where it is (its address)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import threading
from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from titan_ops.connection import address_from_vars
from titan_ops.connection.address import SshArgsError, is_address
from titan_ops.connection.base import HostAddress
from titan_ops.engine.options import RunOptions
from titan_ops.engine.scope import Scope
from titan_ops.engine.tags import tag_variables
from titan_ops.errors import HostUnreachable, TitanOpsError
from titan_ops.inventory import Inventory, load_inventory
from titan_ops.inventory.model import LOCALHOST_NAMES
from titan_ops.playbook.model import Play
from titan_ops.templating import RenderedOnRead, Templar
from titan_ops.vault import Vault
from titan_ops.vars import HostFacts, HostVars, task_scope

if TYPE_CHECKING:
    from titan_ops.engine.play_state import PlayState

_VARS = frozenset({"vars"})


class HostView:
    """Every host's variables, in Ansible's scopes and precedence, and its connection address.

    What the inventory gives is read once per run, and again after ``add_host`` or ``group_by``
    changed it (they change the run's own copy of the inventory, never the caller's).
    """

    def __init__(self, inventory: Inventory, options: RunOptions, templar: Templar, playbook_dir: str):
        self.inventory = inventory
        self.options = options
        self._local_aliases: dict[str, str] = local_aliases(inventory)
        """The names of the local machine that are no inventory host, and the host each stands for: what the
        run learns of one (facts delegated there) is learned of all, as ``hostvars`` answers to each."""
        self.facts = HostFacts(self._local_aliases)
        """What ``set_fact`` set and ``register`` kept, per host."""
        self.included = HostFacts(self._local_aliases)
        """What ``include_vars`` loaded, per host (below ``set_fact``, as in Ansible)."""
        self.gathered_facts = HostFacts(self._local_aliases)
        """What modules returned as ``ansible_facts`` (``setup``; ``set_fact`` with ``cacheable``), per host:
        Ansible's fact cache, below the play's variables."""
        self.templar = templar
        self.playbook_dir = playbook_dir
        self.groups = inventory.groups()
        self.hostvars = HostVars(inventory.host_names(), self._hostvars_entry)
        self._inventory_vars: dict[str, dict[str, Any]] = {}
        self._group_names: dict[str, list[str]] = {}
        self._addresses: dict[str, HostAddress | None] = {}
        """Each host's own login (under its inventory variables), by host."""
        self._logins: dict[str, HostAddress] = {}
        """Every login a task chose, by the name of its connection (kept for the whole run, as the connections)."""
        self._naming = threading.Lock()
        self._owns_inventory = False
        self._changes: list[Callable[[Inventory], None]] = []
        """What add_host and group_by changed, in order (kept when the inventory is read again)."""
        self._play_magic = self._magic_without_host()

    def add_host(self, name: str, groups: list[str], variables: dict[str, Any]) -> None:
        """``add_host``: the host joins the run's inventory (or is updated there)."""
        self._changes.append(lambda inventory: inventory.add_host(name, groups, variables))
        self._own_inventory().add_host(name, groups, variables)
        self._inventory_changed()

    def add_to_group(self, host: str, group: str, parents: list[str]) -> None:
        """``group_by``: ``host`` joins ``group`` (created under ``parents`` when new)."""
        self._changes.append(lambda inventory: inventory.add_to_group(host, group, parents)
                             if inventory.has_host(host) else None)  # (a host refresh_inventory took out: none)
        self._own_inventory().add_to_group(host, group, parents)
        self._inventory_changed()

    def refresh_inventory(self, vault: Vault | None) -> None:
        """``meta: refresh_inventory``: the inventory read again from its sources, with what add_host and
        group_by added kept (as ansible-core 2.19 keeps it); an inventory made in code, with no sources,
        stays as it is."""
        if self.inventory.sources:
            inventory = load_inventory(list(self.inventory.sources), vault=vault)
            for change in self._changes:
                change(inventory)
            self.inventory = inventory
            self._owns_inventory = True
            self._inventory_changed()

    def gathered(self, host: str, facts: Mapping[str, Any]) -> None:
        """Facts a module gathered on ``host`` (into the fact cache), each also under ``ansible_facts`` without
        its ``ansible_`` prefix (``getent_passwd``, ``ansible_kernel`` as ``ansible_facts.kernel``)."""
        namespace = {**self.gathered_facts.of(host).get("ansible_facts", {})}
        namespace.update({name.removeprefix("ansible_"): value for name, value in facts.items()
                          if name != "ansible_facts"})
        namespace.update(facts.get("ansible_facts", {}))
        self.gathered_facts.update(host, {**facts, "ansible_facts": namespace})

    def clear_gathered_facts(self, host: str) -> None:
        """``meta: clear_facts``: forget the fact cache of ``host`` (set_fact values stay)."""
        self.gathered_facts.clear(host)

    def _own_inventory(self) -> Inventory:
        if not self._owns_inventory:
            self.inventory = self.inventory.copy()
            self._owns_inventory = True
        return self.inventory

    def _inventory_changed(self) -> None:
        self._local_aliases.clear()
        self._local_aliases.update(local_aliases(self.inventory))
        self.groups = self.inventory.groups()
        self.hostvars = HostVars(self.inventory.host_names(), self._hostvars_entry)
        self._inventory_vars = {}
        self._group_names = {}
        self._addresses = {}
        self._play_magic = self._magic_without_host()

    def variables(self, state: PlayState, host: str, scope: Scope, task_vars: dict[str, Any]) -> ChainMap:
        """What a task sees on ``host``, highest precedence first."""
        magic = {**self._play_magic, **state.magic(), "inventory_hostname": host,
                 "inventory_hostname_short": host.split(".")[0], "group_names": self.group_names(host),
                 "ansible_search_path": search_path(scope, state.play.base_dir), **play_role_names(state.play),
                 **role_magic(scope)}
        roles = scope.roles
        variables = task_scope(
            inventory_vars=self.inventory_vars(host),
            play_vars=state.plan.vars_of(host),
            block_vars=scope.block_vars,
            task_vars={**task_vars, **scope.host_vars.get(host, {})},
            facts=self.facts.of(host),
            magic=magic,
            extra_vars=self.options.extra_vars,
            role_defaults=[state.role_defaults, *(role.defaults for role in roles)],
            role_vars=[state.role_vars, *(role.vars for role in roles)],
            role_params=[role.params for role in roles],
            included_vars=self.included.of(host),
            gathered_facts=self.gathered_facts.of(host),
            host_defaults=host_defaults(host),
        )
        magic["vars"] = RenderedOnRead(self.templar, variables, hidden=_VARS)  # every variable by name (ansible's)
        return variables

    def plan_variables(self, host: str, play: Play, play_vars: dict[str, Any]) -> ChainMap:
        """What is known of ``host`` before the run: its inventory, the play's variables, the extra vars."""
        magic = {**self._play_magic, "inventory_hostname": host, "inventory_hostname_short": host.split(".")[0],
                 "group_names": self.group_names(host)}
        return task_scope(inventory_vars=self.inventory_vars(host), play_vars=play_vars, block_vars=[],
                          task_vars={}, facts={}, magic=magic, extra_vars=self.options.extra_vars,
                          role_defaults=[play.role_defaults], role_vars=[play.role_vars],
                          host_defaults=host_defaults(host))

    def play_magic(self) -> dict[str, Any]:
        """The magic variables that need no host."""
        return dict(self._play_magic)

    def _magic_without_host(self) -> dict[str, Any]:
        return {"groups": self.groups, "hostvars": self.hostvars, "ansible_check_mode": self.options.check,
                "ansible_diff_mode": self.options.diff, "playbook_dir": self.playbook_dir,
                "ansible_playbook_python": sys.executable,  # (the controller's Python, as ansible's)
                **tag_variables(self.options.tags, self.options.skip_tags)}

    def inventory_vars(self, host: str) -> dict[str, Any]:
        """What the inventory gives ``host`` (one it does not have, a delegated address: what it gives any)."""
        variables = self._inventory_vars.get(host)
        if variables is None:
            inventory = self.inventory
            variables = self._inventory_vars[host] = (inventory.host_vars(host) if inventory.has_host(host)
                                                      else inventory.implicit_host_vars(host))
        return variables

    def group_names(self, host: str) -> list[str]:
        names = self._group_names.get(host)
        if names is None:
            names = self._group_names[host] = (self.inventory.group_names(host) if self.inventory.has_host(host)
                                               else [])
        return names

    def address(self, host: str, settings: Mapping[str, Any]) -> HostAddress:
        """Where ``host`` (an inventory host, a local name, or else an address) is reached by a run of a task
        that chose the connection ``settings`` there (rendered when read): its connection variables, wherever
        they come from (the inventory, ``set_fact``, play, block and task ``vars``, ``-e``: as in
        ansible-core), then the task's connection keywords (``remote_user``, ...), then the run's defaults
        (``-u``, ``-c``, ...). A login other than the host's own (under its inventory variables) is a
        connection of its own.

        ssh options the variables give that titan-ops cannot honour make the host unreachable (the
        connection cannot be made as asked); the inventory's own are refused before the run."""
        if not (self.inventory.has_host(host) or is_address(host)):
            # never a name lookup of a host the inventory does not know (a typo must not reach a machine)
            raise TitanOpsError(f"delegate_to '{host}' is neither an inventory host nor an address: add it to "
                                "the inventory (with ansible_host) or give its address")
        try:
            address = address_from_vars(host, settings)
        except SshArgsError as error:
            raise HostUnreachable(error.message) from None
        return self._named(address)

    def _named(self, address: HostAddress) -> HostAddress:
        """``address`` under the host's name when it is the host's own login, else under a name of its own:
        one connection per name, one name per login."""
        host = address.name
        login = f"{address.connection} {address.user or ''}@{address.hostname}:{address.port}".replace(" @", " ")
        names = itertools.chain([host] if address == self._own_address(host) else [],
                                (f"{host} ({login}{f' #{number}' if number > 1 else ''})"
                                 for number in itertools.count(1)))
        with self._naming:
            for name in names:
                known = self._logins.setdefault(name, dataclasses.replace(address, name=name))
                if dataclasses.replace(known, name=host) == address:
                    return known
        raise AssertionError("an endless supply of names ran out")

    def _own_address(self, host: str) -> HostAddress | None:
        """The host's login under its inventory variables and the run's defaults (None: they give none)."""
        if host not in self._addresses:
            own = RenderedOnRead(self.templar, self.inventory_vars(host))
            try:
                self._addresses[host] = address_from_vars(host, ChainMap(own, self.options.host_defaults))
            except TitanOpsError:
                self._addresses[host] = None
        return self._addresses[host]

    def learned(self, host: str) -> ChainMap:
        """What the run learned of ``host``, highest precedence first: ``set_fact`` and registered values,
        what ``include_vars`` loaded, the fact cache."""
        return ChainMap(self.facts.of(host), self.included.of(host), self.gathered_facts.of(host))

    def _hostvars_entry(self, host: str) -> Mapping[str, Any]:
        """One host's variables as ``hostvars[host]`` shows them, rendered when read with that host's own
        variables (not those of the task that reads them)."""
        magic = {name: value for name, value in self._play_magic.items() if name != "hostvars"}
        magic.update(inventory_hostname=host, inventory_hostname_short=host.split(".")[0],
                     group_names=self.group_names(host))
        entry = ChainMap(magic, *self.learned(host).maps, self.inventory_vars(host), {"ansible_facts": {}})
        return RenderedOnRead(self.templar, entry, ChainMap(entry, self._play_magic))


def host_defaults(host: str) -> dict[str, Any]:
    """What ``host`` has when no variable sets it: its inventory name as ``ansible_host``, no facts."""
    return {"ansible_host": host, "ansible_facts": {}}


def local_aliases(inventory: Inventory) -> dict[str, str]:
    """Each name of the local machine that is no inventory host, and the host it stands for: the inventory's
    first host named like the local machine, else the implicit ``localhost``."""
    hosts = inventory.host_names()
    local = next((host for host in hosts if host in LOCALHOST_NAMES), "localhost")
    return {name: local for name in LOCALHOST_NAMES if name not in hosts and name != local}


def search_path(scope: Scope, playbook_dir: str) -> list[str]:
    """Where a task's relative files are searched (Ansible's ``ansible_search_path``): its role's
    folder and that role's ``tasks/``, then the playbook's folder."""
    role = scope.role
    if role is None:
        return [playbook_dir]
    return [role.path, os.path.join(role.path, "tasks"), playbook_dir]


def role_magic(scope: Scope) -> dict[str, Any]:
    """``role_name``, ``role_path`` and ``ansible_role_name`` inside a role, and the roles it is in
    (``ansible_parent_role_names``/``_paths``, innermost first); nothing outside one."""
    role = scope.role
    if role is None:
        return {}
    magic: dict[str, Any] = {"role_name": role.name, "role_path": role.path, "ansible_role_name": role.name}
    if len(scope.roles) > 1:
        magic["ansible_parent_role_names"] = [outer.name for outer in reversed(scope.roles[:-1])]
        magic["ansible_parent_role_paths"] = [outer.path for outer in reversed(scope.roles[:-1])]
    return magic


def play_role_names(play: Play) -> dict[str, Any]:
    """The play's role names as ansible gives them: ``ansible_play_role_names`` (and its old name
    ``role_names``), ``ansible_dependent_role_names`` and both together, ``ansible_role_names``."""
    return {"role_names": list(play.role_names), "ansible_play_role_names": list(play.role_names),
            "ansible_dependent_role_names": list(play.dependent_role_names),
            "ansible_role_names": list(dict.fromkeys(play.role_names + play.dependent_role_names))}

