"""simulate() on real create_agent agents: batched and per_call reviews, the run record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import (
    Reviewer,
    ScriptedChatModel,
    ThreadError,
    UnexpectedInterrupt,
    approve,
    call,
    edit,
    recover,
    reject,
    respond,
    say,
    simulate,
    unchecked,
)
from hitl_sim.errors import InvalidArgument, ScenarioError, TooManyResumes
from hitl_sim.run import ResumeRecord
from tests.agents import delete_file, read_file

SENT: list[str] = []


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    SENT.append(to)
    return f"sent to {to}"


GATES = {
    "send_email": True,
    "delete_file": {"allowed_decisions": ["approve", "reject"]},
}


def agent(turns, *, mode="batched", checkpointer=True, interrupt_on=None):
    """A create_agent agent over the three tools, gated like GATES."""
    return create_agent(
        ScriptedChatModel(turns),
        tools=[send_email, delete_file, read_file],
        middleware=[
            HumanInTheLoopMiddleware(interrupt_on=interrupt_on or GATES, interrupt_mode=mode)
        ],
        checkpointer=InMemorySaver() if checkpointer else None,
    )


def three_calls(mode="batched"):
    return agent(
        [
            [
                call("send_email", to="bob", body="hi"),
                call("delete_file", path="/srv/a"),
                call("read_file", path="/r"),
            ],
            say("done"),
        ],
        mode=mode,
    )


def tool_messages(run):
    return {
        m.tool_call_id: (m.status, m.content) for m in run.messages if isinstance(m, ToolMessage)
    }


def test_batched_review_runs_to_completion_and_records_what_really_ran():
    run = simulate(
        three_calls(),
        "Email bob and clean up",
        Reviewer([edit(to="alice", by="ann", after=timedelta(hours=2)), reject("keep it")]),
    )

    assert run.status == "finished"
    assert [(e.name, dict(e.args), e.call_id, e.resume) for e in run.executed] == [
        ("send_email", {"to": "alice", "body": "hi"}, "call_1", 1),
        ("read_file", {"path": "/r"}, "call_3", 1),
    ]
    assert tool_messages(run)["call_2"] == (
        "error",
        "User rejected the tool call for `delete_file` with reason: keep it",
    )
    [interrupt] = run.interrupts
    assert (interrupt.seq, interrupt.kind, interrupt.node) == (
        1,
        "batched",
        "HumanInTheLoopMiddleware.after_model",
    )
    assert [a.tool_call_id for a in interrupt.actions] == ["call_1", "call_2"]
    assert [(d.payload, d.resume, d.at) for d in run.decisions] == [
        (
            {
                "type": "edit",
                "edited_action": {"name": "send_email", "args": {"to": "alice", "body": "hi"}},
            },
            1,
            datetime(2030, 1, 1, 11, 0, tzinfo=UTC),
        ),
        ({"type": "reject", "message": "keep it"}, 1, datetime(2030, 1, 1, 11, 0, tzinfo=UTC)),
    ]
    assert [s.kind for s in run.steps] == [
        "model_turn",
        "interrupt",
        "decision",
        "decision",
        "resume",
        "tool",
        "tool",
        "model_turn",
        "finish",
    ]
    resume = run.steps[4].record
    assert resume == ResumeRecord(1, (1,), {"decisions": [d.payload for d in run.decisions]})
    assert run.pending == [] and run.error is None and run.unused_decisions == []
    assert run.gated == {
        "send_email": ("approve", "edit", "reject", "respond"),
        "delete_file": ("approve", "reject"),
    }


def test_the_timeline_reads_as_the_story_of_the_run():
    run = simulate(
        three_calls(),
        "go",
        Reviewer([edit(to="alice", by="ann", after=timedelta(hours=2)), reject("keep it")]),
    )

    assert str(run) == "\n".join(
        [
            "run on thread <fresh thread>: finished",
            "  ungated tools: read_file",
            "    +0s r0 model turn 1: calls",
            "               send_email(to='bob', body='hi')",
            "               delete_file(path='/srv/a')",
            "               read_file(path='/r')",
            "    +0s r0 interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model'):",
            "               send_email(to='bob', body='hi')  allowed: approve/edit/reject/respond",
            "               delete_file(path='/srv/a')  allowed: approve/reject",
            "    +2h r1 decision for #1 send_email(to='bob', body='hi'): "
            "edit(to='alice', by='ann', after=2:00:00)",
            "               -> send_email(to='alice', body='hi')",
            "    +2h r1 decision for #1 delete_file(path='/srv/a'): reject('keep it')",
            "    +2h r1 resume 1 (#1): Command(resume={'decisions': [edit, reject]})",
            "    +2h r1 tool send_email(to='alice', body='hi') -> sent to alice",
            "    +2h r1 tool read_file(path='/r') -> contents of /r",
            "    +2h r1 model turn 2: says done",
            "    +2h r1 finish: finished",
        ]
    )


def test_per_call_answers_every_pending_interrupt_with_one_command():
    run = simulate(three_calls("per_call"), "go", Reviewer([approve(), reject("keep it")]))

    assert [(e.name, e.resume) for e in run.executed] == [("read_file", 0), ("send_email", 1)]
    assert [(i.seq, i.kind, i.node, i.actions[0].tool_call_id) for i in run.interrupts] == [
        (1, "per_call", "tools", "call_1"),
        (2, "per_call", "tools", "call_2"),
    ]
    [resume] = [s.record for s in run.steps if s.kind == "resume"]
    assert resume.answers == (1, 2)
    assert resume.value == {
        run.interrupts[0].id: {"type": "approve"},
        run.interrupts[1].id: {"type": "reject", "message": "keep it"},
    }
    assert run.status == "finished"


def test_each_model_turn_is_recorded_with_its_tools_and_response():
    run = simulate(
        agent([call("send_email", to="bob", body="hi"), say("done")]),
        "go",
        Reviewer([respond("Bob is on holiday")]),
    )

    first, second = run.model_requests
    assert (first.turn, first.resume, first.tools) == (
        1,
        0,
        ("send_email", "delete_file", "read_file"),
    )
    assert [m.type for m in first.messages] == ["human"]
    assert first.response.tool_calls[0]["name"] == "send_email"
    assert (second.turn, second.resume) == (2, 1)
    assert second.messages[-1].content == "Bob is on holiday"
    assert run.executed == []


def test_a_run_ending_with_unanswered_interrupts_needs_a_reviewer():
    with pytest.raises(UnexpectedInterrupt) as caught:
        simulate(agent([call("send_email", to="bob", body="hi")]), "go")

    assert "interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model')" in str(
        caught.value
    )


def test_an_unavailable_reviewer_leaves_the_run_pending():
    run = simulate(agent([call("send_email", to="bob", body="hi")]), "go", expect_pending=True)

    assert run.status == "pending"
    assert [p.seq for p in run.pending] == [1]
    assert run.expect_pending is True
    assert run.executed == []
    assert str(run).splitlines()[-2:] == ["    +0s r0 finish: pending", "  pending: #1"]


class OneDecisionPerInterrupt:
    """A responder that (wrongly) gives one decision for a whole batched interrupt."""

    def decide(self, interrupt, run):
        return [approve()]

    def unused(self):
        return []


def test_an_answer_the_graph_would_reject_is_not_sent():
    graph = three_calls()
    sent_before = len(SENT)

    with pytest.raises(ScenarioError) as caught:
        simulate(graph, "go", OneDecisionPerInterrupt())

    assert str(caught.value).splitlines()[:5] == [
        "The reviewer's answer to interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model') would be rejected by the graph, so it was not "
        "sent.",
        "Calls under review: send_email(to='bob', body='hi'), delete_file(path='/srv/a')",
        "Decisions: ['approve()']",
        "Problems:",
        "- interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model'): 1 decision for "
        "2 action requests (send_email(to='bob', body='hi'), delete_file(path='/srv/a')). Give "
        "exactly one decision per action request, in order, or answer by tool with "
        "Reviewer.by_tool({...}).",
    ]
    assert len(SENT) == sent_before


def test_a_graph_without_a_checkpointer_is_refused():
    graph = agent([say("hi")], checkpointer=False)

    with pytest.raises(ThreadError) as caught:
        simulate(graph, "go")

    assert str(caught.value) == (
        "The graph 'LangGraph' has no checkpointer, so its interrupts can never be resumed "
        "(LangGraph returns the interrupt and then refuses `Command(resume=...)`). Expected a "
        "graph compiled with a checkpointer. Fix: compile it with one, e.g. "
        "`create_agent(..., checkpointer=InMemorySaver())` or "
        "`builder.compile(checkpointer=InMemorySaver())`."
    )


def test_an_approval_loop_that_never_ends_hits_max_resumes():
    graph = agent([call("send_email", to="bob", body=f"try {n}") for n in range(5)])

    with pytest.raises(TooManyResumes) as caught:
        simulate(graph, "go", Reviewer.always(reject("no")), max_resumes=2)

    assert str(caught.value).splitlines()[1:5] == [
        "The last interrupts:",
        "- interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model'): "
        "Calls under review: send_email(to='bob', body='try 0')",
        "- interrupt #2 (batched, node 'HumanInTheLoopMiddleware.after_model'): "
        "Calls under review: send_email(to='bob', body='try 1')",
        "- interrupt #3 (batched, node 'HumanInTheLoopMiddleware.after_model'): "
        "Calls under review: send_email(to='bob', body='try 2')",
    ]
    first_line = str(caught.value).splitlines()[0]
    assert first_line.startswith("The graph was resumed 2 times on thread 'hitl-sim-")
    assert first_line.endswith(
        "' and is still pausing (max_resumes=2): an approval loop that never ends."
    )
    assert caught.value.__notes__[-1].startswith("run on thread <fresh thread>: pending")


def test_thread_id_and_config_name_the_thread():
    graph = agent([say("one"), say("two")])

    first = simulate(graph, "hi", thread_id="t-1")
    second = simulate(graph, "again", config={"configurable": {"thread_id": "t-1"}})

    assert first.thread_id == second.thread_id == "t-1"
    assert [m.content for m in second.messages] == ["hi", "one", "again", "two"]
    assert str(second).splitlines()[0] == "run on thread 't-1': finished"


def test_fresh_threads_differ_per_run():
    graph = agent([say("one"), say("two")])

    assert simulate(graph, "a").thread_id != simulate(graph, "b").thread_id


def test_the_frozen_clock_stamps_checkpoints_and_advances_with_latency():
    graph = agent([call("send_email", to="bob", body="hi"), say("done")])

    run = simulate(graph, "go", Reviewer([approve(after=timedelta(minutes=30))]))

    history = list(graph.get_state_history(run.config))
    assert history[-1].created_at == "2030-01-01T09:00:00+00:00"
    assert history[0].created_at == "2030-01-01T09:30:00+00:00"
    assert run.decisions[0].at == datetime(2030, 1, 1, 9, 30, tzinfo=UTC)


def test_clock_false_leaves_time_alone():
    before = datetime.now(UTC)
    run = simulate(agent([say("hi")]), "go", clock=False)

    assert run.steps[0].at >= before


def test_two_reviews_in_one_run_are_numbered_and_matched_to_their_calls():
    graph = agent(
        [
            call("send_email", to="bob", body="draft"),
            call("send_email", to="bob", body="final"),
            say("done"),
        ]
    )

    run = simulate(graph, "go", Reviewer([reject("not a draft"), approve(), approve()]))

    assert [
        (i.seq, i.actions[0].tool_call_id, i.actions[0].args["body"]) for i in run.interrupts
    ] == [
        (1, "call_1", "draft"),
        (2, "call_2", "final"),
    ]
    assert [(d.interrupt.seq, d.resume) for d in run.decisions] == [(1, 1), (2, 2)]
    assert [(e.args["body"], e.resume) for e in run.executed] == [("final", 2)]
    assert run.unused_decisions == [approve()]
    assert str(run).splitlines()[-1] == "  unused decisions: ['approve()']"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "batch"}, "mode='batch' is not a mode. Expected 'invoke' or 'stream'."),
        ({"max_resumes": -1}, "max_resumes=-1 must be 0 or more."),
        (
            {"clock": 12},
            "clock=12 is not a start time. Expected a datetime or ISO string "
            "(e.g. '2030-01-01T09:00:00+00:00'), or clock=False to leave time unfrozen.",
        ),
    ],
)
def test_bad_options_are_refused_before_anything_runs(options, message):
    with pytest.raises(InvalidArgument) as caught:
        simulate(agent([say("hi")]), "go", **options)

    assert str(caught.value) == message


def test_input_must_be_text_a_dict_or_none():
    with pytest.raises(InvalidArgument) as caught:
        simulate(agent([say("hi")]), 42)

    assert str(caught.value) == (
        "simulate() got input=42 (int). Expected a str (sent as the user's message), a dict of "
        "graph input, or None to answer what is already pending on the thread."
    )


def test_recover_refuses_options_simulate_does_not_have():
    graph = three_calls()
    run = simulate(graph, "go", Reviewer([unchecked({"type": "maybe"}), approve()]))

    with pytest.raises(InvalidArgument) as caught:
        recover(run, graph, Reviewer([approve(), approve()]), retries=3)

    assert str(caught.value) == (
        "Unknown option(s) 'retries' for recover(). Expected its keyword options: mode, gated, "
        "max_resumes, clock, watch, expect_pending, rebuild, durability, redact, trace, context."
    )


def test_simulate_refuses_an_unknown_option_naming_the_known_ones():
    with pytest.raises(
        InvalidArgument, match=r"Unknown option\(s\) 'max_resumez' for simulate\(\)"
    ):
        simulate(three_calls(), "go", max_resumez=3)
