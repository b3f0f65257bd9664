"""run.final_state is the thread's whole state, private keys included, however the run ended.

An invoke that runs to the end hands its final state back to the driver without a thread read;
these tests hold that state to what `get_state` shows afterwards, in every style the driver
meets: an agent with middleware state, a raw graph, a static breakpoint, a run left pending.
"""

from __future__ import annotations

import asyncio

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import ScriptedChatModel, answer, approve, asimulate, call, edit, say, simulate
from tests.agents import read_file, send_email
from tests.driving.test_graphs import ask, compiled, first, second


def edited_agent():
    """Leaves the HITL middleware's private `hitl_edited_tool_calls` key in the state."""
    return create_agent(
        ScriptedChatModel(
            [[call("send_email", to="bob", body="hi"), call("read_file", path="/a")], say("Done.")]
        ),
        tools=[send_email, read_file],
        middleware=[HumanInTheLoopMiddleware({"send_email": True})],
        checkpointer=InMemorySaver(),
    )


CASES = {
    "agent, edited call": (edited_agent, "go", [edit(to="carol")]),
    "raw interrupt": (
        lambda: compiled(ask),
        {"log": []},
        [answer({"approved": True, "approver_id": "u1"})],
    ),
    "static breakpoint": (
        lambda: compiled(first, second, interrupt_before=["second"]),
        {"log": []},
        [approve()],
    ),
    "left pending": (lambda: compiled(ask), {"log": []}, None),
}


@pytest.mark.parametrize("how", ["sync", "async"])
@pytest.mark.parametrize("case", list(CASES))
def test_final_state_is_what_the_thread_holds(case, how):
    build, given, reviewer = CASES[case]
    graph = build()
    options = {"expect_pending": reviewer is None}
    if how == "sync":
        run = simulate(graph, given, reviewer, **options)
    else:
        run = asyncio.run(asimulate(graph, given, reviewer, **options))
    held = graph.get_state({"configurable": {"thread_id": run.thread_id}})
    assert run.final_state == dict(held.values)
    assert run.status == ("pending" if reviewer is None else "finished"), run
    if case == "agent, edited call":
        assert "hitl_edited_tool_calls" in run.final_state
