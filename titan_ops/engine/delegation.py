"""Where each run of a task goes (each loop item's too): the host ``delegate_to`` names, rendered with that
run's variables, or the task's own host; and the connection there, chosen by that run's variables as
ansible-core chooses it: the task's own (``set_fact``, play, block and task ``vars`` included), or the
delegated host's (``ansible_delegated_vars``, which hold the task's ``vars`` too); their ``ansible_become``
and ``ansible_become_user`` win over the task's ``become`` keywords."""

from __future__ import annotations

import dataclasses
from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

from titan_ops.connection.base import Connection
from titan_ops.errors import TemplateError
from titan_ops.modules.base import HostContext
from titan_ops.playbook import play_values
from titan_ops.templating import OMIT, RenderedOnRead

Connect = Callable[[str, Mapping[str, Any]], Connection]
"""The connection to a host chosen by a task's variables there (rendered when read)."""

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


class TaskTarget:
    """A task's target on one host: applied to a context (:meth:`HostContext.for_run`) before each run of
    the task, with that run's variables."""

    def __init__(self, host: str, delegate_to: Any, connect: Connect,
                 host_variables: Callable[[str], Mapping[str, Any]]):
        self.host = host
        self.delegate_to = delegate_to
        """The task's ``delegate_to`` (a template), or None."""
        self.connect = connect
        self.host_variables = host_variables
        """A delegated host's variables as the task would see them there."""

    def __call__(self, context: HostContext) -> HostContext:
        name = None if self.delegate_to is None else context.templar.render(self.delegate_to, context.variables)
        if name is None or name == OMIT:  # ansible: no delegation
            own = RenderedOnRead(context.templar, context.variables)
            for setting in CONNECTION_SETTINGS:
                if setting in context.variables:
                    own[setting]  # (rendered for its error alone)
            return dataclasses.replace(_with_become(context, own),
                                       connection_factory=lambda: self.connect(self.host, own),
                                       connection_variables=own)
        if not isinstance(name, str) or not name:
            raise TemplateError(f"Empty hostname produced from delegate_to: {self.delegate_to!r}", key="delegate_to")
        seen = RenderedOnRead(context.templar, ChainMap({"inventory_hostname": self.host}, self.host_variables(name)))
        overlay: dict[str, Any] = {"ansible_delegated_vars": {name: seen}}
        if context.variables.get("ansible_host") == self.host:  # as ansible: a host without an address of its
            overlay["ansible_host"] = seen.get("ansible_host", name)  # own shows the delegated host's
        return dataclasses.replace(_with_become(context, seen), connection_factory=lambda: self.connect(name, seen),
                                   delegated_host=name, variables=ChainMap(overlay, context.variables),
                                   connection_variables=seen)


def _with_become(context: HostContext, variables: Mapping[str, Any]) -> HostContext:
    """``context`` with the ``ansible_become`` and ``ansible_become_user`` of the run's connection
    ``variables`` (rendered when read), which win over the ``become`` keywords, as in ansible-core."""
    become, user = variables.get("ansible_become"), variables.get("ansible_become_user")
    if become is not None:
        try:
            become = play_values.boolean(become)
        except ValueError:
            raise TemplateError(f"ansible_become: the value '{become}' could not be converted to 'bool'.") from None
        context = dataclasses.replace(context, become=become)
    return context if user is None else dataclasses.replace(context, become_user=str(user))
