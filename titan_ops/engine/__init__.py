"""The engine: runner, task executor, results, events."""
