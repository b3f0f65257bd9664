"""Every responder kind driving real agents and graphs end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import (
    Reviewer,
    ScriptExhausted,
    UnexpectedInterrupt,
    answer,
    approve,
    edit,
    reject,
    respond,
    simulate,
    when,
)
from hitl_sim.models.chat import call, say
from tests.agents import build_agent

CLEANUP = [
    [
        call("delete_file", path="/etc/hosts"),
        call("read_file", path="/srv/log"),
        call("delete_file", path="/tmp/cache"),
        call("send_email", to="bob", body="cleaned"),
    ],
    say("done"),
]
START_AT = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def ran(run):
    return sorted((e.name, tuple(sorted(e.args.items()))) for e in run.executed)


def test_a_list_answers_the_gated_calls_in_order():
    reviewer = [reject("system file"), approve(), edit(to="team")]
    run = simulate(build_agent(CLEANUP), "clean up", reviewer)
    assert ran(run) == [
        ("delete_file", (("path", "/tmp/cache"),)),
        ("read_file", (("path", "/srv/log"),)),
        ("send_email", (("body", "cleaned"), ("to", "team"))),
    ]
    run.check()


def test_by_tool_and_rules_answer_by_what_the_call_is():
    reviewer = Reviewer.rules(
        when("delete_file", path=lambda p: p.startswith("/etc")) >> reject("system file"),
        when("send_email") >> respond("Bob is away"),
        default=approve(),
    )
    run = simulate(build_agent(CLEANUP), "clean up", reviewer)
    assert sorted(run.executed_names) == ["delete_file", "read_file"]
    assert [d.decision.describe() for d in run.decisions] == [
        "reject('system file')",
        "approve()",
        "respond('Bob is away')",
    ]
    run.check()
    by_tool = Reviewer.by_tool({"delete_file": reject("no deletes")}, default=approve())
    assert sorted(simulate(build_agent(CLEANUP), "go", by_tool).executed_names) == [
        "read_file",
        "send_email",
    ]


def test_a_function_reviewer_sees_each_action():
    def reviewer(action):
        return approve() if action.args.get("path", "").startswith("/tmp") else reject("no")

    run = simulate(build_agent(CLEANUP), "clean up", reviewer)
    assert sorted(run.executed_names) == ["delete_file", "read_file"]
    assert [d.action.tool_call_id for d in run.decisions] == ["call_1", "call_3", "call_4"]
    run.check()


def test_a_timeout_answers_at_the_deadline_on_the_frozen_clock():
    reviewer = Reviewer(
        [approve(after=timedelta(hours=30))],
        timeout=timedelta(hours=24),
        on_timeout=reject("Approval timeout", by="approval-service"),
    )
    agent = build_agent([call("send_email", to="bob", body="hi"), say("ok")])
    run = simulate(agent, "mail bob", reviewer)
    (record,) = run.decisions
    assert record.decision == reject("Approval timeout", by="approval-service", after=timedelta(1))
    assert record.at == START_AT + timedelta(hours=24)
    assert run.executed == []
    assert "with reason: Approval timeout" in run.model_requests[-1].messages[-1].content
    run.check()


def test_an_unavailable_reviewer_leaves_the_run_pending():
    agent = build_agent([call("send_email", to="bob", body="hi"), say("ok")])
    run = simulate(agent, "mail bob", Reviewer.unavailable(), expect_pending=True)
    assert run.status == "pending"
    assert [p.actions[0].name for p in run.pending] == ["send_email"]
    assert run.executed == []
    run.check()


class Spend(TypedDict):
    amount: int
    approvals: list[str]


def sign_off(state: Spend) -> Spend:
    signed: list[str] = []
    for level in ("manager", "director", "vp"):
        reply = interrupt({"level": level, "amount": state["amount"]})
        if not reply["approved"]:
            return {"amount": state["amount"], "approvals": [*signed, f"{level}: no"]}
        signed.append(level)
    return {"amount": state["amount"], "approvals": signed}


def spend_graph():
    builder = StateGraph(Spend)
    builder.add_node("sign_off", sign_off)
    builder.add_edge(START, "sign_off")
    builder.add_edge("sign_off", END)
    return builder.compile(checkpointer=InMemorySaver())


def test_a_chain_keyed_by_level_answers_a_multi_level_sign_off():
    yes = answer({"approved": True})
    reviewer = Reviewer.chain(
        manager=[yes],
        director=[answer({"approved": True}, after=timedelta(hours=2))],
        vp=[answer({"approved": False})],
        key="level",
    )
    run = simulate(spend_graph(), {"amount": 5, "approvals": []}, reviewer)
    assert run.final_state["approvals"] == ["manager", "director", "vp: no"]
    assert [(d.decision.by, d.at - START_AT) for d in run.decisions] == [
        ("manager", timedelta(0)),
        ("director", timedelta(hours=2)),
        ("vp", timedelta(hours=2)),
    ]
    run.check()


def test_an_escalation_chain_is_answered_by_the_first_level_in_time():
    reviewer = Reviewer.chain(
        manager=answer({"approved": True}, after=timedelta(days=3)),
        director=answer({"approved": True}, after=timedelta(hours=1)),
        timeout=timedelta(hours=24),
        on_timeout=answer({"approved": False}),
    )
    run = simulate(spend_graph(), {"amount": 5, "approvals": []}, reviewer)
    assert run.final_state["approvals"] == ["manager", "director", "vp"]
    assert {d.decision.by for d in run.decisions} == {"director"}
    assert run.decisions[-1].at == START_AT + 3 * timedelta(hours=25)


def test_running_out_on_a_real_run_names_the_interrupt():
    with pytest.raises(ScriptExhausted) as excinfo:
        simulate(build_agent(CLEANUP), "clean up", [reject("system file"), approve()])
    assert str(excinfo.value).startswith(
        "The reviewer ran out of decisions at interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model'), action 3 of 3: send_email(to='bob', "
        "body='cleaned').\n2 decisions consumed before it:\n"
        "- interrupt #1, delete_file(path='/etc/hosts'): reject('system file')\n"
        "- interrupt #1, delete_file(path='/tmp/cache'): approve()\n"
    )


def test_no_reviewer_turns_an_interrupt_into_a_failure():
    with pytest.raises(UnexpectedInterrupt, match=r"^interrupt #1 \(raw, node 'sign_off'\) asks"):
        simulate(spend_graph(), {"amount": 5, "approvals": []})
