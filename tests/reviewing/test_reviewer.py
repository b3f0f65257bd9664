"""Responders on hand-built interrupts: order, keys, functions, chains, timeouts, messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hitl_sim import (
    Reviewer,
    ScriptExhausted,
    UnexpectedInterrupt,
    answer,
    approve,
    edit,
    reject,
    respond,
    when,
)
from hitl_sim.errors import InvalidArgument
from hitl_sim.interrupts import ActionRequest, PendingInterrupt
from hitl_sim.reviewing.reviewer import as_responder

ALL = ("approve", "edit", "reject", "respond")
NODE = "HumanInTheLoopMiddleware.after_model"


def action(name, **args):
    return ActionRequest(name, args, None, ALL)


def batched(*actions, seq=1):
    return PendingInterrupt("a" * 32, "batched", {}, NODE, tuple(actions), seq=seq)


def per_call(act, seq=1):
    return PendingInterrupt("b" * 32, "per_call", {}, "tools", (act,), seq=seq)


def raw(value, seq=1):
    return PendingInterrupt("c" * 32, "raw", value, "ask", seq=seq)


EMAIL = action("send_email", to="bob", body="hi")
DELETE = action("delete_file", path="/etc/passwd")
DELETE_TMP = action("delete_file", path="/tmp/x")
H24 = timedelta(hours=24)


def test_a_list_answers_action_requests_in_order_one_decision_each():
    reviewer = Reviewer([approve(), reject("no"), edit(to="x")])
    assert reviewer.decide(batched(EMAIL, DELETE), None) == [approve(), reject("no")]
    assert reviewer.decide(per_call(EMAIL, seq=2), None) == [edit(to="x")]
    assert reviewer.unused() == []
    assert reviewer.consumed == [approve(), reject("no"), edit(to="x")]


def test_leftover_decisions_are_reported_unused():
    reviewer = Reviewer([approve(), reject("spare")])
    reviewer.decide(per_call(EMAIL), None)
    assert reviewer.unused() == [reject("spare")]


def test_running_out_names_the_interrupt_the_action_and_what_was_consumed():
    reviewer = Reviewer([approve()])
    with pytest.raises(ScriptExhausted) as excinfo:
        reviewer.decide(batched(EMAIL, DELETE, seq=1), None)
    assert str(excinfo.value) == (
        f"The reviewer ran out of decisions at interrupt #1 (batched, node '{NODE}'), "
        "action 2 of 2: delete_file(path='/etc/passwd').\n"
        "1 decision consumed before it:\n"
        "- interrupt #1, send_email(to='bob', body='hi'): approve()\n"
        "Add a decision for it (one per action request, in order), or answer by tool with "
        "Reviewer.by_tool({...}, default=...)."
    )
    assert excinfo.value.interrupt.seq == 1
    assert excinfo.value.consumed == [approve()]


def test_running_out_on_a_raw_interrupt_shows_its_payload():
    with pytest.raises(ScriptExhausted) as excinfo:
        Reviewer([]).decide(raw({"level": "vp"}, seq=3), None)
    assert str(excinfo.value).splitlines()[:2] == [
        "The reviewer ran out of decisions at interrupt #3 (raw, node 'ask') with payload "
        "{'level': 'vp'}.",
        "No decision was consumed before it.",
    ]


def test_by_tool_builds_the_positional_list_itself():
    reviewer = Reviewer.by_tool({"delete_file": reject("keep it"), "send_email": approve()})
    assert reviewer.decide(batched(DELETE, EMAIL, DELETE_TMP), None) == [
        reject("keep it"),
        approve(),
        reject("keep it"),
    ]
    assert reviewer.unused() == []


def test_by_tool_lists_are_used_up_in_order_and_leftovers_reported():
    reviewer = Reviewer.by_tool({"send_email": [approve(), reject("twice?")]}, default=approve())
    assert reviewer.decide(batched(DELETE, EMAIL), None) == [approve(), approve()]
    assert reviewer.unused() == [reject("twice?")]


def test_by_tool_without_a_matching_key_or_default_is_an_unexpected_interrupt():
    with pytest.raises(UnexpectedInterrupt) as excinfo:
        Reviewer.by_tool({"send_email": approve()}).decide(per_call(DELETE, seq=2), None)
    assert str(excinfo.value) == (
        "No reviewer rule matches interrupt #2 (per_call, node 'tools'), action 1 of 1: "
        "delete_file(path='/etc/passwd').\n"
        "Rules:\n- when('send_email')\n"
        "Add a rule for it, or a default= decision."
    )


def test_rules_match_on_arguments_first_match_wins():
    def system_path(path):
        return path.startswith("/etc")

    reviewer = Reviewer.rules(
        when("delete_file", path=system_path) >> reject("no system files"),
        when("send_email", to="bob") >> respond("Bob is on holiday"),
        default=approve(),
    )
    assert reviewer.decide(batched(DELETE, DELETE_TMP, EMAIL), None) == [
        reject("no system files"),
        approve(),
        respond("Bob is on holiday"),
    ]


def test_rules_match_raw_payload_fields():
    reviewer = Reviewer.rules(
        when(level="manager") >> answer({"approved": True}),
        when(level="vp") >> answer({"approved": False}),
    )
    assert reviewer.decide(raw({"level": "vp", "amount": 9000}), None) == [
        answer({"approved": False})
    ]


def test_a_function_gets_the_action_or_the_interrupt():
    seen = []

    def decide(subject, interrupt):
        seen.append((type(subject).__name__, interrupt.kind))
        if isinstance(subject, ActionRequest):
            return reject("no") if subject.name == "delete_file" else approve()
        return answer(subject.value["question"].upper())

    reviewer = as_responder(decide)
    assert reviewer.decide(batched(EMAIL, DELETE), None) == [approve(), reject("no")]
    assert reviewer.decide(raw({"question": "ok?"}), None) == [answer("OK?")]
    assert seen == [
        ("ActionRequest", "batched"),
        ("ActionRequest", "batched"),
        ("PendingInterrupt", "raw"),
    ]


def test_a_function_returning_something_else_is_named_in_the_error():
    def decide(action):
        return "approve"

    with pytest.raises(InvalidArgument) as excinfo:
        Reviewer.function(decide).decide(per_call(EMAIL), None)
    assert str(excinfo.value) == (
        "Reviewer function test_a_function_returning_something_else_is_named_in_the_error."
        "<locals>.decide returned 'approve' for interrupt #1 (per_call, node 'tools'), action 1 "
        "of 1: send_email(to='bob', body='hi'). Expected a Decision (approve(), edit(...), "
        "reject(...), respond(...), answer(...)) or None for an unavailable reviewer."
    )


def test_identity_defaults_to_the_reviewer_and_latency_is_kept():
    reviewer = Reviewer([approve(after=60), reject("no", by="bob")], by="alice")
    decided = reviewer.decide(batched(EMAIL, DELETE), None)
    assert decided == [approve(by="alice", after=60), reject("no", by="bob")]


def test_a_decision_slower_than_the_timeout_is_replaced_with_latency_the_deadline():
    reviewer = Reviewer(
        [approve(after=timedelta(hours=30)), approve(after=timedelta(hours=2))],
        timeout=H24,
        on_timeout=reject("Approval timeout", by="approval-service"),
    )
    assert reviewer.decide(per_call(EMAIL), None) == [
        reject("Approval timeout", by="approval-service", after=H24)
    ]
    assert reviewer.decide(per_call(DELETE, seq=2), None) == [approve(after=timedelta(hours=2))]
    assert reviewer.consumed[0] == approve(after=timedelta(hours=30))


def test_the_actions_of_a_batch_share_one_deadline():
    reviewer = Reviewer(
        [approve(after=timedelta(hours=20)), approve(after=timedelta(hours=10)), approve()],
        timeout=H24,
        on_timeout=reject("Approval timeout"),
    )
    assert reviewer.decide(batched(EMAIL, DELETE, DELETE_TMP), None) == [
        approve(after=timedelta(hours=20)),
        reject("Approval timeout", after=timedelta(hours=4)),  # the request expired at 24 h
        reject("Approval timeout"),
    ]


def test_timeout_needs_a_policy():
    with pytest.raises(InvalidArgument, match="timeout= and on_timeout= go together"):
        Reviewer([approve()], timeout=H24)


def test_an_unavailable_reviewer_leaves_the_interrupt_pending_or_times_out():
    assert Reviewer.unavailable().decide(batched(EMAIL), None) is None
    timed = Reviewer.unavailable(timeout=H24, on_timeout=reject("Approval timeout"))
    assert timed.decide(batched(EMAIL), None) == [reject("Approval timeout", after=H24)]


def test_a_chain_escalates_past_slow_and_unavailable_levels_adding_up_latency():
    reviewer = Reviewer.chain(
        manager=approve(after=timedelta(hours=30)),
        director=Reviewer.unavailable(),
        vp=reject("over budget", after=timedelta(minutes=5)),
        timeout=H24,
        on_timeout=reject("Approval timeout"),
    )
    assert reviewer.decide(per_call(EMAIL), None) == [
        reject("over budget", by="vp", after=timedelta(hours=48, minutes=5))
    ]


def test_a_chain_whose_every_level_times_out_uses_the_policy():
    reviewer = Reviewer.chain(
        manager=Reviewer.unavailable(),
        director=Reviewer.unavailable(),
        timeout=H24,
        on_timeout=reject("Approval timeout", by="system"),
    )
    assert reviewer.decide(per_call(EMAIL), None) == [
        reject("Approval timeout", by="system", after=timedelta(hours=48))
    ]


def test_a_chain_keyed_by_level_signs_each_decision_with_its_level():
    reviewer = Reviewer.chain(
        manager=[answer({"approved": True})],
        director=[answer({"approved": True})],
        vp=[answer({"approved": False, "reason": "over budget"})],
        key="level",
    )
    decided = [
        reviewer.decide(raw({"level": level}, seq=n), None)
        for n, level in enumerate(["manager", "director", "vp"], 1)
    ]
    assert decided == [
        [answer({"approved": True}, by="manager")],
        [answer({"approved": True}, by="director")],
        [answer({"approved": False, "reason": "over budget"}, by="vp")],
    ]
    assert reviewer.unused() == []


def test_a_keyed_chain_refuses_an_unknown_level():
    reviewer = Reviewer.chain(manager=approve(), key="level")
    with pytest.raises(UnexpectedInterrupt) as excinfo:
        reviewer.decide(raw({"level": "ceo"}, seq=4), None)
    assert str(excinfo.value) == (
        "The reviewer chain cannot answer interrupt #4 (raw, node 'ask') with payload "
        "{'level': 'ceo'}: it names level 'ceo'.\n"
        "Levels: 'manager'.\n"
        "Add that level to Reviewer.chain(...), or check key='level'."
    )


def test_a_chain_level_that_runs_out_is_named():
    reviewer = Reviewer.chain(manager=[approve()], key="level")
    reviewer.decide(raw({"level": "manager"}), None)
    with pytest.raises(ScriptExhausted, match="^Reviewer level 'manager' ran out of decisions"):
        reviewer.decide(raw({"level": "manager"}, seq=2), None)


def test_always_answers_everything():
    reviewer = Reviewer.always(approve())
    assert reviewer.decide(batched(EMAIL, DELETE), None) == [approve(), approve()]


def test_no_reviewer_makes_any_interrupt_unexpected():
    with pytest.raises(UnexpectedInterrupt) as excinfo:
        as_responder(None).decide(batched(EMAIL, seq=1), None)
    assert str(excinfo.value) == (
        f"interrupt #1 (batched, node '{NODE}') asks about send_email(to='bob', body='hi'), but "
        "the run has no reviewer.\n"
        "Pass reviewer=[...] with one decision per action request, or "
        "reviewer=Reviewer.unavailable() with expect_pending=True to leave it pending."
    )


def test_as_responder_takes_lists_and_reviewers_and_refuses_anything_else():
    reviewer = Reviewer([approve()])
    assert as_responder(reviewer) is reviewer
    assert as_responder([approve()]).decide(per_call(EMAIL), None) == [approve()]
    with pytest.raises(InvalidArgument) as excinfo:
        as_responder(approve())
    assert str(excinfo.value) == (
        "reviewer=Decision(type='approve', args=None, name=None, message=None, value=None, "
        "by=None, after=datetime.timedelta(0)) is not a reviewer. Expected a list of decisions "
        "([approve(), reject('no')]), a Reviewer, a function returning a Decision, or None. "
        "For one decision write [decision]."
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Reviewer(approve()), "Reviewer() takes a list of decisions"),
        (lambda: Reviewer(["approve"]), "Reviewer([...]) got 'approve', which is not a Decision"),
        (lambda: Reviewer.rules("x"), "Reviewer.rules() takes rules built as when(...) >>"),
        (lambda: when("x") >> "approve", "The rule when('x') is 'approve'. Expected a Decision"),
        (lambda: Reviewer.chain(), "Reviewer.chain() needs at least one level"),
        (lambda: when(3), "when() takes a tool name as a str, got 3."),
        (lambda: Reviewer([], timeout=24, on_timeout=reject()), "timeout=24 is not a timedelta"),
    ],
)
def test_misuse_is_an_invalid_argument(build, message):
    with pytest.raises(InvalidArgument) as excinfo:
        build()
    assert str(excinfo.value).startswith(message)


def test_a_function_can_take_the_run_too():
    seen = []

    def with_run(action, interrupt, run):
        seen.append((action.name, interrupt.seq, run))
        return approve()

    def variadic(*given):
        seen.append(len(given))
        return approve()

    run = object()
    assert Reviewer.function(with_run).decide(per_call(EMAIL, seq=5), run) == [approve()]
    assert Reviewer.function(variadic).decide(per_call(EMAIL), run) == [approve()]
    assert seen == [("send_email", 5, run), 3]
    assert Reviewer.function(lambda action: None).decide(per_call(EMAIL), None) is None
