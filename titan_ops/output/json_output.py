"""The JSON renderer: the whole RunResult (``RunResult.to_dict()``) in one file, written at the end of the run."""

from __future__ import annotations

import json
import os

from titan_ops.engine import events
from titan_ops.engine.results import RunResult
from titan_ops.output.files import write_atomically


def run_json(result: RunResult) -> str:
    """The JSON text of ``result``: every play, host and task result, stats and verdict."""
    return json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str) + "\n"


class JsonWriter:
    """An event subscriber that writes the run's result to ``path`` when the run is done.

    The file is replaced atomically, so a reader never sees half a report.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = path

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.RunDone):
            write_atomically(self.path, run_json(event.result))
