"""simulate() on hand-written StateGraphs: raw interrupt(), several pending, breakpoints."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

import pytest
from langchain.agents import create_agent
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send, interrupt
from pydantic import BaseModel

from hitl_sim import (
    Reviewer,
    ScriptedChatModel,
    answer,
    approve,
    call,
    recover,
    reject,
    say,
    simulate,
    unchecked,
    update,
)
from hitl_sim.errors import ScenarioError
from tests.driving.test_simulate import agent


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    note: str
    items: list[str]


def compiled(*nodes, edges=(), **compile_options):
    """A graph running `nodes` (functions) one after another from START."""
    builder = StateGraph(State)
    names = [fn.__name__ for fn in nodes]
    for fn in nodes:
        builder.add_node(fn.__name__, fn)
    for edge in edges or list(zip([START, *names], [*names, END], strict=True)):
        builder.add_edge(*edge)
    return builder.compile(checkpointer=InMemorySaver(), **compile_options)


RAN: list[str] = []


def ask(state: State) -> State:
    RAN.append("ask")
    reply = interrupt({"question": "Deploy to prod?", "risk": "high"})
    return {"log": [f"deploy approved by {reply['approver_id']}" if reply["approved"] else "no"]}


def test_a_raw_interrupt_is_answered_with_the_value_the_node_expects():
    RAN.clear()
    run = simulate(
        compiled(ask), {"log": []}, Reviewer([answer({"approved": True, "approver_id": "u1"})])
    )

    assert run.final_state == {"log": ["deploy approved by u1"]}
    [interrupt_] = run.interrupts
    assert (interrupt_.kind, interrupt_.node, interrupt_.value) == (
        "raw",
        "ask",
        {"question": "Deploy to prod?", "risk": "high"},
    )
    assert run.decisions[0].payload == {"approved": True, "approver_id": "u1"}
    assert RAN == ["ask", "ask"]
    assert str(run).splitlines()[1:4] == [
        "    +0s r0 interrupt #1 (raw, node 'ask'): "
        "{'question': 'Deploy to prod?', 'risk': 'high'}",
        "    +0s r1 decision for #1: answer({'approved': True, 'approver_id': 'u1'})",
        "    +0s r1 resume 1 (#1): Command(resume={#1: {'approved': True, 'approver_id': 'u1'}})",
    ]


def two_questions(state: State) -> State:
    first = interrupt("first?")
    second = interrupt("second?")
    return {"log": [f"{first},{second}"]}


def test_several_interrupts_in_one_node_are_answered_one_resume_each():
    run = simulate(compiled(two_questions), {"log": []}, Reviewer([answer("A"), answer("B")]))

    assert run.final_state == {"log": ["A,B"]}
    assert [(i.seq, i.value) for i in run.interrupts] == [(1, "first?"), (2, "second?")]
    assert run.interrupts[0].id != run.interrupts[1].id
    assert [s.record.answers for s in run.steps if s.kind == "resume"] == [(1,), (2,)]


def left(state: State) -> State:
    return {"log": ["left:" + interrupt("left?")]}


def right(state: State) -> State:
    return {"log": ["right:" + interrupt("right?")]}


def test_parallel_branches_are_answered_together_keyed_by_interrupt_id():
    graph = compiled(
        left,
        right,
        edges=[(START, "left"), (START, "right"), ("left", END), ("right", END)],
    )

    run = simulate(graph, {"log": []}, Reviewer([answer("L"), answer("R")]))

    assert sorted(run.final_state["log"]) == ["left:L", "right:R"]
    [resume] = [s.record for s in run.steps if s.kind == "resume"]
    assert resume.answers == (1, 2)
    assert resume.value == {run.interrupts[0].id: "L", run.interrupts[1].id: "R"}


def fan_out(state: State) -> list[Send]:
    return [Send("review_item", {"items": [item]}) for item in state["items"]]


def review_item(state: State) -> State:
    [item] = state["items"]
    return {"log": [f"{item}:{interrupt({'item': item})}"]}


def test_a_send_fan_out_pauses_once_per_branch():
    builder = StateGraph(State)
    builder.add_node("review_item", review_item)
    builder.add_conditional_edges(START, fan_out, ["review_item"])
    builder.add_edge("review_item", END)
    graph = builder.compile(checkpointer=InMemorySaver())

    def by_item(interrupt_):
        return answer("ok" if interrupt_.value["item"] != "b" else "no")

    run = simulate(graph, {"items": ["a", "b", "c"], "log": []}, Reviewer.function(by_item))

    assert sorted(run.final_state["log"]) == ["a:ok", "b:no", "c:ok"]
    assert len(run.interrupts) == 3
    assert sum(1 for s in run.steps if s.kind == "resume") == 1


def first(state: State) -> State:
    return {"log": ["first"]}


def second(state: State) -> State:
    return {"log": [f"second:{state.get('note', '-')}"]}


def test_a_static_breakpoint_is_continued_with_invoke_none():
    run = simulate(
        compiled(first, second, interrupt_before=["second"]), {"log": []}, Reviewer([approve()])
    )

    assert run.final_state == {"log": ["first", "second:-"]}
    [stop] = run.interrupts
    assert (stop.kind, stop.node, stop.id) == ("breakpoint", "second", None)
    [resume] = [s.record for s in run.steps if s.kind == "resume"]
    assert (resume.how, resume.value, resume.update) == ("continue", None, None)
    assert "r1 resume 1 (#1): invoke(None)" in str(run)


def test_an_update_decision_writes_state_before_continuing():
    run = simulate(
        compiled(first, second, interrupt_after=["first"]),
        {"log": []},
        Reviewer([update(note="checked")]),
    )

    assert run.final_state == {"log": ["first", "second:checked"], "note": "checked"}
    assert "r1 resume 1 (#1): update_state({'note': 'checked'}), invoke(None)" in str(run)


def test_a_breakpoint_cannot_be_rejected():
    graph = compiled(first, second, interrupt_before=["second"])

    with pytest.raises(ScenarioError) as caught:
        simulate(graph, {"log": []}, Reviewer([reject("no")]))

    assert str(caught.value).splitlines()[1:] == [
        "Static breakpoint before node 'second'",
        "Decisions: [\"reject('no')\"]",
        "Problems:",
        "- interrupt #1 (breakpoint, node 'second'): reject('no') cannot answer a static "
        "breakpoint, which can only be continued. Use approve() to continue, or "
        "update(key=value) to write state first.",
        "Fix the decisions; to send a malformed answer on purpose (to test what the agent does "
        "with it), wrap it in unchecked(...).",
    ]


def test_create_agent_interrupt_before_tools_is_a_breakpoint():
    graph = agent([call("read_file", path="/a"), say("done")])
    graph.interrupt_before_nodes = ["tools"]

    run = simulate(graph, "go", Reviewer([approve()]))

    assert [(i.kind, i.node) for i in run.interrupts] == [("breakpoint", "tools")]
    assert [(e.name, e.resume) for e in run.executed] == [("read_file", 1)]


class Approval(BaseModel):
    approved: bool


def typed(state: State) -> State:
    reply = interrupt({"question": "ok?"}, response_schema=Approval)
    return {"log": [repr(reply)]}


def test_a_response_schema_rejects_a_bad_answer_and_the_interrupt_stays_pending():
    graph = compiled(typed)
    run = simulate(graph, {"log": []}, Reviewer([unchecked({"approved": "maybe"})]))

    assert run.error.type == "ValidationError"
    assert run.error.message.splitlines()[:3] == [
        "1 validation error for Approval",
        "approved",
        "  Input should be a valid boolean, unable to interpret input [type=bool_parsing, "
        "input_value='maybe', input_type=str]",
    ]
    assert (run.error.resumable, run.error.poisoned) == (True, False)
    assert run.interrupts[0].response_schema["title"] == "Approval"

    recover(run, graph, Reviewer([answer({"approved": True})]))

    assert run.final_state == {"log": ["Approval(approved=True)"]}
    assert [p.seq for p in run.pending] == []


def test_a_subgraph_interrupt_is_answered_on_the_parent_thread():
    inner = StateGraph(State)
    inner.add_node("ask", ask)
    inner.add_edge(START, "ask")
    inner.add_edge("ask", END)
    outer = StateGraph(State)
    outer.add_node("inner", inner.compile())
    outer.add_edge(START, "inner")
    outer.add_edge("inner", END)

    run = simulate(
        outer.compile(checkpointer=InMemorySaver()),
        {"log": []},
        Reviewer([answer({"approved": False, "approver_id": "u2"})]),
    )

    assert run.final_state == {"log": ["no"]}
    assert [(i.kind, i.node) for i in run.interrupts] == [("raw", "inner")]


@tool
def wire_money(amount: int) -> str:
    """Wire money; asks a human itself before doing it."""
    reply = interrupt({"action": "wire_money", "amount": amount, "question": "Approve?"})
    return f"wired {amount}" if reply.get("approved") else f"not wired: {reply.get('reason')}"


def test_a_tool_that_calls_interrupt_itself_runs_once_after_the_answer():
    graph = create_agent(
        ScriptedChatModel([call("wire_money", amount=100), say("done")]),
        tools=[wire_money],
        checkpointer=InMemorySaver(),
    )

    run = simulate(graph, "pay", Reviewer([answer({"approved": False, "reason": "too much"})]))

    assert [(i.kind, i.node) for i in run.interrupts] == [("raw", "tools")]
    assert [(e.name, e.result, e.resume) for e in run.executed] == [
        ("wire_money", "not wired: too much", 1)
    ]
