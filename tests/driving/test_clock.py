"""The frozen clock (time-machine, or a nested freezegun freeze), the thread re-read before a
resume, and `durability=`."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import Reviewer, ThreadError, approve, asimulate, simulate
from hitl_sim.errors import InvalidArgument
from hitl_sim.models.chat import ScriptedChatModel, call, say

SEEN: dict[str, object] = {}


@tool
def send_email(to: str) -> str:
    """Send an email."""
    SEEN.update(
        thread=threading.current_thread(),
        aware=datetime.now(UTC),
        naive=datetime.now(),
        epoch=time.time(),
    )
    return f"sent to {to}"


def agent():
    return create_agent(
        ScriptedChatModel([call("send_email", to="bob"), say("done")]),
        tools=[send_email],
        middleware=[HumanInTheLoopMiddleware({"send_email": True})],
        checkpointer=InMemorySaver(),
    )


def created(graph, run):
    return [s.created_at for s in reversed(list(graph.get_state_history(run.config)))]


def test_tools_in_worker_threads_and_checkpoints_see_the_frozen_clock_moved_by_latency():
    graph = agent()
    started = time.monotonic()

    run = simulate(graph, "go", [approve(after=90)])

    assert SEEN["thread"] is not threading.main_thread()
    assert SEEN["aware"] == datetime(2030, 1, 1, 9, 1, 30, tzinfo=UTC)
    assert SEEN["naive"] == datetime(2030, 1, 1, 9, 1, 30)
    assert SEEN["epoch"] == datetime(2030, 1, 1, 9, 1, 30, tzinfo=UTC).timestamp()
    assert (
        created(graph, run) == ["2030-01-01T09:00:00+00:00"] * 3 + ["2030-01-01T09:01:30+00:00"] * 4
    )
    ids = [s.config["configurable"]["checkpoint_id"] for s in graph.get_state_history(run.config)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert 0 <= time.monotonic() - started < 60  # monotonic time is never frozen
    assert datetime.now(UTC).year < 2030  # and wall-clock time is back after the run


def test_async_runs_see_the_frozen_clock_too():
    graph = agent()

    run = asyncio.run(asimulate(graph, "go", [approve(after=30)]))

    assert SEEN["aware"] == datetime(2030, 1, 1, 9, 0, 30, tzinfo=UTC)
    assert created(graph, run)[-1] == "2030-01-01T09:00:30+00:00"


def test_inside_a_freezegun_freeze_the_run_nests_its_own_and_restores_the_outer_one():
    graph = agent()

    with freeze_time("2031-05-05T00:00:00Z"):
        run = simulate(graph, "go", [approve(after=5)], clock="2032-01-01T00:00:00+00:00")
        outer = datetime.now(UTC)

    assert SEEN["aware"] == datetime(2032, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert created(graph, run)[-1] == "2032-01-01T00:00:05+00:00"
    assert outer == datetime(2031, 5, 5, tzinfo=UTC)


def test_a_reviewer_function_that_answers_the_thread_itself_is_caught_before_resuming():
    graph = agent()

    def answers_elsewhere(action, interrupt, run):
        from langgraph.types import Command

        graph.invoke(Command(resume={"decisions": [{"type": "approve"}]}), run.config)
        return approve()

    assert Reviewer.function(answers_elsewhere).runs_user_code
    assert not Reviewer.by_tool({"send_email": approve()}).runs_user_code
    with pytest.raises(ThreadError) as caught:
        simulate(graph, "go", Reviewer.function(answers_elsewhere), thread_id="raced")

    assert str(caught.value).startswith(
        "Before resume 1, the graph does not see interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model') pending on thread 'raced' (it shows next=())."
    )


def test_durability_exit_keeps_only_the_checkpoints_where_each_invoke_stops():
    by_default, at_exit = agent(), agent()

    default_run = simulate(by_default, "go", [approve()])
    exit_run = simulate(at_exit, "go", [approve()], durability="exit")

    assert exit_run.messages[-1].content == default_run.messages[-1].content == "done"
    assert [e.name for e in exit_run.executed] == ["send_email"]
    assert len(created(at_exit, exit_run)) < len(created(by_default, default_run))


def test_an_unknown_durability_is_refused():
    with pytest.raises(InvalidArgument) as caught:
        simulate(agent(), "go", [approve()], durability="never")  # type: ignore[arg-type]

    assert str(caught.value) == (
        "durability='never' is not a LangGraph durability mode. Expected 'sync', 'async' or "
        "'exit', or None for the graph's default."
    )
