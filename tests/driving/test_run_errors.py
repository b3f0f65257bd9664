"""Graph errors land in run.error (with poisoning and resumability), and recover() continues."""

from __future__ import annotations

import pytest
from langchain_core.messages import ToolMessage

from hitl_sim import (
    Reviewer,
    ScriptExhausted,
    ThreadError,
    approve,
    call,
    recover,
    reject,
    say,
    simulate,
    unchecked,
)
from tests.driving.test_simulate import agent, three_calls

BATCHED_NODE = "HumanInTheLoopMiddleware.after_model"


def test_a_bad_batched_answer_sent_on_purpose_poisons_the_thread():
    run = simulate(three_calls(), "go", Reviewer([unchecked({"type": "maybe"}), approve()]))

    assert run.status == "failed"
    error = run.error
    assert (error.type, error.message) == (
        "ValueError",
        "Unexpected human decision: {'type': 'maybe'}. Decision type 'maybe' is not allowed for "
        "tool 'send_email'. Expected one of ['approve', 'edit', 'reject', 'respond'] based on "
        "the tool's configuration.",
    )
    assert (error.resume, error.node, error.resumable, error.poisoned) == (
        1,
        BATCHED_NODE,
        True,
        True,
    )
    assert run.executed == []
    assert [p.seq for p in run.pending] == [1]
    assert str(run).splitlines()[-3:] == [
        "    +0s r1 error (poisoned) in node 'HumanInTheLoopMiddleware.after_model': ValueError: "
        "Unexpected human decision: {'type': 'maybe'}. Decision type 'maybe' i...",
        "    +0s r1 finish: failed",
        "  pending: #1",
    ]


class Sends:
    """A responder that answers every interrupt with exactly these decisions."""

    def __init__(self, *decisions):
        self.decisions = list(decisions)

    def decide(self, interrupt, run):
        return self.decisions

    def unused(self):
        return []


def test_a_wrong_decision_count_sent_on_purpose_is_the_middlewares_error():
    run = simulate(three_calls(), "go", Sends(unchecked({"type": "approve"})))

    assert run.error.message == (
        "Number of human decisions (1) does not match number of hanging tool calls (2)."
    )
    assert run.error.poisoned is True


def test_recover_clears_the_poisoned_answer_and_sends_the_corrected_one():
    graph = three_calls()
    run = simulate(graph, "go", Reviewer([unchecked({"type": "maybe"}), approve()]))

    same = recover(run, graph, Reviewer([approve(), reject("keep it")]))

    assert same is run
    assert run.status == "finished"
    assert [(e.name, e.resume) for e in run.executed] == [("send_email", 2), ("read_file", 2)]
    assert [d.payload for d in run.decisions] == [
        {"type": "maybe"},
        {"type": "approve"},
        {"type": "approve"},
        {"type": "reject", "message": "keep it"},
    ]
    [_, cleared] = [s.record for s in run.steps if s.kind == "resume"]
    assert (cleared.how, cleared.answers) == ("recover", (1,))
    assert cleared.value == {
        "decisions": [{"type": "approve"}, {"type": "reject", "message": "keep it"}]
    }
    assert (
        "r2 resume 2 (#1): update_state(None), Command(resume={'decisions': [approve, reject]})"
        in str(run)
    )
    assert len(run.model_requests) == 2


def test_a_per_call_validation_error_keeps_the_interrupt_answerable():
    graph = three_calls("per_call")
    run = simulate(graph, "go", Reviewer([approve(), unchecked({"type": "maybe"})]))

    assert run.error.type == "ValidationError"
    assert run.error.message.splitlines()[:2] == [
        "1 validation error for tagged-union[ApproveDecision,RejectDecision]",
        "  Input tag 'maybe' found using 'type' does not match any of the expected tags: "
        "'approve', 'reject' [type=union_tag_invalid, input_value={'type': 'maybe'}, "
        "input_type=dict]",
    ]
    assert (run.error.node, run.error.resumable, run.error.poisoned) == ("tools", True, False)
    assert [e.name for e in run.executed] == ["read_file", "send_email"]
    assert [p.seq for p in run.pending] == [2]

    recover(run, graph, Reviewer([reject("keep it")]))

    assert run.status == "finished"
    assert [e.name for e in run.executed] == ["read_file", "send_email"]
    rejected = [
        m for m in run.messages if isinstance(m, ToolMessage) and m.tool_call_id == "call_2"
    ]
    assert (
        rejected[0].content == "User rejected the tool call for `delete_file` with reason: keep it"
    )


def test_an_edit_that_fails_at_tool_time_is_not_recoverable_by_resuming():
    graph = agent([call("send_email", to="bob", body="hi"), say("done")])
    bad_edit = {"type": "edit", "edited_action": {"name": "no_such_tool", "args": {}}}
    run = simulate(graph, "go", Reviewer([unchecked(bad_edit)]))

    assert run.error.message == (
        "Reviewer edited tool call 'call_1' to 'no_such_tool', which is not an available tool. "
        "Available tools: delete_file, read_file, send_email."
    )
    assert (run.error.node, run.error.resumable, run.error.poisoned) == ("tools", False, False)
    with pytest.raises(ThreadError) as caught:
        recover(run, graph, Reviewer([approve()]))
    assert str(caught.value) == (
        f"recover() cannot continue the run on thread {run.thread_id!r}: it failed with "
        "ValueError: Reviewer edited tool call 'call_1' to 'no_such_tool', which is not an "
        "available tool. Available tools: delete_file, read_file, send_email, and only a "
        "resumable error can be recovered (a poisoned batched answer, or an answer the graph "
        "rejected while the interrupt stayed pending). Expected run.error.resumable to be True. "
        "Fix: start a new run, or inspect run.error and the thread's state."
    )


def test_recover_refuses_a_run_without_an_error():
    graph = agent([say("hi")])
    run = simulate(graph, "go")

    with pytest.raises(ThreadError, match="it has no error, and only a resumable error"):
        recover(run, graph, Reviewer([approve()]))


def test_a_harness_error_inside_the_graph_is_raised_with_the_timeline():
    graph = agent([call("send_email", to="bob", body="hi")])

    with pytest.raises(ScriptExhausted) as caught:
        simulate(graph, "go", Reviewer([approve()]))

    assert caught.value.__notes__[-1].splitlines()[-4:] == [
        "    +0s r1 tool send_email(to='bob', body='hi') -> sent to bob",
        "    +0s r1 model turn 2: (no response)",
        "    +0s r1 error (not resumable) in node 'model': ScriptExhausted: ScriptedChatModel ran "
        "out of script: the agent asked for turn 2 but the script has 1 turn....",
        "    +0s r1 finish: failed",
    ]
