"""Real agents (create_agent + HumanInTheLoopMiddleware, both modes) agree with the oracle."""

from __future__ import annotations

import pytest
from hypothesis import given

from hitl_sim.strategies import scenarios
from tests.property.agents import BATCHED, PER_CALL

MODES = pytest.mark.parametrize("agent", [BATCHED, PER_CALL], ids=["batched", "per_call"])


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
