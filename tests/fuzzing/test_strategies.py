"""The strategies: every invalid argument in one place, and what the strategies draw."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitl_sim.calls import Call
from hitl_sim.decisions import Decision
from hitl_sim.errors import InvalidArgument
from hitl_sim.fuzzing.oracle import HitlConfig, predict
from hitl_sim.fuzzing.strategies import (
    batches,
    decision_lists,
    decisions,
    invalid_decisions,
    reviewers,
    scenarios,
    tool_calls,
)
from hitl_sim.interrupts import PendingInterrupt
from hitl_sim.reviewing.validation import problems
from tests.fuzzing.test_oracle import BATCHED, PER_CALL, TOOLS, send_email

FAST = settings(max_examples=40, deadline=None, database=None)
E1 = Call("send_email", {"to": "bob", "body": "hi"}, "e1")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: tool_calls([]),
            "tool_calls(tools=[]): give at least one tool to call.",
        ),
        (
            lambda: tool_calls({"a": send_email}),
            "tool_calls(tools={'a': StructuredTool",
        ),
        (
            lambda: tool_calls([42]),
            "tool_calls(tools=...): 42 is not a LangChain tool (it has no name). Build tools "
            "with @tool or StructuredTool.",
        ),
        (lambda: tool_calls(TOOLS, id=7), "tool_calls(id=7): the tool-call id must be a str."),
        (
            lambda: batches(TOOLS, min_size=0),
            "batches(min_size=0, max_size=4): expected integers with 1 <= min_size <= max_size.",
        ),
        (
            lambda: batches(TOOLS, min_size=3, max_size=2),
            "batches(min_size=3, max_size=2): expected integers with 1 <= min_size <= max_size.",
        ),
        (
            lambda: batches(TOOLS, gated=["send_mail"]),
            "batches(gated=['send_mail']): ['send_mail'] are not among the tools (send_email, "
            "delete_file, read_file_tool). Name gated tools by their tool name.",
        ),
        (
            lambda: batches(TOOLS, min_gated=1),
            "batches(min_gated=1): expected 0 <= min_gated <= max_size (4), and gated tools to "
            "draw them from.",
        ),
        (
            lambda: decisions([]),
            "decisions(allowed=[]): expected a non-empty list of decision types from "
            "['approve', 'edit', 'reject', 'respond'].",
        ),
        (
            lambda: decisions("approve"),
            "decisions(allowed='approve'): expected a non-empty list of decision types from "
            "['approve', 'edit', 'reject', 'respond'].",
        ),
        (
            lambda: decisions(["approve", "maybe"]),
            "decisions(allowed=['approve', 'maybe']): ['maybe'] are not decision types. "
            "Expected some of ['approve', 'edit', 'reject', 'respond'].",
        ),
        (
            lambda: decisions(["edit"]),
            "decisions(allowed=['edit']) without for_call: an edit needs the call it edits. "
            "Pass for_call=..., or allow another decision type.",
        ),
        (
            lambda: decisions(for_call=42),
            "decisions(for_call=42): expected the call under review: a tool call dict, a "
            "hitl_sim.calls.Call or an ActionRequest.",
        ),
        (
            lambda: invalid_decisions(["nope"]),
            "invalid_decisions(allowed=['nope']): ['nope'] are not decision types. Expected some "
            "of ['approve', 'edit', 'reject', 'respond'].",
        ),
        (
            lambda: decision_lists("x"),
            "decision_lists('x'): expected the request under review: a PendingInterrupt, an "
            "HITLRequest dict (action_requests + review_configs) or a list of ActionRequests.",
        ),
        (
            lambda: decision_lists({"action_requests": [], "review_configs": []}),
            "decision_lists({'action_requests': [], 'review_configs': []}): the request has no "
            "action requests to decide.",
        ),
        (
            lambda: reviewers(TOOLS),
            "reviewers([StructuredTool",
        ),
        (
            lambda: reviewers(HitlConfig({}, TOOLS)),
            "reviewers(config): the configuration gates no tool.",
        ),
        (
            lambda: scenarios(BATCHED, max_turns=0),
            "scenarios(min_size=1, max_size=0): expected integers with 1 <= min_size <= max_size.",
        ),
    ],
)
def test_invalid_arguments_are_reported_when_the_strategy_is_built(build, message):
    with pytest.raises(InvalidArgument) as excinfo:
        build()
    assert str(excinfo.value).startswith(message)


@FAST
@given(st.data())
def test_batches_have_unique_ids_and_enough_gated_calls(data):
    calls = data.draw(batches(TOOLS, min_size=2, max_size=4, gated=["delete_file"], min_gated=1))
    assert 2 <= len(calls) <= 4
    assert [c.id for c in calls] == [f"call_{n}" for n in range(1, len(calls) + 1)]
    assert any(c.name == "delete_file" for c in calls)


@FAST
@given(call=tool_calls(TOOLS))
def test_tool_call_arguments_pass_the_tool_schema(call):
    tool = {t.name: t for t in TOOLS}[call.name]
    tool.args_schema.model_validate(call.args)


@FAST
@given(decision=decisions(["approve", "reject"], for_call=E1))
def test_decisions_are_only_of_the_allowed_types(decision):
    assert isinstance(decision, Decision)
    assert decision.type in ("approve", "reject")


@FAST
@given(st.data())
def test_matched_decision_lists_pass_local_validation_and_the_oracle(data):
    calls = data.draw(batches(TOOLS, max_size=3))
    actions = tuple(BATCHED.action_for(c) for c in calls if BATCHED.gate_for(c) is not None)
    if not actions:
        return
    interrupt = PendingInterrupt("i", "batched", None, "after_model", actions)
    chosen = data.draw(decision_lists(interrupt, tools=TOOLS))
    assert len(chosen) == len(actions)
    assert problems(interrupt, chosen, tools={t.name: t for t in TOOLS}) == []
    assert predict(BATCHED, calls, chosen).error is None


@FAST
@given(decision=invalid_decisions(["approve", "reject"], for_call=E1))
def test_invalid_decisions_always_fail_in_both_modes(decision):
    assert decision.type == "unchecked"
    batched = HitlConfig({"send_email": {"allowed_decisions": ["approve", "reject"]}}, TOOLS)
    per_call = HitlConfig(
        {"send_email": {"allowed_decisions": ["approve", "reject"]}}, TOOLS, "per_call"
    )
    assert predict(batched, [E1], [decision]).error is not None
    assert predict(per_call, [E1], [decision]).error is not None


@FAST
@given(plan=scenarios(PER_CALL, max_turns=2))
def test_scenarios_answer_every_gated_call_once(plan):
    assert 1 <= len(plan.turns) <= 2
    ids = [c.id for turn in plan.turns for c in turn.calls]
    assert len(ids) == len(set(ids))
    for turn in plan.turns:
        gated = [c for c in turn.calls if PER_CALL.gate_for(c) is not None]
        assert len(turn.decisions) == len(gated)


@settings(
    max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(reviewer=reviewers(BATCHED))
def test_reviewers_answer_each_gated_tool_with_an_allowed_decision(reviewer):
    from hitl_sim.interrupts import ActionRequest

    action = ActionRequest("delete_file", {"path": "/x"}, None, ("approve", "reject"), "d1")
    interrupt = PendingInterrupt("i", "batched", None, "after_model", (action,))
    (decision,) = reviewer.decide(interrupt, None)
    assert decision.type in ("approve", "reject")


def test_scenarios_shrink_toward_one_approved_call():
    from hypothesis import Phase, find

    reviewed = find(
        scenarios(BATCHED),
        lambda p: p.turns[0].decisions,
        settings=settings(database=None, max_examples=30, phases=[Phase.generate, Phase.shrink]),
    )
    assert len(reviewed.turns) == 1 and len(reviewed.turns[0].calls) == 1
    assert reviewed.turns[0].calls[0].name in ("send_email", "delete_file")
    assert [d.type for d in reviewed.turns[0].decisions] == ["approve"]
