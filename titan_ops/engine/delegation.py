"""Where each run of a task goes (each loop item's too): the host ``delegate_to`` names, rendered with that
run's variables, or the task's own host; and the connection there, chosen by that run's variables as
ansible-core chooses it: the task's own (``set_fact``, play, block and task ``vars`` included), or the
delegated host's (``ansible_delegated_vars``, which hold the task's ``vars`` too), then the task's connection
keywords, then the run's defaults; their ``ansible_become`` and ``ansible_become_user`` win over the task's
``become`` keywords. A connection plugin ansible-core would not find fails every run, as there."""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from titan_ops.connection.address import ANSIBLE_CONNECTION_PLUGINS
from titan_ops.connection.base import Connection
from titan_ops.errors import TemplateError, TitanOpsError
from titan_ops.playbook import play_values
from titan_ops.templating import OMIT, RenderedOnRead, Templar, holds_template

Connect = Callable[[str, Mapping[str, Any]], Connection]
"""The connection to a host made of what a run chose for it (rendered when read): its connection variables
there, then the task's connection keywords, then the run's defaults."""

CONNECTION_SETTINGS = (
    "ansible_connection", "ansible_module_compression", "ansible_shell_type", "ansible_shell_executable",
    "ansible_ssh_host", "ansible_host", "ansible_ssh_user", "ansible_user", "ansible_ssh_pass", "ansible_password",
    "ansible_ssh_port", "ansible_port", "ansible_ssh_pipelining", "ansible_pipelining", "ansible_ssh_timeout",
    "ansible_timeout", "ansible_ssh_private_key_file", "ansible_private_key_file", "ansible_network_os",
    "ansible_connection_user", "ansible_ssh_executable", "ansible_ssh_common_args", "ansible_sftp_extra_args",
    "ansible_scp_extra_args", "ansible_ssh_extra_args", "ansible_ssh_transfer_method", "ansible_docker_extra_args",
    "ansible_become", "ansible_become_method", "ansible_become_user", "ansible_become_password",
    "ansible_become_pass", "ansible_become_exe", "ansible_become_flags",
)
"""The variables ansible-core renders into the connection settings of every task that runs on its own host
(its play context), whether the task connects or not: one that cannot be rendered fails the task."""
_SETTING_NAMES = set(CONNECTION_SETTINGS)
"""(a set: ``dict.keys() & set`` looks up the smaller side's keys in the larger)"""


@dataclass(frozen=True)
class RunTarget:
    """Where one run of a task goes, and how it connects there."""

    delegated_host: str | None
    """The host ``delegate_to`` named, or None: the task's own."""
    variables: Mapping[str, Any]
    """The run's variables (a delegated run's with ``ansible_delegated_vars``)."""
    connection_variables: Mapping[str, Any]
    """The target host's variables as the run sees them, rendered when read."""
    connect: Callable[[], Connection]
    become: bool | None
    """``ansible_become`` of the connection variables (None: the ``become`` keyword decides)."""
    become_user: str | None
    """``ansible_become_user`` of the connection variables (None: the ``become_user`` keyword decides)."""


class Targets:
    """Where the runs of a playbook's tasks go, and how they connect there."""

    def __init__(self, templar: Templar, connect: Connect, plugins: frozenset[str]):
        self.templar = templar
        self.connect = connect
        self.plugins = plugins
        """Every connection plugin name ansible-core finds for the playbook (see :func:`connection_plugins`)."""

    def resolve(self, host: str, delegate_to: Any, variables: Mapping[str, Any], fallbacks: Mapping[str, Any],
                delegated_variables: Callable[[str], Mapping[str, Any]]) -> RunTarget:
        """Where the run of a task on ``host`` with ``variables`` goes: the host its ``delegate_to`` (a template,
        or None) names, whose variables the task sees there as ``delegated_variables`` gives them, or ``host``;
        connected by the connection variables there, then ``fallbacks`` (the connection variables the task's
        keywords give, then the run's defaults). TitanOpsError when its connection settings cannot be made."""
        name = None if delegate_to is None else self.templar.render(delegate_to, variables)
        if name is None or name == OMIT:  # ansible: no delegation
            return self._target(None, host, variables, self._own_settings(variables), fallbacks)
        if not isinstance(name, str) or not name:
            raise TemplateError(f"Empty hostname produced from delegate_to: {delegate_to!r}", key="delegate_to")
        seen = RenderedOnRead(self.templar, ChainMap({"inventory_hostname": host}, delegated_variables(name)))
        overlay: dict[str, Any] = {"ansible_delegated_vars": {name: seen}}
        if variables.get("ansible_host") == host:  # as ansible: a host without an address of its own shows
            overlay["ansible_host"] = seen.get("ansible_host", name)  # the delegated host's
        return self._target(name, name, ChainMap(overlay, variables), seen, fallbacks)

    def _target(self, delegated: str | None, host: str, variables: Mapping[str, Any], seen: Mapping[str, Any],
                fallbacks: Mapping[str, Any]) -> RunTarget:
        settings = ChainMap(seen, fallbacks)
        self._check_plugin(settings.get("ansible_connection", "ssh"))
        return RunTarget(delegated, variables, seen, lambda: self.connect(host, settings), *_become(seen))

    def _check_plugin(self, name: Any) -> None:
        """TitanOpsError, in ansible-core's words, when ``name`` (a run's ``ansible_connection``) is no
        connection plugin ansible-core finds: it fails every task of the host then, whether it connects or
        not (a plugin titan-ops cannot connect by fails where a connection is made). None names none
        (ansible-core takes the ``connection`` keyword then)."""
        if name is None:
            return
        if not str(name):
            raise TitanOpsError("A non-empty plugin name is required.")
        if str(name) not in self.plugins:
            raise TitanOpsError(f"the connection plugin '{name}' was not found")

    def _own_settings(self, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        """The run's variables rendered when read, the connection settings among them rendered now (ansible
        renders them for every task that runs on its own host: one that cannot be fails it)."""
        given = _given(variables, _SETTING_NAMES)
        rendered = {setting: self._rendered(given[setting], variables) for setting in CONNECTION_SETTINGS
                    if setting in given}
        return ChainMap(rendered, RenderedOnRead(self.templar, variables))

    def _rendered(self, value: Any, variables: Mapping[str, Any]) -> Any:
        return self.templar.render(value, variables) if holds_template(value) else value


def connection_plugins(plugin_roots: Iterable[str]) -> frozenset[str]:
    """The connection plugin names ansible-core finds for a playbook: its own, and each
    ``connection_plugins/NAME.py`` beside the playbooks and in their roles, as NAME and ``ansible.legacy.NAME``
    (a role only ``include_role`` loads is not looked into)."""
    local = set()
    for root in plugin_roots:
        try:
            local.update(name[:-3] for name in os.listdir(os.path.join(root, "connection_plugins"))
                         if name.endswith(".py") and not name.startswith("_"))
        except OSError:
            continue
    return ANSIBLE_CONNECTION_PLUGINS | local | {f"ansible.legacy.{name}" for name in local}


def _given(variables: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    """The values ``variables`` give the ``names`` they have, unrendered: as ``variables[name]``, without a
    lookup in every layer of a chain for every name."""
    layers = [variables]
    given: dict[str, Any] = {}
    while layers:
        layer = layers.pop()
        if isinstance(layer, ChainMap):
            layers.extend(layer.maps)  # (the first map last: it is read last and wins)
        else:
            given.update((name, layer[name]) for name in layer.keys() & names)
    return given


def _become(variables: Mapping[str, Any]) -> tuple[bool | None, str | None]:
    """The ``ansible_become`` and ``ansible_become_user`` of a run's connection ``variables`` (None when
    not set), which win over the ``become`` keywords, as in ansible-core."""
    become, user = variables.get("ansible_become"), variables.get("ansible_become_user")
    if become is not None:
        try:
            become = play_values.boolean(become)
        except ValueError:
            raise TemplateError(f"ansible_become: the value '{become}' could not be converted to 'bool'.") from None
    return become, None if user is None else str(user)
