"""Where a titan-ops run's time goes: milliseconds from exec to each play and task start and the end.

    python bench/phases.py PLAYBOOK INVENTORY FORKS

Run it with titan-ops's venv; the first line is the time spent before
``titan_ops.run()`` was called (Python's start-up and ``import titan_ops``).
"""

from __future__ import annotations

import sys
import time

START = time.monotonic()

import titan_ops  # noqa: E402 - timed from the process's start
from titan_ops.engine import events  # noqa: E402


def main() -> int:
    playbook, inventory, forks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    marks: list[tuple[float, str]] = []

    def note(event: events.Event) -> None:
        if isinstance(event, events.TaskStarted):
            marks.append((time.monotonic(), f"task {event.name}"))
        elif isinstance(event, (events.PlaybookStarted, events.PlayStarted, events.RunDone)):
            marks.append((time.monotonic(), type(event).__name__))

    print(f"{(time.monotonic() - START) * 1000:7.0f} ms  titan_ops imported")
    result = titan_ops.run(playbook, inventory, forks=forks, subscribers=[note])
    for moment, what in marks:
        print(f"{(moment - START) * 1000:7.0f} ms  {what}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
