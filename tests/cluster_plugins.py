"""Scheduler plugins of the cluster tests (the scheduler imports this module: tests/cluster_support.py
puts the repository on its path)."""

from __future__ import annotations

from distributed.diagnostics.plugin import SchedulerPlugin


class GraphRecorder(SchedulerPlugin):
    """On the scheduler: the key and the spec (pickled, so that its arguments show) of every task given
    to it, as it arrives."""

    name = "titan-ops-graph-recorder"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def update_graph(self, scheduler, *, keys, tasks, **kwargs) -> None:  # noqa: ANN001 - Dask's hook
        import cloudpickle

        for key in tasks:
            spec = cloudpickle.dumps(getattr(scheduler.tasks.get(key), "run_spec", None))
            self.seen.append(f"{key!r} {spec.decode('latin-1')}")
