"""Run the corpus by hand: ``python -m tests.integration_targets [--refresh] [--show RUN] [TARGET...]``.

The oracle plays the runs whose outcome oracle_outcomes.json does not hold (all the chosen ones with
``--refresh``) and its outcomes are recorded there: commit it with the change of runs.yml, of the
adaptation or of the oracle that made it stale;
``--show`` prints both sides' task results of one run (``target#index``), side by side.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tests.integration_targets import corpus


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.integration_targets")
    parser.add_argument("targets", nargs="*")
    parser.add_argument("--refresh", action="store_true", help="run the oracle again for the chosen runs")
    parser.add_argument("--show", metavar="RUN", help="print both sides of one run (target#index)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--workdir", type=Path, help="keep the runs' folders here (default: a temporary one)")
    options = parser.parse_args()
    runs = corpus.load_runs(options.targets)
    if options.show:
        runs = [run for run in runs if run.name == options.show]
    archive = corpus.source_archive()
    digest = corpus.digest_of(archive)
    cache = corpus.load_cache()
    oracle = {} if options.refresh else dict(cache)
    with tempfile.TemporaryDirectory(prefix="titan-ops-corpus-") as scratch:
        workspace = corpus.Workspace(archive, options.workdir or Path(scratch))
        comparisons = corpus.compare_runs(runs, workspace, oracle, digest, options.workers)
    cache.update(oracle)
    corpus.save_cache(cache)
    for comparison in comparisons:
        if options.show or not comparison.same:
            print(f"{comparison.run.name}: {comparison.run.describe()}")
            print(f"    oracle rc={comparison.oracle.rc} tasks={comparison.total} {comparison.oracle.note}")
            print(f"    titan  rc={comparison.titan.rc} matched={comparison.matched} extra={comparison.extra} "
                  f"{comparison.titan.note}")
        if options.show:
            _side_by_side(comparison)
    print("\n".join(corpus.summary(comparisons)))


def _side_by_side(comparison: corpus.Comparison) -> None:
    left = [" ".join(event) for event in comparison.oracle.events]
    right = [" ".join(event) for event in comparison.titan.events]
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else ""
        b = right[index] if index < len(right) else ""
        print(f"  {'=' if a == b else '!'} {a:<70} | {b}")


if __name__ == "__main__":
    main()
