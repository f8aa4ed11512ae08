"""What a module is: a name, an argument schema, and inspect -> decide -> act.

The task executor calls :meth:`Module.inspect` (read-only), then
:meth:`Module.decide` (pure), and :meth:`Module.act` only when the decision
is a change and the run is not in check mode. Check mode therefore cannot
change a host, whatever the module does.

Outside check mode a module may also :meth:`Module.guess` the state a host is
in when it has work to do (a file not there yet). The executor decides on that
state and calls :meth:`Module.act_or_inspect`: one remote command that carries
out the decision if the guess's test holds, and otherwise only inspects, after
which decide and act follow as usual. The test holds exactly when inspect would
have read the guessed state, so the act is the one inspect, decide and act would
have done, in one remote command instead of two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from collections.abc import Callable, Mapping

if TYPE_CHECKING:
    from titan_ops.connection.base import CommandResult, Connection, InputOnRequest
    from titan_ops.connection.payload import Payload
    from titan_ops.vault import Vault
    from titan_ops.templating import Templar
    from titan_ops.redaction import Redactor


@dataclass
class Decision:
    """The outcome of decide: whether the host must change, and how.

    ``result`` holds the fields reported when nothing is acted on (or in check
    mode); ``diff`` is a list of ``{"before", "after", "before_header",
    "after_header"}`` dicts; ``plan`` is whatever act needs.
    """

    changed: bool
    result: dict[str, Any] = field(default_factory=dict)
    diff: list[dict[str, Any]] = field(default_factory=list)
    plan: Any = None
    failed: bool = False


@dataclass(frozen=True)
class Guess:
    """A state the host is probably in when the task has work to do, and a shell test that
    holds exactly when it is in it (whatever inspect would read then, decide sees in ``state``)."""

    state: Any
    test: str


@dataclass(frozen=True)
class Attempt:
    """What :meth:`Module.act_or_inspect` did: acted (its ``result``), or only inspected (``state``)."""

    acted: bool
    result: dict[str, Any] = field(default_factory=dict)
    state: Any = None


@dataclass
class HostContext:
    """What a module may use to work on one host."""

    host: str
    connection_factory: Callable[[], Connection]
    variables: Mapping[str, Any]
    templar: Templar
    check_mode: bool = False
    diff_mode: bool = False
    become: bool = False
    become_user: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    """The task's ``timeout`` keyword, in seconds, for each command (None: the run's command timeout)."""
    playbook_dir: str = "."
    vault: Vault | None = None
    """The run's vault passwords (controller files a module reads may be vault-encrypted)."""
    search_path: tuple[str, ...] = ()
    """Where relative controller files (``src``) are searched, first first: the role's folder, then
    the play's (Ansible's ``ansible_search_path``); empty means ``playbook_dir`` alone."""
    secrets: Redactor | None = None
    """The run's known secrets, for a module that writes records of its own (``evidence``)."""
    verbosity: int = 0
    """The run's ``-v`` count."""
    no_log: bool = False
    """The task's ``no_log`` (a custom module masks its own output with it)."""
    delegated_host: str | None = None
    """The host the task runs on instead of ``host`` (``delegate_to``)."""
    connection_variables: Mapping[str, Any] | None = None
    """The variables the connection and the interpreters come from (rendered when read): the delegated
    host's in a delegated run, as in ansible-core; None: ``variables``."""

    def connection_variable(self, name: str) -> Any:
        """A connection variable (``ansible_python_interpreter``, ...), rendered; None when not set."""
        if self.connection_variables is not None:
            return self.connection_variables.get(name)
        value = self.variables.get(name)
        return None if value is None else self.templar.render(value, self.variables)

    @property
    def local_folders(self) -> tuple[str, ...]:
        """The folders relative controller files are searched in."""
        return self.search_path or (self.playbook_dir,)

    @property
    def connection(self) -> Connection:
        return self.connection_factory()

    def run(self, command: Any, *, stdin: str | Payload | InputOnRequest | None = None, cwd: str | None = None,
            env: Mapping[str, str] | None = None) -> CommandResult:
        """Run a command on the host with the task's become, environment and timeout."""
        merged_env = {**self.environment, **(env or {})} or None
        return self.connection.run(command, stdin=stdin, timeout=self.timeout, env=merged_env, cwd=cwd,
                                   become=self.become, become_user=self.become_user)


class Module:
    """Base class of every module. Subclasses set the class attributes and
    override the three steps."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]
    description: ClassVar[str] = ""
    supports_check_mode: ClassVar[bool] = True
    check_mode_message: ClassVar[str | None] = None
    """What a task reports when skipped in check mode (default: Ansible's wording for modules)."""
    collection: ClassVar[str | None] = "ansible.builtin"
    """The Ansible collection whose module this one matches (its long name's
    prefix), or None for a titan-ops module with no Ansible counterpart."""
    free_form: ClassVar[str | None] = None
    """The argument a free-form string (``command: ls -l``) is given to."""
    expression_args: ClassVar[tuple[str, ...]] = ()
    """Arguments that hold bare jinja2 expressions (assert's ``that``), checked at validation as ``when`` is,
    and given to the module as written (not rendered first)."""
    on_controller: ClassVar[bool] = False
    """True when the module never touches the host (debug, set_fact, ...)."""
    once_per_batch: ClassVar[bool] = False
    """True when the module runs once for the whole batch, as ``pause`` does."""
    supports_async: ClassVar[bool] = False
    """True when ``async:`` can run the module as a job on the host (see :mod:`titan_ops.modules.jobs`)."""
    path_args: ClassVar[tuple[str, ...]] = ()
    """Arguments that are paths on the host, whose leading ``~`` is the remote user's home (as in Ansible)."""
    shows_result: ClassVar[bool] = False
    """True when the console prints the result without ``-v`` (debug, assert)."""
    runs_whole: ClassVar[bool] = False
    """True for a module that runs in one step and honours check mode itself (a custom module, by Ansible's
    module protocol): the executor calls :meth:`run` instead of inspect, decide and act."""

    def run(self, host: HostContext, args: dict[str, Any]) -> dict[str, Any]:
        """Run the whole module (``runs_whole`` modules only) and return its result fields."""
        raise NotImplementedError

    def unsupported_parameters(self, unknown: list[str]) -> str:
        """What the module says of ``unknown`` arguments given to it (ansible-core's words)."""
        known = ", ".join(sorted(self.schema.get("properties", {})))
        return (f"Unsupported parameters for ({self.name}) module: {', '.join(sorted(unknown))}. "
                f"Supported parameters include: {known}.")

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Any:
        """Read the host's current state with read-only commands."""
        return None

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        """Compute the change from ``state``; touches nothing."""
        raise NotImplementedError

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        """Carry out ``decision`` and return the result fields."""
        return dict(decision.result)

    def guess(self, host: HostContext, args: dict[str, Any]) -> Guess | None:
        """A likely state with work to do, acted on in the same command as inspecting (never in
        check mode); None when there is none worth guessing."""
        return None

    def act_or_inspect(self, host: HostContext, args: dict[str, Any], decision: Decision,
                       guess: Guess) -> Attempt:
        """One remote command: carry out ``decision`` (made on ``guess.state``) if ``guess.test``
        holds, else inspect."""
        raise NotImplementedError
