"""The bad-input fuzzer (issue 12 §5) in the suite: mutants of the shipped playbooks and inventories, run on the
local connection, never crash, never hang, and every error they cause names its file and line (or option)
before any host is touched. The fast subset runs the first mutants of a fixed seed (the same mutants every run);
the whole suite also runs the rest of that seed's mutants and those of a fresh seed (``slow``: new mutants each
run, printed so that a failure can be replayed with ``python -m tests.fuzz_inputs SEED COUNT``)."""

from __future__ import annotations

import json
import random

import pytest

from tests.fuzz_inputs import fuzz

FIXED_SEED = 20261206
MUTANTS_PER_SEED = 120
FAST_MUTANTS = 40
"""How many of the fixed seed's mutants the fast subset runs (each is a ``titan-ops run`` of its own)."""


def _fuzzed(seed: int, mutants: range, measurements: list[str]) -> None:
    exit_codes, failures = fuzz(seed, mutants)
    measurements.append(f"fuzz seed {seed}: mutants {mutants.start}-{mutants.stop - 1}, exit codes {exit_codes}")
    assert sum(exit_codes.values()) == len(mutants) and exit_codes.get(5), exit_codes
    assert not failures, json.dumps(failures, indent=2)


def test_mutants_of_a_fixed_seed_are_refused_with_a_location(measurements):
    _fuzzed(FIXED_SEED, range(FAST_MUTANTS), measurements)


@pytest.mark.slow
def test_the_fixed_seeds_other_mutants_are_refused_with_a_location(measurements):
    _fuzzed(FIXED_SEED, range(FAST_MUTANTS, MUTANTS_PER_SEED), measurements)


@pytest.mark.slow
def test_mutants_of_a_fresh_seed_are_refused_with_a_location(measurements):
    fresh = random.SystemRandom().randrange(1, 2**31)
    print(f"fuzz seed: {fresh} (fresh)")
    _fuzzed(fresh, range(MUTANTS_PER_SEED), measurements)
