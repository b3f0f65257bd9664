"""Real agents (create_agent + HumanInTheLoopMiddleware, both modes) agree with the oracle."""

from __future__ import annotations

from hypothesis import given

from hitl_sim.fuzzing.bench import PlannedTurn, RunPlan
from hitl_sim.fuzzing.strategies import batches, reviewers, scenarios
from hitl_sim.interrupts import PendingInterrupt
from tests.fuzzing.agents import BATCHED, DEEP, PER_CALL, TOOLS


@given(plan=scenarios(BATCHED))
def test_batched_valid_runs_match_the_oracle(plan):
    BATCHED.verify(plan)


@given(plan=scenarios(PER_CALL))
def test_per_call_valid_runs_match_the_oracle(plan):
    PER_CALL.verify(plan)


@given(plan=scenarios(BATCHED, invalid=True, count_mismatch=True, order_swaps=True))
def test_batched_bad_answers_match_the_oracle(plan):
    BATCHED.verify(plan)


@given(plan=scenarios(PER_CALL, invalid=True, count_mismatch=True, order_swaps=True))
def test_per_call_bad_answers_match_the_oracle(plan):
    PER_CALL.verify(plan)


@given(reviewer=reviewers(BATCHED), calls=batches(TOOLS, max_size=3))
def test_standing_reviewer_policies_match_the_oracle(reviewer, calls):
    config = BATCHED.config
    actions = tuple(config.action_for(c) for c in calls if config.gate_for(c) is not None)
    interrupt = PendingInterrupt("i", "batched", None, "after_model", actions)
    answers = tuple(reviewer.decide(interrupt, None)) if actions else ()
    BATCHED.verify(RunPlan((PlannedTurn(calls, answers),)), reviewer)


@given(plan=scenarios(DEEP, max_turns=2, invalid=True, count_mismatch=True))
def test_deep_agent_main_gates_match_the_oracle(plan):
    DEEP.verify(plan)
