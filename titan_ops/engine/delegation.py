"""Where each run of a task goes (each loop item's too): the host ``delegate_to`` names, rendered with that
run's variables, or the task's own host; and the connection there, chosen by that run's variables as
ansible-core chooses it: the task's own (``set_fact``, play, block and task ``vars`` included), or the
delegated host's (``ansible_delegated_vars``, which hold the task's ``vars`` too), then the task's connection
keywords, then the run's defaults; their ``ansible_become`` and ``ansible_become_user`` win over the task's
``become`` keywords. A connection plugin ansible-core does not have fails every run, as there."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from titan_ops.connection.address import check_connection_plugin
from titan_ops.connection.base import Connection
from titan_ops.errors import TemplateError
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


class TaskTarget:
    """A task's target on one host, resolved for each run of the task with that run's variables."""

    def __init__(self, host: str, delegate_to: Any, templar: Templar, fallbacks: Mapping[str, Any],
                 connect: Connect, host_variables: Callable[[str], Mapping[str, Any]]):
        self.host = host
        self.delegate_to = delegate_to
        """The task's ``delegate_to`` (a template), or None."""
        self.templar = templar
        self.fallbacks = fallbacks
        """The connection variables the task's connection keywords give, then the run's defaults."""
        self.connect = connect
        self.host_variables = host_variables
        """A delegated host's variables as the task would see them there."""

    def resolve(self, variables: Mapping[str, Any]) -> RunTarget:
        """Where the run with ``variables`` goes; TitanOpsError when its connection settings cannot be made."""
        name = None if self.delegate_to is None else self.templar.render(self.delegate_to, variables)
        if name is None or name == OMIT:  # ansible: no delegation
            return self._target(None, self.host, variables, self._own_settings(variables))
        if not isinstance(name, str) or not name:
            raise TemplateError(f"Empty hostname produced from delegate_to: {self.delegate_to!r}", key="delegate_to")
        seen = RenderedOnRead(self.templar, ChainMap({"inventory_hostname": self.host}, self.host_variables(name)))
        overlay: dict[str, Any] = {"ansible_delegated_vars": {name: seen}}
        if variables.get("ansible_host") == self.host:  # as ansible: a host without an address of its
            overlay["ansible_host"] = seen.get("ansible_host", name)  # own shows the delegated host's
        return self._target(name, name, ChainMap(overlay, variables), seen)

    def _target(self, delegated: str | None, host: str, variables: Mapping[str, Any],
                seen: Mapping[str, Any]) -> RunTarget:
        settings = ChainMap(seen, self.fallbacks)
        check_connection_plugin(settings)
        return RunTarget(delegated, variables, seen, lambda: self.connect(host, settings), *_become(seen))

    def _own_settings(self, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        """The run's variables rendered when read, the connection settings among them rendered now (ansible
        renders them for every task that runs on its own host: one that cannot be fails it)."""
        given = _given(variables, _SETTING_NAMES)
        rendered = {setting: self._rendered(given[setting], variables) for setting in CONNECTION_SETTINGS
                    if setting in given}
        return ChainMap(rendered, RenderedOnRead(self.templar, variables))

    def _rendered(self, value: Any, variables: Mapping[str, Any]) -> Any:
        return self.templar.render(value, variables) if holds_template(value) else value


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
