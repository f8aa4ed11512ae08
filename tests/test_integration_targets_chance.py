"""The corpus compares what chance decides in a run seed-independently (runs.yml's ``by_chance``): ansible-core's
own runs of a playbook that draws its hosts at random differ from one run to the next."""

from __future__ import annotations

from tests.integration_targets import corpus

TASK = "targets/delegate_to/test_random_delegate_to_with_loop.yml:21"


def test_ok_and_skipped_by_chance_are_one_status_and_a_failure_stays_one():
    run = next(run for run in corpus.load_runs(["delegate_to"]) if run.name == "delegate_to#11")
    assert run.by_chance == {TASK}
    oracle = corpus.Outcome(0, [("host0", TASK, "ok"), ("host1", TASK, "skipped"), ("host2", TASK, "ok")])
    titan = corpus.Outcome(0, [("host0", TASK, "skipped"), ("host1", TASK, "ok"), ("host2", TASK, "failed")])
    comparison = corpus.Comparison(run, corpus.seed_independent(oracle, run), corpus.seed_independent(titan, run))
    assert (comparison.matched, comparison.total) == (2, 3)
    other = next(run for run in corpus.load_runs(["delegate_to"]) if run.name == "delegate_to#12")
    assert corpus.seed_independent(oracle, other) == oracle
