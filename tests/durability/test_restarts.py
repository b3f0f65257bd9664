"""Restarts between interrupt and resume: new graph and checkpointer objects, new processes."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool

from hitl_sim import ScriptedChatModel, ThreadError, approve, call, edit, reject, say, simulate
from hitl_sim.driving.api import resume
from hitl_sim.durability import Ledger, checkpoint_store, simulate_with_restarts
from hitl_sim.durability.restart import outcome, outcome_differences
from hitl_sim.errors import InvalidArgument
from tests.durability.agents import build_cleanup_agent

ALL = ("memory", "sqlite", "postgres")
PERSISTENT = ("sqlite", "postgres")
AGENT = "tests.durability.agents:build_cleanup_agent"
DECISIONS = [edit(path="/srv/a.bak"), reject("not by email")]


def uninterrupted(tmp_path, interrupt_mode="batched"):
    with checkpoint_store("memory") as store, store.open() as saver:
        ledger = tmp_path / "baseline.jsonl"
        agent = build_cleanup_agent(saver, ledger=str(ledger), interrupt_mode=interrupt_mode)
        return simulate(agent, "Clean up /srv/a", DECISIONS)


@pytest.mark.hitl_checkpointer(*ALL)
@pytest.mark.parametrize("interrupt_mode", ["batched", "per_call"])
def test_restart_between_resumes_ends_like_the_uninterrupted_run(
    hitl_checkpoint_store, interrupt_mode, tmp_path
):
    ledger = Ledger(tmp_path / "effects.jsonl")
    built = []

    def factory(checkpointer, **kwargs):
        built.append(checkpointer)
        return build_cleanup_agent(checkpointer, **kwargs)

    run = simulate_with_restarts(
        factory,
        "Clean up /srv/a",
        DECISIONS,
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={"ledger": str(ledger.path), "interrupt_mode": interrupt_mode},
    )

    assert outcome_differences(uninterrupted(tmp_path, interrupt_mode), run) == []
    assert run.status == "finished"
    assert len(built) == 3  # the first graph, then one per resume
    assert len({id(saver) for saver in built}) == 3
    assert sorted(ledger.names()) == ["delete_file", "lookup"]  # each exactly once
    assert [e["path"] for e in ledger.entries() if e["name"] == "delete_file"] == ["/srv/a.bak"]
    run.check()


def test_a_scripted_model_keeps_its_place_when_created_once_outside_the_factory(tmp_path):
    sent = []

    @tool
    def send_email(to: str) -> str:
        """Send an email."""
        sent.append(to)
        return "sent"

    model = ScriptedChatModel([call("send_email", to="a"), call("send_email", to="b"), say("ok")])

    def factory(checkpointer):
        return create_agent(
            model,
            tools=[send_email],
            middleware=[HumanInTheLoopMiddleware(interrupt_on={"send_email": True})],
            checkpointer=checkpointer,
        )

    with checkpoint_store("sqlite", directory=tmp_path) as store:
        run = simulate_with_restarts(factory, "go", [approve(), approve()], checkpointer=store)
    assert sent == ["a", "b"]
    assert run.messages[-1].content == "ok"
    assert model.remaining == []


@pytest.mark.hitl_checkpointer(*PERSISTENT)
def test_process_restart_resumes_in_another_process(hitl_checkpoint_store, tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")

    run = simulate_with_restarts(
        AGENT,
        "Clean up /srv/a",
        DECISIONS,
        checkpointer=hitl_checkpoint_store,
        restart="process",
        factory_kwargs={"ledger": str(ledger.path)},
    )

    assert outcome_differences(uninterrupted(tmp_path), run) == []
    assert [step.kind for step in run.steps].count("resume") == 2
    assert sorted(ledger.names()) == ["delete_file", "lookup"]
    assert ledger.repeated() == []
    pids = {entry["pid"] for entry in ledger.entries()}
    assert os.getpid() not in pids  # every tool ran in a resume process, none in this one
    run.check()


def test_process_restart_keeps_the_thread_order_under_a_frozen_clock(tmp_path):
    """Each new process moves a frozen clock on: LangGraph's checkpoint ids only increase
    within one process, so a second process frozen at the same instant would write smaller
    ids and the thread's head would silently fall back to the pause."""
    with checkpoint_store("sqlite", directory=tmp_path) as store:
        run = simulate_with_restarts(
            AGENT,
            "Clean up /srv/a",
            [approve(), approve()],
            checkpointer=store,
            restart="process",
            factory_kwargs={"ledger": str(tmp_path / "effects.jsonl")},
            clock="2030-06-01T12:00:00+00:00",
        )
        with store.open() as saver:
            agent = build_cleanup_agent(saver, ledger=str(tmp_path / "unused.jsonl"))
            head = agent.get_state(run.config)
    assert head.next == ()
    assert head.values["messages"][-1].content == "Done."
    # at least one second per new process (more if this process's ids already ran ahead)
    assert datetime.fromisoformat(head.created_at) >= datetime(2030, 6, 1, 12, 0, 2, tzinfo=UTC)
    assert outcome(run)["executed"] == [
        (1, "delete_file", {"path": "/srv/a"}),
        (1, "lookup", {"key": "owner"}),
        (2, "send_email", {"to": "ops@example.com", "body": "deleted /srv/a"}),
    ]


def deletions_only(action):
    """A reviewer who signs off deletions and is away for anything else (top level: picklable)."""
    return approve() if action.name == "delete_file" else None


def test_process_restart_leaves_the_run_pending_when_the_reviewer_is_unavailable(tmp_path):
    with checkpoint_store("sqlite", directory=tmp_path) as store:
        run = simulate_with_restarts(
            AGENT,
            "Clean up /srv/a",
            deletions_only,
            checkpointer=store,
            restart="process",
            factory_kwargs={"ledger": str(tmp_path / "effects.jsonl")},
            expect_pending=True,
        )
    assert run.status == "pending"
    assert [p.actions[0].name for p in run.pending] == ["send_email"]
    assert [step.kind for step in run.steps].count("resume") == 1
    assert Ledger(tmp_path / "effects.jsonl").names() in (
        ["delete_file", "lookup"],
        ["lookup", "delete_file"],
    )


def test_process_restart_needs_a_store_another_process_can_open():
    with pytest.raises(InvalidArgument) as raised:
        simulate_with_restarts(AGENT, "go", [approve()], checkpointer="memory", restart="process")
    assert str(raised.value).startswith("A memory checkpoint store lives inside one process")


def test_process_restart_needs_an_importable_factory():
    def local_factory(checkpointer):
        return None

    with pytest.raises(InvalidArgument) as raised:
        simulate_with_restarts(local_factory, "go", [approve()], restart="process")
    assert str(raised.value) == (
        f"restart='process' needs a factory another process can import; {local_factory!r} is "
        "'tests.durability.test_restarts:test_process_restart_needs_an_importable_factory.<locals>"
        ".local_factory'. Define it at the top level of an importable module and pass it (or "
        "'module:function')."
    )


def test_process_restart_names_a_factory_that_does_not_exist():
    with pytest.raises(InvalidArgument) as raised:
        simulate_with_restarts("tests.durability.agents:nope", "go", [approve()], restart="process")
    assert str(raised.value) == (
        "factory='tests.durability.agents:nope' does not name a function (AttributeError: module "
        "'tests.durability.agents' has no attribute 'nope'). Expected 'module:function', "
        "importable from a new process, e.g. 'tests.agents:build_agent'."
    )


def test_process_restart_needs_a_reviewer_it_can_send_to_another_process(tmp_path):
    with pytest.raises(InvalidArgument) as raised:
        simulate_with_restarts(
            AGENT,
            "go",
            lambda action: approve(),
            restart="process",
            factory_kwargs={"ledger": str(tmp_path / "effects.jsonl")},
        )
    assert str(raised.value).startswith(
        "restart='process' sends the reviewer to each new process, but reviewer=<function "
    )
    assert str(raised.value).endswith(
        "Use a list of decisions, a Reviewer(...) of them, or a top-level function."
    )


def test_unknown_restart_mode_is_refused():
    with pytest.raises(InvalidArgument) as raised:
        simulate_with_restarts(AGENT, "go", [approve()], restart="sometimes")  # type: ignore[arg-type]
    assert str(raised.value) == (
        "restart='sometimes' is not a restart mode. Expected one of: 'between-resumes', 'process'."
    )


# ---- thread hygiene after a restart


def test_a_rebuilt_graph_on_another_store_is_reported_not_started_afresh(tmp_path):
    """A factory that ignores the checkpointer it is given (its own InMemorySaver each time)
    would make the resume start the graph afresh on an empty thread."""
    from langgraph.checkpoint.memory import InMemorySaver

    ledger = Ledger(tmp_path / "effects.jsonl")

    def careless(checkpointer):
        return build_cleanup_agent(InMemorySaver(), ledger=str(ledger.path))

    with pytest.raises(ThreadError) as raised:
        simulate_with_restarts(careless, "Clean up /srv/a", DECISIONS, checkpointer="memory")
    assert "the rebuilt graph does not see interrupt #1" in str(raised.value)
    assert "Resuming would silently start the graph afresh or do nothing." in str(raised.value)
    assert ledger.names() == []  # nothing ran


def test_a_resume_process_on_another_store_is_reported_not_started_afresh(tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")
    with pytest.raises(ThreadError) as raised:
        simulate_with_restarts(
            "tests.durability.agents:build_forgetful_agent",
            "Clean up /srv/a",
            DECISIONS,
            checkpointer="sqlite",
            restart="process",
            factory_kwargs={"ledger": str(ledger.path)},
        )
    assert re.fullmatch(
        r"Thread 'hitl-sim-[0-9a-f]{32}' has no checkpoints, so there is nothing to resume: "
        r"LangGraph would silently start the graph afresh with empty input\. Expected the thread "
        r"of a paused run\. Fix: pass the thread_id the paused run used \(run\.thread_id\), or "
        r"start a new run with input\.",
        str(raised.value),
    )
    assert ledger.names() == []  # the resume process ran nothing


@pytest.mark.hitl_checkpointer(*PERSISTENT)
def test_thread_checks_hold_for_a_graph_rebuilt_on_the_store(hitl_checkpoint_store, tmp_path):
    store = hitl_checkpoint_store
    ledger = str(tmp_path / "effects.jsonl")
    with store.open() as saver:
        finished = simulate(
            build_cleanup_agent(saver, ledger=ledger), "Clean up /srv/a", [approve(), approve()]
        )
    with store.open() as saver:  # a new process would do exactly this
        again = build_cleanup_agent(saver, ledger=ledger)
        with pytest.raises(ThreadError) as on_finished:
            resume(again, finished.thread_id, [approve()])
        with pytest.raises(ThreadError) as on_unknown:
            resume(again, "no-such-thread", [approve()])
    assert finished.thread_id in str(on_finished.value)
    assert "no-such-thread" in str(on_unknown.value)
    assert sorted(Ledger(ledger).names()) == ["delete_file", "lookup", "send_email"]


RESUME_ELSEWHERE = """
import sys
from hitl_sim import approve
from hitl_sim.durability import checkpoint_store
from hitl_sim.driving.api import resume
from hitl_sim.durability.restart import clock_for_resume
from tests.durability.agents import build_cleanup_agent

path, ledger, thread, moved = sys.argv[1:5]
with checkpoint_store("sqlite", path=path) as store, store.open() as saver:
    agent = build_cleanup_agent(saver, ledger=ledger)
    options = {"moved": {"clock": clock_for_resume(saver, thread)}, "real": {"clock": False}}
    run = resume(agent, thread, [approve(), approve()], **options.get(moved, {}))
    head = agent.get_state(run.config)
    print(run.status, sorted(run.executed_names), len(head.values["messages"]))
"""


@pytest.mark.parametrize("clock", ["default", "moved", "real"])
def test_a_resume_in_another_process_continues_the_thread_whatever_its_clock(tmp_path, clock):
    # LangGraph's checkpoint ids only increase inside one process: a new process frozen at the
    # pause's instant ("default"), or at real time behind the pause's frozen 2030 ("real"), would
    # write smaller ids and the thread's head would fall back to the pause, so the run would look
    # finished without the second review ever being asked. The driver keeps new ids after the
    # thread's head, so all three complete the same way.
    import subprocess
    import sys

    path, ledger = tmp_path / "checkpoints.db", str(tmp_path / "effects.jsonl")
    with checkpoint_store("sqlite", path=path) as store, store.open() as saver:
        paused = simulate(
            build_cleanup_agent(saver, ledger=ledger), "Clean up /srv/a", expect_pending=True
        )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", RESUME_ELSEWHERE, str(path), ledger, paused.thread_id, clock],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.strip() == "finished ['delete_file', 'lookup', 'send_email'] 7"
