"""recover() after a failed step, class 7 of the fail-closed issue: a tool's own failure is not a
poisoned answer, nothing that already ran is run again without an explicit opt-in, a result the
thread lost is reported, and a refused recover() keeps `run.error`."""

from __future__ import annotations

import asyncio
import operator
import threading
import time
from typing import Annotated, TypedDict

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import (
    CheckFailed,
    Reviewer,
    ScriptedChatModel,
    ThreadError,
    answer,
    approve,
    arecover,
    asimulate,
    call,
    recover,
    say,
    simulate,
)


def flaky_agent(mode, slow_sibling=False):
    """send_email and boom, both gated; boom raises once, then works. With `slow_sibling`,
    send_email (run in parallel) finishes only after boom has raised."""
    failing = threading.Event()

    @tool
    def send_email(to: str) -> str:
        """Send an email."""
        if slow_sibling:
            failing.wait(timeout=5)
            time.sleep(0.3)
        return f"sent to {to}"

    @tool
    def boom(x: str) -> str:
        """A tool that fails at first (after its sibling finished, unless that one is slow:
        LangGraph may lose a sibling's write that lands while the step fails)."""
        if not failing.is_set():
            if not slow_sibling:
                time.sleep(0.3)
            failing.set()
            raise RuntimeError("boom tool failed")
        return "ok"

    model = ScriptedChatModel([[call("send_email", to="bob"), call("boom", x="1")], say("done")])
    return create_agent(
        model,
        tools=[send_email, boom],
        middleware=[
            HumanInTheLoopMiddleware(
                interrupt_on={"send_email": True, "boom": True}, interrupt_mode=mode
            )
        ],
        checkpointer=InMemorySaver(),
    )


def ran(run):
    return [(e.name, e.error) for e in run.executed]


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_a_tools_own_failure_is_retried_with_the_stored_answer(mode):
    graph = flaky_agent(mode)
    run = simulate(graph, "go", Reviewer([approve(), approve()]))

    error = run.error
    assert (error.type, error.tool, error.poisoned, error.resumable) == (
        "RuntimeError",
        "boom",
        False,
        True,
    )
    assert run.pending == []  # the failed task's interrupt was answered; nothing waits on a human
    assert "error (raised by tool boom, resumable) in node 'tools'" in str(run)

    recover(run, graph)

    assert run.status == "finished"
    assert ran(run) == [
        ("send_email", None),
        ("boom", "RuntimeError: boom tool failed"),
        ("boom", None),
    ]
    assert "r2 resume 2: invoke(None), retrying the failed task with its answer" in str(run)
    assert [d.resume for d in run.decisions] == [1, 1]  # the reviewer was not asked again
    run.check()


def test_arecover_retries_a_per_call_tool_failure_without_rerunning_its_sibling():
    graph = flaky_agent("per_call")

    async def scenario():
        run = await asimulate(graph, "go", Reviewer([approve(), approve()]))
        return await arecover(run, graph)

    run = asyncio.run(scenario())

    assert [name for name, error in ran(run) if error is None] == ["send_email", "boom"]
    run.check()


def test_a_step_whose_sibling_result_was_lost_is_reported_and_not_retried_silently():
    graph = flaky_agent("per_call", slow_sibling=True)
    run = simulate(graph, "go", Reviewer([approve(), approve()]), durability="exit")

    (lost,) = run.error.lost
    assert (lost.name, lost.args) == ("send_email", {"to": "bob"})
    assert run.lost_results == [lost]
    assert "    result lost: send_email(to='bob') ran, but the thread kept no result of it" in str(
        run
    )
    with pytest.raises(CheckFailed) as caught:
        run.check()
    assert [v.check for v in caught.value.violations] == ["result_lost"]
    assert caught.value.violations[0].message == (
        "send_email ran in resume 1, but the thread kept no result of it: the step it ran in "
        "failed and its write was not saved, so the thread does not know it ran and a retry of "
        "that step runs it again."
    )

    with pytest.raises(ThreadError) as refused:
        recover(run, graph, Reviewer([approve()]))
    assert str(refused.value) == (
        f"recover() would run again what already ran on thread {run.thread_id!r}: "
        "send_email(to='bob') (ran in resume 1): they ran in the step that failed, but the "
        "thread kept no result of them (their write was not saved, e.g. with "
        "durability='exit'), so retrying that step runs them again. Expected a failed step "
        "whose finished work the thread kept. run.error is kept. Fix: pass recover(..., "
        "allow_rerun=True) if running it again is safe (run.check() then reports each second "
        "execution as ran_twice), or start a new run."
    )
    assert run.status == "failed" and run.error.tool == "boom"

    recover(run, graph, Reviewer([approve()]), allow_rerun=True, durability="exit")

    assert run.status == "finished"
    with pytest.raises(CheckFailed) as rerun:
        run.check()
    assert [v.check for v in rerun.value.violations] == ["ran_twice", "result_lost"]


def test_with_writes_saved_at_each_step_nothing_is_lost():
    graph = flaky_agent("per_call")
    run = simulate(graph, "go", Reviewer([approve(), approve()]))

    assert run.error.lost == () and run.lost_results == []
    recover(run, graph)
    assert [name for name, error in ran(run) if error is None] == ["send_email", "boom"]


class Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def parallel_review(notified):
    """`ask` reads answer['ok'] next to `notify`, which finishes in the same step."""

    def ask(state: Log) -> Log:
        reply = interrupt("Deploy?")
        return {"log": [f"deploy:{reply['ok']}"]}

    def notify(state: Log) -> Log:
        notified.append("notify")
        return {"log": ["notified"]}

    builder = StateGraph(Log)
    builder.add_node("ask", ask)
    builder.add_node("notify", notify)
    builder.add_edge(START, "ask")
    builder.add_edge(START, "notify")
    builder.add_edge("ask", END)
    builder.add_edge("notify", END)
    return builder.compile(checkpointer=InMemorySaver())


def test_clearing_a_poisoned_answer_that_would_discard_a_siblings_result_is_refused():
    notified: list[str] = []
    graph = parallel_review(notified)
    run = simulate(graph, {"log": []}, Reviewer([answer("yes")]))
    assert (run.error.type, run.error.poisoned) == ("TypeError", True)

    with pytest.raises(ThreadError, match="node 'notify': they finished in the step that failed"):
        recover(run, graph, Reviewer([answer({"ok": True})]))
    assert run.status == "failed" and run.error.type == "TypeError"
    assert notified == ["notify"]

    recover(run, graph, Reviewer([answer({"ok": True})]), allow_rerun=True)

    assert run.status == "finished"
    assert notified == ["notify", "notify"]
    assert "update_state(None), Command(resume={'ok': True})" in str(run)


def test_a_refused_recover_keeps_the_error():
    graph = parallel_review([])
    run = simulate(graph, {"log": []}, Reviewer([answer("yes")]))
    error = run.error

    with pytest.raises(ThreadError):
        recover(run, graph, Reviewer([answer({"ok": True})]))

    assert run.error is error
