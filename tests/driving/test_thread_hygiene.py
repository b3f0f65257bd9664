"""Thread hygiene, class 7 of the fail-closed issue: a pinned checkpoint, new input at a static
breakpoint, and a thread stuck on a failed task are refused before LangGraph misroutes them."""

from __future__ import annotations

from typing import TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import Reviewer, ThreadError, answer, approve, simulate
from hitl_sim.driving.api import resume
from hitl_sim.errors import InvalidArgument


class State(TypedDict, total=False):
    question: str
    answer: str
    log: list[str]


def ask(state: State) -> State:
    return {"answer": interrupt("Deploy?")}


def one_node(node, **compile_options):
    builder = StateGraph(State)
    builder.add_node(node.__name__, node)
    builder.add_edge(START, node.__name__)
    builder.add_edge(node.__name__, END)
    return builder.compile(checkpointer=InMemorySaver(), **compile_options)


def answered_yes():
    graph = one_node(ask)
    run = simulate(graph, {"question": "deploy"}, Reviewer([answer("yes")]))
    (paused,) = [s for s in graph.get_state_history(run.config) if s.next == ("ask",)]
    return graph, run, paused


def test_a_config_pinned_to_an_earlier_checkpoint_is_refused():
    graph, run, paused = answered_yes()
    pinned = paused.config["configurable"]["checkpoint_id"]

    with pytest.raises(InvalidArgument) as caught:
        simulate(graph, None, Reviewer([answer("no")]), config=paused.config)

    assert str(caught.value) == (
        f"The config pins thread {run.thread_id!r} to checkpoint {pinned!r}. LangGraph resumes "
        "a pinned checkpoint with the resume value it stored there before, not the one sent, so "
        "the run record would show a decision that never took effect. Expected a config naming "
        "only the thread (the driver answers the thread's newest checkpoint). Fix: drop "
        "checkpoint_id. To decide again at an earlier checkpoint, replay it first: "
        "graph.invoke(None, pinned_config) re-asks its interrupt on a new head; then "
        "simulate(graph, None, reviewer, thread_id=...) answers that."
    )
    assert graph.get_state(run.config).values["answer"] == "yes"


def test_the_replay_recipe_makes_the_new_decision_take_effect():
    graph, run, paused = answered_yes()

    graph.invoke(None, paused.config)
    again = simulate(graph, None, Reviewer([answer("no")]), thread_id=run.thread_id)

    assert again.status == "finished"
    assert again.final_state["answer"] == "no"
    assert graph.get_state(run.config).values["answer"] == "no"


def first(state: State) -> State:
    return {"log": ["first"]}


def test_new_input_at_a_static_breakpoint_is_refused():
    graph = one_node(first, interrupt_before=["first"])
    run = simulate(graph, {"log": []}, expect_pending=True)
    assert [p.kind for p in run.pending] == ["breakpoint"]

    with pytest.raises(ThreadError) as caught:
        simulate(graph, {"log": []}, Reviewer([approve()]), thread_id=run.thread_id)

    assert str(caught.value).startswith(
        f"Thread {run.thread_id!r} is paused at a static breakpoint before 'first', and simulate() "
        "was given new input for it: LangGraph would silently abandon the pending review"
    )
    assert resume(graph, run.thread_id, Reviewer([approve()])).final_state["log"] == ["first"]


def broken(state: State) -> State:
    raise KeyError("missing")


def test_resuming_a_thread_stuck_on_a_failed_task_is_refused():
    graph = one_node(broken)
    run = simulate(graph, {"log": []})
    assert run.status == "failed"
    assert graph.get_state(run.config).next == ("broken",)

    with pytest.raises(ThreadError) as caught:
        resume(graph, run.thread_id, Reviewer([]))

    assert str(caught.value) == (
        f"Thread {run.thread_id!r} is stuck on a failed task: node 'broken' raised "
        "KeyError('missing'). Nothing is pending to answer, yet the thread is not finished "
        "(next=('broken',)), so resuming it would report a finished run that never finished. "
        "Fix: continue the failed run with recover(run, graph, reviewer), or re-run the node "
        "yourself with graph.invoke(None, config) once its cause is fixed."
    )
