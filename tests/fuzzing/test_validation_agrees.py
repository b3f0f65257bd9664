"""The driver's local validation refuses exactly the answers the middleware would fail on.

`simulate` validates decisions before sending them (a bad batched answer poisons the thread), so
its verdict must match the oracle's: no false alarms on answers the agent accepts, no misses.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hitl_sim.fuzzing.oracle import predict
from hitl_sim.fuzzing.strategies import batches, decision_lists
from hitl_sim.interrupts import PendingInterrupt
from hitl_sim.reviewing.validation import problems
from tests.fuzzing.agents import BATCHED, PER_CALL, TOOLS

BY_NAME = {tool.name: tool for tool in TOOLS}


@given(st.data())
def test_batched_validation_matches_the_oracle(data):
    config = BATCHED.config
    calls = data.draw(batches(TOOLS, max_size=3))
    actions = tuple(config.action_for(c) for c in calls if config.gate_for(c) is not None)
    if not actions:
        return
    interrupt = PendingInterrupt("i", "batched", None, "after_model", actions)
    answers = data.draw(
        decision_lists(interrupt, tools=TOOLS, count_mismatch=True, order_swaps=True)
    )
    found = problems(interrupt, answers, tools=BY_NAME)
    outcome = predict(config, calls, answers)
    assert bool(found) == (outcome.error is not None), (found, outcome.error)


@given(st.data())
def test_per_call_validation_matches_the_oracle(data):
    config = PER_CALL.config
    calls = data.draw(batches(TOOLS, max_size=3))
    actions = [config.action_for(c) for c in calls if config.gate_for(c) is not None]
    if not actions:
        return
    answers = data.draw(decision_lists(actions, tools=TOOLS, order_swaps=True))
    for action, answer in zip(actions, answers, strict=True):
        interrupt = PendingInterrupt("i", "per_call", None, "tools", (action,))
        found = problems(interrupt, [answer], tools=BY_NAME)
        call = next(c for c in calls if c.id == action.tool_call_id)
        outcome = predict(config, [call], [answer])
        assert bool(found) == (outcome.error is not None), (found, outcome.error)
