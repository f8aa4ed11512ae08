"""The state one play keeps while it runs, per batch and across its batches."""

from __future__ import annotations

from typing import Any

from titan_ops.engine.handlers import Notifications
from titan_ops.engine.plan import PlayPlan
from titan_ops.engine.results import PlayResult


class PlayRun:
    """What every batch of one play shares: its plan, its result, and the hosts out of it."""

    def __init__(self, plan: PlayPlan, hosts: list[str], result: PlayResult, removed: set[str]):
        self.plan = plan
        self.hosts = hosts
        """Every host the play targets, in inventory order, failed ones included (``ansible_play_hosts_all``)."""
        self.result = result
        self.removed = set(removed)
        """Hosts out of the play: failed or unreachable here or in an earlier play (ansible's removed hosts)."""
        self.ended = False
        """``meta: end_play`` ran: no further batch runs."""
        self.version = 0
        """Counts the changes of ``removed``, for the lists built from it."""
        self._hosts: list[str] | None = None

    def remove(self, host: str) -> None:
        if host not in self.removed:
            self.removed.add(host)
            self.version += 1
            self._hosts = None

    def play_hosts(self) -> list[str]:
        """``ansible_play_hosts``: the play's hosts still in it, in inventory order (one list, rebuilt on change)."""
        if self._hosts is None:
            self._hosts = [host for host in self.hosts if host not in self.removed]
        return self._hosts


class PlayState:
    """What every task of one batch of a play shares: its hosts, which of them are gone, and why."""

    def __init__(self, run: PlayRun, batch: list[str], hosts: list[str]):
        self.run = run
        self.plan = run.plan
        self.play = run.plan.play
        self.batch = batch
        """The batch's hosts, hosts failed in earlier plays included (ansible counts them in a batch)."""
        self.hosts = hosts
        """The batch's hosts that run it."""
        self.play_result = run.result
        self.notifications = Notifications(self.play.handlers, self.plan.handler_names)
        self.role_vars = dict(self.play.role_vars)
        """The play's roles' variables, and those of roles included with ``public: true`` so far."""
        self.role_defaults = dict(self.play.role_defaults)
        """The play's roles' defaults, and those of roles included with ``public: true`` so far."""
        self.role_entries: dict[str, Any] = {}
        """Per role (its folder), the scope it was placed in last (``roles:``, ``import_role``) or last included
        in: what its handlers see."""
        self.static_roles: set[int] = set()
        """The ``id`` of the roles the play holds (not included at run time)."""
        self.roles_run: set[tuple[str, str]] = set()
        """(host, role identity) of the roles that run once per play (``Block.runs_once_as``) already run."""
        self.unreachable: set[str] = set()
        self.failed: set[str] = set()
        self.ended_hosts: set[str] = set()
        """Hosts ``meta: end_host`` ended: out of this batch's host lists (in the next batch's again, as ansible)."""
        self.final_failures: set[str] = set()
        """Hosts whose failure ended their walk of the batch where it happened (no ``rescue`` or ``always``
        around it, no handler left for ``force_handlers`` to run): with ``halted``, those ansible-core counts
        against ``max_fail_percentage``."""
        self.halted: set[str] = set()
        """Hosts that ``any_errors_fatal`` or ``max_fail_percentage`` stopped without a failure of their own."""
        self.cleared: set[str] = set()
        """Hosts whose errors ``meta: clear_host_errors`` cleared: in the later plays; in this one only those
        that had failed into a block's ``always`` when it ran there (the others' walk has ended)."""
        self.failed_twice: set[str] = set()
        """Hosts a failing ``run_once`` task failed twice, as ansible does (once as run_once, once as
        any_errors_fatal): the innermost block they are in takes them past its ``rescue`` to its ``always``,
        or, without a rescue, past its ``always``."""
        self.clears = 0
        """How many times ``meta: clear_host_errors`` ran in this batch."""
        self.rejoined: set[str] = set()
        """The hosts the last ``meta: clear_host_errors`` brought back from unreachable."""
        self.ended = False
        self.aborted = False
        self._magic: tuple[tuple[int, int], dict[str, Any]] | None = None

    def active(self, hosts: list[str]) -> list[str]:
        """The hosts of ``hosts`` still in the play, in their order."""
        # called per host per task (magic variables): no Python call per host
        if not (self.unreachable or self.failed or self.ended_hosts):
            return list(hosts)
        gone = self.unreachable | self.failed | self.ended_hosts
        return [host for host in hosts if host not in gone]

    def reachable(self, hosts: list[str]) -> list[str]:
        """The hosts of ``hosts`` neither unreachable nor ended, failed ones included (those ``force_handlers``
        runs handlers on)."""
        return [host for host in hosts if host not in self.unreachable and host not in self.ended_hosts]

    def magic(self) -> dict[str, Any]:
        """The play's host lists as ansible gives them to a task of this batch (rebuilt when a host leaves)."""
        version = (self.run.version, len(self.ended_hosts))  # both only grow
        if self._magic is None or self._magic[0] != version:
            ended = set(self.ended_hosts)
            batch = [host for host in self.batch if host not in self.run.removed and host not in ended]
            hosts = [host for host in self.run.play_hosts() if host not in ended] if ended else self.run.play_hosts()
            self._magic = (version, {"ansible_play_hosts_all": self.run.hosts, "ansible_play_hosts": hosts,
                                     "ansible_play_batch": batch, "play_hosts": batch})
        return self._magic[1]
