"""ansible-core's own integration targets (tests/integration_targets): titan-ops must end their tasks
as ansible-core does, and CI prints how many do.

The oracle's outcomes are recorded in tests/integration_targets/oracle_outcomes.json, keyed by the
digest of the source package and of the run; a run whose key is not recorded is played by the oracle
here. Each session re-plays a few recorded runs, chosen afresh, to show the record still holds.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.integration_targets import corpus

pytestmark = pytest.mark.oracle

# A ratchet, raised as the engine gets closer to ansible-core (the goal is 0.90): the share of the task
# results of ansible's runs that titan-ops ends the same way, refused runs included.
MINIMUM_SHARE = 0.93
SPOT_CHECKS = 2
# Re-played against ansible-core: targets whose outcome does not depend on chance or time (delegate_to
# picks hosts at random in some runs, loop-until waits).
SPOT_CHECK_TARGETS = {"blocks", "changed_when", "check_mode", "ignore_errors", "loop_control", "register",
                      "set_fact", "tags", "var_inheritance", "var_reserved"}


@pytest.fixture(scope="module")
def source() -> tuple[object, str]:
    archive = corpus.source_archive()
    return archive, corpus.digest_of(archive)


@pytest.mark.timeout(1800)  # about 300 runs of titan-ops (2 at a time): minutes, past the suite's default deadline
def test_targets_behave_as_in_ansible_core(source, tmp_path, measurements):
    archive, digest = source
    runs = corpus.load_runs()
    comparisons = corpus.compare_runs(runs, corpus.Workspace(archive, tmp_path), corpus.load_cache(), digest,
                                      workers=os.cpu_count() or 2)
    lines = corpus.summary(comparisons)
    measurements.extend(lines)
    assert len(comparisons) == len(runs)
    assert corpus.share(comparisons) >= MINIMUM_SHARE, "\n".join(lines)


def test_recorded_oracle_outcomes_still_hold(source, tmp_path):
    archive, digest = source
    recorded = corpus.load_cache()
    runs = [run for run in corpus.load_runs(SPOT_CHECK_TARGETS) if corpus.run_key(run, digest) in recorded]
    seed = random.SystemRandom().randrange(2**32)
    chosen = random.Random(seed).sample(runs, min(SPOT_CHECKS, len(runs)))
    workspace = corpus.Workspace(archive, tmp_path)
    for run in chosen:
        live = corpus.run_oracle(run, workspace)
        stored = recorded[corpus.run_key(run, digest)]
        assert (live.rc, corpus.per_host(live)) == (stored.rc, corpus.per_host(stored)), (
            f"{run.describe()}: the oracle no longer does what oracle_outcomes.json says (seed {seed}); "
            "record it again with python -m tests.integration_targets --refresh")
