"""The state one play (one batch of it) keeps while it runs."""

from __future__ import annotations

from typing import Any

from titan_ops.engine.handlers import Notifications
from titan_ops.engine.results import PlayResult
from titan_ops.playbook.model import Play


class PlayState:
    """What every task of one play's batch shares: its hosts, which of them are gone, and why."""

    def __init__(self, play: Play, hosts: list[str], play_result: PlayResult, play_vars: dict[str, Any]):
        self.play = play
        self.hosts = hosts
        self.play_result = play_result
        self.play_vars = play_vars
        self.role_vars = dict(play.role_vars)
        """The play's roles' variables, and those of roles included with ``public: true`` so far."""
        self.role_defaults = dict(play.role_defaults)
        """The play's roles' defaults, and those of roles included with ``public: true`` so far."""
        self.notifications = Notifications(play.handlers)
        self.roles_run: set[tuple[str, str]] = set()
        """(host, role identity) of the roles that run once per play (``Block.runs_once_as``) already run."""
        self.unreachable: set[str] = set()
        self.failed: set[str] = set()
        self.ended_hosts: set[str] = set()
        self.ended = False
        self.aborted = False

    def active(self, hosts: list[str]) -> list[str]:
        """The hosts of ``hosts`` still in the play, in their order."""
        # called per host per task (magic variables): no Python call per host
        if not (self.unreachable or self.failed or self.ended_hosts):
            return list(hosts)
        gone = self.unreachable | self.failed | self.ended_hosts
        return [host for host in hosts if host not in gone]
