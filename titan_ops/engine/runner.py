"""The runner: walks a playbook's plan, play by play and batch by batch.

It decides what a batch's outcome does to the run (a batch in which every host
failed, or ``max_fail_percentage`` exceeded, ends the playbook; failed hosts
sit out later plays); the walk runs a batch's tasks; the strategy decides which
host runs what next, the dispatcher where; the recorder records every result
and emits every event; the host view gives each host's variables.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from titan_ops.connection.address import SSH_ARGS_VARIABLES, ssh_options
from titan_ops.connection.base import Connection
from titan_ops.engine import events
from titan_ops.engine.delegation import Targets, connection_plugins
from titan_ops.engine.dispatch import Dispatcher, ThreadDispatcher, open_dispatcher
from titan_ops.engine.executor import TaskExecutor
from titan_ops.engine.hostview import HostView
from titan_ops.engine.included import IncludedFiles
from titan_ops.engine.options import RunOptions
from titan_ops.engine.prompts import answer_prompts
from titan_ops.engine.plan import PlayPlan, plan_playbook
from titan_ops.engine.play_state import PlayRun, PlayState
from titan_ops.engine.recorder import Recorder
from titan_ops.engine.results import PlayResult, RunResult
from titan_ops.engine.start_at import StartAt
from titan_ops.engine.strategy import Strategy, strategy_named
from titan_ops.engine.tags import TagFilter
from titan_ops.engine.walk import Walk
from titan_ops.errors import InventoryError, RunError, TitanOpsError
from titan_ops.inventory import Inventory
from titan_ops.playbook.model import Playbook
from titan_ops.redaction import Redactor
from titan_ops.templating import Templar, is_template


class Runner:
    """Runs one planned playbook and returns a RunResult."""

    def __init__(self, playbook: Playbook, plans: list[PlayPlan], view: HostView, included: IncludedFiles,
                 options: RunOptions, bus: events.EventBus, dispatcher: Dispatcher | None = None,
                 redactor: Redactor | None = None):
        self.playbook = playbook
        self.redactor = redactor or Redactor()
        """The run's secrets: every value found to be secret during the run is added (see redaction)."""
        self.path = playbook.path
        self.plans = plans
        self.options = options
        self.hosts = view
        self.templar = view.templar
        self.executor = TaskExecutor(self.templar)
        self.tag_filter = TagFilter.from_options(options.tags, options.skip_tags)
        self.result = RunResult(playbook=playbook.path)
        self.dispatcher = dispatcher or ThreadDispatcher(options.forks, options.connection)
        self.connections = self.dispatcher.connections
        self.targets = Targets(self.templar, self.connection, connection_plugins(playbook.plugin_roots))
        """Where each run of a task goes, and how it connects there."""
        self.recorder = Recorder(self.result, view, bus)
        self.included = included
        self._dead: set[str] = set()
        """Hosts failed or unreachable so far: they sit out later plays (ansible's failed hosts)."""
        self._halted_rescued: set[str] = set()
        """Hosts ``any_errors_fatal`` (or ``max_fail_percentage``) stopped, then rescued: failed in the verdict
        once a later batch runs (ansible marks them failed in the next batch it runs)."""
        self.start_at = StartAt(options.start_at_task)

    # -- run ---------------------------------------------------------------------
    def run(self) -> RunResult:
        self.recorder.emit(events.PlaybookStarted(self.path))
        try:
            for plan in self.plans:
                if self.result.interrupted or not self._run_play(plan):
                    break
        except KeyboardInterrupt:
            self._interrupt()
        except RunError as error:
            self.result.error = str(error)
            self.result.error_exit_code = error.exit_code
        finally:
            self.dispatcher.shutdown()
            self.result.end = datetime.now()
        self.recorder.emit(events.RunDone(self.result))
        return self.result

    def _interrupt(self) -> None:
        """Ctrl-C: the run stops, and what still runs on the hosts is ended, not waited for."""
        self.result.interrupted = True
        self.connections.interrupt_all()

    def _run_play(self, plan: PlayPlan) -> bool:
        """Run one play, batch by batch; False when the playbook must stop."""
        targets = plan.targets(self.hosts.inventory)  # add_host and group_by change the run's inventory
        live = [host for host in targets if host not in self._dead]
        play_result = PlayResult(name=plan.name, hosts=live)
        self.result.plays.append(play_result)
        self.recorder.emit(events.PlayStarted(plan.name, tuple(live)))
        if not targets:
            self.recorder.emit(events.NoHostsMatched(plan.name))
            return True
        run = PlayRun(plan, targets, play_result, removed=self._dead & set(targets))
        strategy = strategy_named(plan.strategy, self.dispatcher, self._interrupt)
        keep_going = True
        for batch in plan.batches(targets):
            if run.ended or self.result.interrupted:
                break
            self._count_halted(self._halted_rescued)
            self._halted_rescued = set()
            hosts = [host for host in batch if host not in self._dead]
            state = PlayState(run, batch, hosts)
            if hosts:
                strategy.run_batch(functools.partial(self._run_sections, state, strategy), hosts)
            gone = (state.failed | state.unreachable | state.halted) - state.cleared
            self._dead |= gone
            halted = state.halted - state.cleared
            self._count_halted(halted & (state.failed | state.unreachable))
            self._halted_rescued |= halted - state.failed - state.unreachable
            self.result.max_fail_stopped |= state.aborted
            if state.aborted or len(gone) == len(batch):
                keep_going = False  # ansible: a batch that lost every host ends the playbook
                break
        self.recorder.emit(events.PlayDone(play_result))
        return keep_going

    def _count_halted(self, hosts: set[str]) -> None:
        self.result.halted_hosts.extend(sorted(hosts - set(self.result.halted_hosts)))

    def clear_host_errors(self, state: PlayState) -> None:
        """``meta: clear_host_errors``: the play's hosts that failed or were unreachable take part in later
        plays, and their errors so far no longer count in the verdict. In this play, the unreachable ones
        rejoin at the next task (ansible-core never ended their walk), and of the failed ones only those in a
        block's ``always`` because they failed go on, after it (see ``Walk.block``)."""
        hosts = set(state.run.hosts)
        self.result.clear_errors(sorted(hosts))
        self._dead -= hosts
        self._halted_rescued -= hosts
        state.cleared |= hosts
        state.rejoined = state.unreachable & hosts
        state.unreachable -= hosts
        state.clears += 1

    def _run_sections(self, state: PlayState, strategy: Strategy, hosts: list[str]) -> None:
        if self.start_at.pending and not self.start_at.in_play(state.play):
            return  # --start-at-task: the plays before the start run nothing
        Walk(self, state, strategy).play(hosts)

    def connection(self, host: str, settings: Mapping[str, Any]) -> Connection:
        """The connection to ``host`` a run of a task chose (see :meth:`HostView.address`)."""
        return self.connections.get(self.hosts.address(host, settings))


def check_ssh_args(host: str, host_vars: dict[str, Any]) -> None:
    """InventoryError, before any host is touched, for ssh options in a host's ansible_ssh_common_args or
    ansible_ssh_extra_args that titan-ops cannot honour (templated ones are checked when used)."""
    if any(is_template(host_vars.get(variable)) for variable in SSH_ARGS_VARIABLES):
        return
    try:
        ssh_options(host, host_vars)
    except TitanOpsError as error:
        raise InventoryError(error.message) from None


def run_playbook(playbook: Playbook, inventory: Inventory, options: RunOptions,
                 subscribers: Iterable[events.Subscriber] = ()) -> RunResult:
    """Plan ``playbook`` against ``inventory`` (raising on bad input before any host is touched), then run it;
    emit events to ``subscribers``."""
    StartAt(options.start_at_task).check(playbook)
    redactor = Redactor(options.secrets)
    redactor.collect_from_environment()
    redactor.collect_from(options.extra_vars)
    redactor.collect_from(options.host_defaults)
    every_host_vars = {host: inventory.host_vars(host) for host in inventory.host_names()}
    for host_vars in every_host_vars.values():
        redactor.collect_from(host_vars)
    for play in playbook.plays:
        for authored in (play.vars, play.role_vars, play.role_defaults):
            redactor.collect_from(authored)
    vaults = [vault for vault in {id(v): v for v in (options.vault, playbook.vault) if v is not None}.values()]
    for vault in vaults:  # what a vault opened is a secret, before and during the run
        redactor.add_secrets(vault.revealed)
        vault.on_reveal.append(redactor.add_secrets)
    try:
        for host, host_vars in every_host_vars.items():
            check_ssh_args(host, host_vars)
        prompted = answer_prompts(playbook, options.extra_vars, options.ask, redactor.add_secrets)
        templar = Templar()
        templar.on_secret = redactor.add_secrets
        view = HostView(inventory, options, templar, playbook.directory)
        included = IncludedFiles(playbook, templar)
        plans = plan_playbook(playbook, view, included, prompted)
        for plan in plans:  # with what the plan loaded (vars_files, prompts)
            for authored in {id(found): found for found in (plan.vars, *plan.host_vars.values())}.values():
                redactor.collect_from(authored)
        bus = events.EventBus(list(subscribers), redact=redactor.event)
        dispatcher = open_dispatcher(options)  # a cluster that cannot be used fails here, before any event
        return Runner(playbook, plans, view, included, options, bus, dispatcher, redactor).run()
    except TitanOpsError as error:  # bad input, before any host is touched: masked as every output is
        redactor.mask_error(error)
        raise
    finally:
        for vault in vaults:
            vault.on_reveal.remove(redactor.add_secrets)
