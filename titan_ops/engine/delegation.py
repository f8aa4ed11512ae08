"""``delegate_to``: the host a task runs on, rendered with the variables of each run of it (a loop item can
choose it), and what the task sees of that host (``ansible_delegated_vars``)."""

from __future__ import annotations

import dataclasses
from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

from titan_ops.connection.base import Connection
from titan_ops.errors import TemplateError
from titan_ops.modules.base import HostContext
from titan_ops.templating import OMIT, RenderedOnRead


class Delegation:
    """A task's ``delegate_to`` on one host: applied to a context (:meth:`HostContext.delegated`) before
    each run of the task, with that run's variables."""

    def __init__(self, template: Any, host: str, connect: Callable[[str], Connection],
                 host_variables: Callable[[str], Mapping[str, Any]]):
        self.template = template
        self.host = host
        self.connect = connect
        """The connection to a delegated host, with the task's connection keywords."""
        self.host_variables = host_variables
        """A delegated host's variables as the task would see them there."""

    def __call__(self, context: HostContext) -> HostContext:
        name = context.templar.render(self.template, context.variables)
        if name is None or name == OMIT:  # ansible: no delegation
            return context
        if not isinstance(name, str) or not name:
            raise TemplateError(f"Empty hostname produced from delegate_to: {self.template!r}", key="delegate_to")
        seen = RenderedOnRead(context.templar, ChainMap({"inventory_hostname": self.host}, self.host_variables(name)))
        overlay: dict[str, Any] = {"ansible_delegated_vars": {name: seen}}
        if context.variables.get("ansible_host") == self.host:  # as ansible: a host without an address of its
            overlay["ansible_host"] = seen.get("ansible_host", name)  # own shows the delegated host's
        return dataclasses.replace(context, connection_factory=lambda: self.connect(name), delegated_host=name,
                                   variables=ChainMap(overlay, context.variables))
