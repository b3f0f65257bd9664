"""Thread hygiene: the resumes LangGraph would silently misroute are reported instead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import Reviewer, ThreadError, approve, call, say, simulate, unchecked
from hitl_sim.driving.api import aresume, resume
from hitl_sim.errors import InvalidArgument
from tests.driving.test_simulate import agent


def paused(turns=None):
    graph = agent(turns or [call("send_email", to="bob", body="hi"), say("done")])
    return graph, simulate(graph, "go", expect_pending=True)


def test_resume_answers_a_paused_run_on_its_thread():
    graph, first = paused()

    run = resume(graph, first.thread_id, Reviewer([approve()]))

    assert run.thread_id == first.thread_id
    assert run.status == "finished"
    assert [(i.seq, i.kind) for i in run.interrupts] == [(1, "batched")]
    assert [(e.name, e.resume) for e in run.executed] == [("send_email", 1)]
    assert [m.content for m in run.messages][-1] == "done"


def test_resume_accepts_the_paused_runs_config():
    graph, first = paused()

    assert resume(graph, first.config, Reviewer([approve()])).status == "finished"


def test_resume_without_a_thread_id_is_reported():
    graph, _ = paused()

    with pytest.raises(ThreadError) as caught:
        resume(graph, None, Reviewer([approve()]))

    assert str(caught.value) == (
        "resume() got no thread id (thread=None), so it cannot tell which paused run to answer: "
        "LangGraph would refuse a checkpointer call without configurable.thread_id. Fix: pass "
        "the paused run's thread, e.g. resume(graph, run.thread_id, reviewer)."
    )


def test_resume_on_another_thread_is_reported_instead_of_starting_afresh():
    graph, first = paused()

    with pytest.raises(ThreadError) as caught:
        resume(graph, "some-other-thread", Reviewer([approve()]))

    assert str(caught.value) == (
        "Thread 'some-other-thread' has no checkpoints, so there is nothing to resume: LangGraph "
        "would silently start the graph afresh with empty input. Expected the thread of a "
        "paused run. Fix: pass the thread_id the paused run used (run.thread_id), or start a "
        "new run with input."
    )
    assert resume(graph, first.thread_id, Reviewer([approve()])).status == "finished"


def test_resume_on_a_finished_thread_is_reported_instead_of_doing_nothing():
    graph = agent([say("hi")])
    run = simulate(graph, "go", thread_id="done-thread")

    with pytest.raises(ThreadError) as caught:
        resume(graph, run.thread_id, Reviewer([approve()]))

    assert str(caught.value) == (
        "Thread 'done-thread' has nothing pending (its run finished), so there is nothing to "
        "resume: LangGraph would accept the resume and silently do nothing. Expected a thread "
        "with a pending interrupt. Fix: resume the thread that is still paused, or start a new "
        "turn with input."
    )


def test_resume_on_a_graph_without_checkpointer_is_reported():
    graph = agent([say("hi")], checkpointer=False)

    with pytest.raises(ThreadError, match="^The graph 'LangGraph' has no checkpointer"):
        resume(graph, "t", Reviewer([approve()]))


def test_new_input_on_a_thread_with_a_pending_review_is_reported():
    graph, first = paused()

    with pytest.raises(ThreadError) as caught:
        simulate(graph, "something else", thread_id=first.thread_id)

    assert str(caught.value) == (
        f"Thread {first.thread_id!r} has 1 interrupt(s) pending, and simulate() was given new "
        "input for it: LangGraph would silently abandon the pending review (the gated call "
        "never runs and the model sees a dangling tool call). Expected a thread with nothing "
        "pending. Fix: answer what is pending with simulate(graph, None, reviewer, "
        "thread_id=...) or hitl_sim.resume(...), or use a fresh thread."
    )


def test_two_names_for_the_thread_must_agree():
    with pytest.raises(InvalidArgument) as caught:
        simulate(
            agent([say("hi")]), "go", thread_id="a", config={"configurable": {"thread_id": "b"}}
        )

    assert str(caught.value) == (
        "simulate() got thread_id='a' and a config naming thread 'b'. Pass the thread once, "
        "either as thread_id= or in config['configurable']['thread_id']."
    )


def test_the_clock_never_goes_back_before_checkpoints_on_the_thread():
    graph = agent([say("one"), say("two")])
    simulate(graph, "hi", thread_id="late", clock="2031-05-01T12:00:00+00:00")

    with pytest.raises(ThreadError) as caught:
        simulate(graph, "again", thread_id="late", clock="2030-06-01T00:00:00+00:00")

    assert str(caught.value) == (
        "Thread 'late' already has checkpoints at 2031-05-01T12:00:00+00:00, later than "
        "clock=2030-06-01T00:00:00+00:00. Freezing time earlier than checkpoints already on a "
        "thread corrupts its checkpoint order (LangGraph would then read an old checkpoint as "
        "the thread's head). Fix: pass a clock at or after that time, or clock=False."
    )


def test_the_default_clock_continues_from_the_thread():
    graph = agent([call("send_email", to="bob", body="hi"), say("one"), say("two")])
    simulate(graph, "hi", Reviewer([approve(after=timedelta(hours=3))]), thread_id="t")

    run = simulate(graph, "again", thread_id="t")

    assert run.steps[0].at == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Restarts:
    """`rebuild=`: a fresh agent object for every resume, as after a process restart."""

    def __init__(self, saver):
        self.saver = saver
        self.built = 0

    def __call__(self):
        self.built += 1
        model_turns = [say("done")]
        graph = agent(model_turns)
        graph.checkpointer = self.saver
        return graph


def test_rebuild_gives_each_resume_a_fresh_graph_on_the_same_checkpointer():
    saver = InMemorySaver()
    graph = agent([call("send_email", to="bob", body="hi")])
    graph.checkpointer = saver
    restarts = Restarts(saver)

    run = simulate(graph, "go", Reviewer([approve()]), rebuild=restarts)

    assert restarts.built == 1
    assert run.status == "finished"
    assert [(e.name, e.resume) for e in run.executed] == [("send_email", 1)]


def test_rebuild_onto_another_checkpointer_is_reported():
    graph = agent([call("send_email", to="bob", body="hi")])
    elsewhere = Restarts(InMemorySaver())

    with pytest.raises(ThreadError) as caught:
        simulate(graph, "go", Reviewer([approve()]), thread_id="t-restart", rebuild=elsewhere)

    assert str(caught.value) == (
        "Before resume 1, the rebuilt graph does not see interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model') pending on thread 't-restart' (it shows "
        "next=()). Resuming would silently start the graph afresh or do nothing. Expected "
        "rebuild() to return a graph on the same checkpointer (the same InMemorySaver object, "
        "or the same database)."
    )


class AnsweredElsewhere:
    """A reviewer who, while deciding, sees someone else resume the thread first."""

    def __init__(self, graph):
        self.graph = graph

    def decide(self, interrupt, run):
        from langgraph.types import Command

        self.graph.invoke(Command(resume={"decisions": [{"type": "reject"}]}), run.config)
        return [approve()]

    def unused(self):
        return []


def test_a_review_answered_elsewhere_meanwhile_is_reported_before_resuming():
    graph = agent([call("send_email", to="bob", body="hi"), say("done")])

    with pytest.raises(ThreadError) as caught:
        simulate(graph, "go", AnsweredElsewhere(graph), thread_id="raced")

    assert str(caught.value) == (
        "Before resume 1, the graph does not see interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model') pending on thread 'raced' (it shows next=()). "
        "Resuming would silently start the graph afresh or do nothing. Expected nothing else to "
        "answer this thread while the reviewer decided (another reviewer or process got there "
        "first)."
    )


def test_resuming_the_paused_run_itself_continues_its_record():
    graph, first = paused()

    same = resume(graph, first, Reviewer([approve(after=timedelta(hours=1))]))

    assert same is first
    assert first.status == "finished"
    assert [s.kind for s in first.steps] == [
        "model_turn",
        "interrupt",
        "finish",
        "decision",
        "resume",
        "tool",
        "model_turn",
        "finish",
    ]
    assert [(e.name, e.resume) for e in first.executed] == [("send_email", 1)]
    assert first.decisions[0].at == datetime(2030, 1, 1, 10, 0, tzinfo=UTC)


def test_a_failed_run_is_recovered_not_resumed():
    graph = agent([call("send_email", to="bob", body="hi"), say("done")])
    failed = simulate(graph, "go", Reviewer([unchecked({"type": "maybe"})]), thread_id="bad")

    with pytest.raises(ThreadError) as caught:
        resume(graph, failed, Reviewer([approve()]))

    assert str(caught.value) == (
        "resume() cannot continue the run on thread 'bad': it failed with ValueError: Unexpected "
        "human decision: {'type': 'maybe'}. Decision type 'maybe' is not allowed for tool "
        "'send_email'. Expected one of ['approve', 'edit', 'reject', 'respond'] based on the "
        "tool's configuration. Expected a run that ended pending. Fix: use recover(run, graph, "
        "reviewer) to clear the error and answer again."
    )


def test_aresume_answers_a_paused_thread_with_the_async_api():
    graph, first = paused()

    run = asyncio.run(aresume(graph, first.thread_id, Reviewer([approve()])))

    assert run.executed_names == ["send_email"]
