"""The oracle's predictions, pinned against the observed middleware behaviour (semantics §1-§5).

The property suite (tests/fuzzing) compares the oracle with real agents; these tests pin the
exact texts and errors it predicts, so a wrong prediction cannot hide behind a wrong agent.
"""

from __future__ import annotations

import pytest
from langchain_core.tools import tool

from hitl_sim import approve, edit, reject, respond, unchecked
from hitl_sim.errors import InvalidArgument
from hitl_sim.fuzzing.oracle import (
    EDIT_NOTICE,
    Call,
    Execution,
    HitlConfig,
    Reply,
    predict,
    predict_run,
)
from tests.agents import delete_file, send_email


@tool
def read_file_tool(path: str) -> str:
    """Read a file."""
    return ""


TOOLS = [send_email, delete_file, read_file_tool]
GATES = {"send_email": True, "delete_file": {"allowed_decisions": ["approve", "reject"]}}
BATCHED = HitlConfig(GATES, TOOLS)
PER_CALL = HitlConfig(GATES, TOOLS, interrupt_mode="per_call")

E1 = Call("send_email", {"to": "bob", "body": "hi"}, "e1")
D1 = Call("delete_file", {"path": "/tmp/x"}, "d1")
R1 = Call("read_file_tool", {"path": "/a"}, "r1")
R2 = Call("read_file_tool", {"path": "/b"}, "r2")
E2 = Call("send_email", {"to": "carol", "body": "yo"}, "e2")


def test_approve_runs_the_original_call():
    outcome = predict(BATCHED, [E1], [approve()])
    assert outcome.executed == (Execution("send_email", {"to": "bob", "body": "hi"}, "e1"),)
    assert outcome.replies == (Reply("e1", "send_email", "sent to bob", "success"),)
    assert outcome.error is None and outcome.finished


def test_the_reviewer_sees_one_action_per_gated_call_with_the_default_description():
    (action,) = predict(BATCHED, [R1, E1], [approve()]).reviews
    assert action.name == "send_email" and action.tool_call_id == "e1"
    assert action.description == (
        "Tool execution requires approval\n\nTool: send_email\nArgs: {'to': 'bob', 'body': 'hi'}"
    )
    assert action.allowed == ("approve", "edit", "reject", "respond")


def test_edit_runs_the_edited_call_and_tells_the_model():
    outcome = predict(BATCHED, [E1], [edit(to="alice", body="edited")])
    assert outcome.executed == (Execution("send_email", {"to": "alice", "body": "edited"}, "e1"),)
    assert outcome.replies == (
        Reply(
            "e1",
            "send_email",
            f"{EDIT_NOTICE} Executed instead: send_email with arguments "
            '{"to": "alice", "body": "edited"}.\n\nTool response:\nsent to alice',
        ),
    )


def test_edit_notice_has_no_tool_response_suffix_when_the_output_is_empty():
    outcome = predict(BATCHED, [R1], [])
    assert outcome.replies == (Reply("r1", "read_file_tool", ""),)
    gated = HitlConfig({"read_file_tool": True}, TOOLS)
    (reply,) = predict(gated, [R1], [edit(path="/etc")]).replies
    assert reply.content == (
        f'{EDIT_NOTICE} Executed instead: read_file_tool with arguments {{"path": "/etc"}}.'
    )


def test_edit_notice_none_gives_the_raw_output():
    config = HitlConfig(GATES, TOOLS, edit_notice=None)
    (reply,) = predict(config, [E1], [edit(to="al")]).replies
    assert reply.content == "sent to al"


def test_reject_with_and_without_reason_and_respond():
    outcome = predict(BATCHED, [E1, E2, D1], [reject(), respond("bob is away"), reject("keep")])
    assert outcome.executed == ()
    assert outcome.replies == (
        Reply(
            "e1",
            "send_email",
            "User rejected the tool call for `send_email` with id e1. The tool was not executed. "
            "Do not retry this tool call unless the user explicitly requests it.",
            "error",
        ),
        Reply("e2", "send_email", "bob is away", "success"),
        Reply(
            "d1",
            "delete_file",
            "User rejected the tool call for `delete_file` with reason: keep",
            "error",
        ),
    )


def test_an_empty_reject_reason_is_the_default_message():
    (reply,) = predict(BATCHED, [E1], [reject("")]).replies
    assert reply.content.startswith("User rejected the tool call for `send_email` with id e1.")


def test_batched_messages_put_answers_before_tool_results():
    calls = [R1, E1, R2, D1, E2]
    outcome = predict(BATCHED, calls, [approve(), reject("no delete"), reject()])
    assert [r.tool_call_id for r in outcome.replies] == ["d1", "e2", "r1", "e1", "r2"]
    assert outcome.executed_names == ["read_file_tool", "send_email", "read_file_tool"]


def test_per_call_messages_follow_call_order():
    calls = [R1, E1, R2, D1, E2]
    outcome = predict(PER_CALL, calls, [approve(), reject("no delete"), reject()])
    assert [r.tool_call_id for r in outcome.replies] == ["r1", "e1", "r2", "d1", "e2"]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            [approve()],
            "Number of human decisions (1) does not match number of hanging tool calls (2).",
        ),
        (
            [approve(), approve(), approve()],
            "Number of human decisions (3) does not match number of hanging tool calls (2).",
        ),
        (
            [approve(), respond("x")],
            "Unexpected human decision: {'type': 'respond', 'message': 'x'}. Decision type "
            "'respond' is not allowed for tool 'delete_file'. Expected one of ['approve', "
            "'reject'] based on the tool's configuration.",
        ),
        (
            [unchecked({"type": "maybe"}), approve()],
            "Unexpected human decision: {'type': 'maybe'}. Decision type 'maybe' is not allowed "
            "for tool 'send_email'. Expected one of ['approve', 'edit', 'reject', 'respond'] "
            "based on the tool's configuration.",
        ),
    ],
)
def test_bad_batched_answers_raise_at_resume_and_nothing_runs(answers, message):
    outcome = predict(BATCHED, [E1, R1, D1], answers)
    assert outcome.error is not None
    assert (outcome.error.type, outcome.error.message, outcome.error.stage) == (
        "ValueError",
        message,
        "resume",
    )
    assert outcome.executed == () and outcome.replies == ()
    assert outcome.pending == ("e1", "d1")  # the thread is poisoned: the review stays pending


@pytest.mark.parametrize(
    ("payload", "kind", "message"),
    [
        ({"type": "edit"}, "KeyError", "'edited_action'"),
        ({"type": "respond"}, "KeyError", "'message'"),
        ({"message": "hmm"}, "KeyError", "'type'"),
        ("approve", "TypeError", "string indices must be integers, not 'str'"),
    ],
)
def test_malformed_batched_answers(payload, kind, message):
    outcome = predict(BATCHED, [E1, R1], [unchecked(payload)])
    assert outcome.error is not None
    assert (outcome.error.type, outcome.error.message) == (kind, message)
    assert outcome.executed == ()


def test_edit_failing_at_tool_time_lets_siblings_run():
    outcome = predict(
        BATCHED, [E1, R1], [unchecked({"type": "edit", "edited_action": {"name": "send_email"}})]
    )
    assert outcome.error is not None
    assert (outcome.error.type, outcome.error.message, outcome.error.stage) == (
        "KeyError",
        "'args'",
        "tool",
    )
    assert outcome.executed_names == ["read_file_tool"]
    assert outcome.droppable == ("r1",)
    missing = predict(BATCHED, [E1, R1], [edit("no_such_tool", {})])
    assert missing.error is not None and missing.error.message == (
        "Reviewer edited tool call 'e1' to 'no_such_tool', which is not an available tool. "
        "Available tools: delete_file, read_file_tool, send_email."
    )


def test_redirected_edit_runs_the_other_tool_without_consulting_its_gate():
    outcome = predict(BATCHED, [E1], [edit("delete_file", {"path": "/etc/passwd"})])
    assert outcome.executed == (Execution("delete_file", {"path": "/etc/passwd"}, "e1"),)
    (reply,) = outcome.replies
    assert reply.name == "delete_file"
    assert 'Executed instead: delete_file with arguments {"path": "/etc/passwd"}.' in reply.content


def test_edit_with_wrong_argument_types_is_a_tool_error_the_model_sees():
    (reply,) = predict(BATCHED, [E1], [edit({"to": 123})]).replies
    assert reply.status == "error"
    assert reply.content.endswith(
        "Error invoking tool 'send_email' with kwargs {'to': 123, 'body': 'hi'} with error:\n"
        " to: Input should be a valid string\n Please fix the error and try again."
    )


def test_per_call_invalid_answer_keeps_the_call_pending_and_others_run():
    outcome = predict(PER_CALL, [E1, D1, R1], [approve(), unchecked({"type": "maybe"})])
    assert outcome.error is not None
    assert (outcome.error.type, outcome.error.stage) == ("ValidationError", "resume")
    assert outcome.error.fragments == (
        "Input tag 'maybe' found using 'type' does not match any of the expected tags: "
        "'approve', 'reject'",
    )
    assert outcome.pending == ("d1",)
    assert outcome.executed_names == ["send_email", "read_file_tool"]
    assert [r.tool_call_id for r in outcome.replies] == ["e1", "r1"]


def test_per_call_edit_cannot_switch_tools_and_unanswered_calls_stay_pending():
    switched = predict(PER_CALL, [E1], [edit("delete_file", {"path": "/x"})])
    assert switched.error is not None
    assert switched.error.fragments == ("edited_action.name", "Input should be 'send_email'")
    unanswered = predict(PER_CALL, [E1, D1], [approve()])
    assert unanswered.error is None and unanswered.pending == ("d1",)
    assert not unanswered.finished


def test_when_predicates_decide_which_calls_are_reviewed():
    config = HitlConfig(
        {
            "delete_file": {
                "allowed_decisions": ["approve", "reject"],
                "when": lambda request: request.tool_call["args"]["path"].startswith("/etc"),
            }
        },
        TOOLS,
    )
    outside = Call("delete_file", {"path": "/tmp/a"}, "d1")
    inside = Call("delete_file", {"path": "/etc/a"}, "d2")
    outcome = predict(config, [outside, inside], [reject()])
    assert [a.tool_call_id for a in outcome.reviews] == ["d2"]
    assert outcome.executed_names == ["delete_file"]


def test_predict_run_stops_at_the_first_turn_that_does_not_finish():
    outcomes = predict_run(BATCHED, [([E1], [approve()]), ([D1], []), ([E2], [approve()])])
    assert len(outcomes) == 2
    assert outcomes[1].error is not None
    assert outcomes[1].error.message == (
        "Number of human decisions (0) does not match number of hanging tool calls (1)."
    )


def test_config_is_checked_like_the_middleware():
    with pytest.raises(ValueError) as excinfo:
        HitlConfig({"send_email": {"allowed_decision": ["approve"]}}, TOOLS)
    assert str(excinfo.value) == (
        "Invalid `interrupt_on` config for tool 'send_email': `allowed_decisions` must be a "
        "non-empty list of decision types (e.g. ['approve', 'reject']). Got config with keys "
        "['allowed_decision'] and allowed_decisions=None."
    )
    with pytest.raises(
        ValueError, match=r"^`interrupt_mode` must be 'batched' or 'per_call', got 'eager'\.$"
    ):
        HitlConfig(GATES, TOOLS, interrupt_mode="eager")  # type: ignore[arg-type]


def test_config_reads_a_real_middleware():
    from langchain.agents.middleware import HumanInTheLoopMiddleware

    middleware = HumanInTheLoopMiddleware(GATES, interrupt_mode="per_call", edit_notice=None)
    config = HitlConfig.of(middleware, TOOLS)
    assert config.interrupt_mode == "per_call" and config.edit_notice is None
    assert dict(config.gates["delete_file"].__dict__)["allowed"] == ["approve", "reject"]


def test_misuse_is_an_invalid_argument():
    with pytest.raises(InvalidArgument, match="is not a tool call"):
        predict(BATCHED, [42], [])
    with pytest.raises(InvalidArgument, match="not one of the oracle's tools"):
        predict(BATCHED, [Call("unknown", {}, "u1")], [])
    with pytest.raises(InvalidArgument, match=r"per_call decisions must be a list"):
        predict(PER_CALL, [E1], {"decisions": []})
