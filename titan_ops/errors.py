"""Exception types shared by every stage of titan-ops."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a source file something was found (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class TitanOpsError(Exception):
    """Base class of every error titan-ops raises on purpose.

    ``location`` names the file, line and column, ``key`` the offending key.
    ``str(error)`` is a one-line message fit for an operator; ``exit_code`` is the command's
    (ansible-playbook's 5 for bad input).
    """

    exit_code = 5

    def __init__(self, message: str, location: Location | None = None, key: str | None = None):
        self.message = message
        self.location = location
        self.key = key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        key = f"'{self.key}': " if self.key else ""
        return f"{prefix}{key}{self.message}"


class TitanOpsWarning(UserWarning):
    """Something titan-ops worked around that the operator should know of (a damaged line it skipped): the
    command line shows it as one line, ``[WARNING]: message``."""


class InventoryError(TitanOpsError):
    """The inventory cannot be read or is inconsistent."""


class NoHostsError(InventoryError):
    """``--limit`` leaves no host of the inventory to target (ansible-playbook exits 1 for it)."""

    exit_code = 1


class PlaybookError(TitanOpsError):
    """The playbook is malformed or uses something unsupported."""


class MissingFileError(PlaybookError):
    """A task file or role the playbook names is not there. Found by validation, it is an error like any; in a
    file included at run time, the include fails for its hosts (as in ansible-core, which ends the run only
    for a file that does not parse)."""


class TemplateError(TitanOpsError):
    """A template failed to render (syntax error or undefined variable)."""


class UndefinedVariableError(TemplateError):
    """A template used a variable that is not defined; ``detail`` is jinja2's own words."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(f"undefined variable: {detail}")


class RunError(TitanOpsError):
    """The run cannot go on (a task file included at run time does not parse): ansible-playbook exits 4."""

    exit_code = 4


class MetaConditionError(RunError):
    """The ``when`` of a ``meta`` task that ends or flushes cannot be evaluated: ansible-playbook stops, exits 1."""

    exit_code = 1


class ThrottleError(RunError):
    """A task's ``throttle`` renders to no integer: ansible-playbook stops at that task and exits 1."""

    exit_code = 1


class MissingHandlerError(RunError):
    """A changed task notifies a handler the play does not have, by a name known only at run time (templated,
    or of an included role's task): ansible-playbook stops there, before it reports that result, and exits 1."""

    exit_code = 1


class ModuleError(TitanOpsError):
    """A module was called with arguments it does not accept."""


class ReservedParameter(ModuleError):
    """An argument named with the prefix ansible-core reserves (``_ansible_``): refused at validation, even in
    a task whose failure the playbook handles (ansible-core refuses it when it parses the playbook)."""


class UnsupportedParameters(ModuleError, PlaybookError):
    """Arguments a module does not have: at validation a playbook error; when the task's failure is handled
    and it runs, the module's failure, whose message is the module's words alone (as ansible-core's)."""


class HostUnreachable(TitanOpsError):
    """A host cannot be reached or authenticated (Ansible's UNREACHABLE)."""


class ClusterError(TitanOpsError):
    """The Dask cluster a run was given cannot be used (no scheduler there, no workers, Dask missing)."""


class CommandTimeout(TitanOpsError):
    """A remote command ran past its deadline and was ended."""
