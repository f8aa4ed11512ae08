"""The bad-input fuzzer (issue 12 §5) in the suite: mutants of the shipped playbooks and inventories, run on the
local connection, never crash, never hang, and every error they cause names its file and line (or option)
before any host is touched. One fixed seed (the same mutants every run) and one fresh seed per run, printed so
that a failure can be replayed with ``python -m tests.fuzz_inputs SEED COUNT``."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

from tests.fuzz_inputs import REPO

FIXED_SEED = 20261206
MUTANTS_PER_SEED = 120


def test_mutants_of_the_shipped_playbooks_and_inventories_are_refused_with_a_location(measurements):
    fresh = random.SystemRandom().randrange(1, 2**31)
    print(f"fuzz seeds: {FIXED_SEED} (fixed), {fresh} (fresh)")
    workers = {seed: subprocess.Popen([sys.executable, "-m", "tests.fuzz_inputs", str(seed), str(MUTANTS_PER_SEED)],
                                      cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env={**os.environ, "PYTHONPATH": str(REPO)})
               for seed in (FIXED_SEED, fresh)}
    failures = []
    for seed, worker in workers.items():
        out, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, f"seed {seed}: the fuzzer itself failed:\n{err[-3000:]}"
        *found, totals = out.strip().splitlines()
        summary = json.loads(totals)
        assert sum(summary["exit_codes"].values()) == MUTANTS_PER_SEED and summary["exit_codes"].get("5"), summary
        measurements.append(f"fuzz seed {seed}: {MUTANTS_PER_SEED} mutants, exit codes {summary['exit_codes']}")
        failures += [json.loads(line) for line in found]
    assert not failures, json.dumps(failures, indent=2)
