"""Issue 12, class 5: the checks catch observable misbehaviour of a middleware fork (a decision
other than approve/edit taken for approval, a reject/respond reply unlike the real one, an edit
redirected past another tool's gate, an edit the model is never told of), match executions to
their own turn when call ids are reused, and record per_call calls that ran before review (with
the opt-in all_or_nothing check). Each broken fork is caught; the real middleware, in both
interrupt modes, and a correct fork pass."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import (
    CheckFailed,
    ScriptedChatModel,
    approve,
    call,
    edit,
    reject,
    respond,
    say,
    simulate,
    unchecked,
)
from hitl_sim.catalog import broken_agents as broken
from hitl_sim.checking.checks import violations
from tests.agents import delete_file, read_file, send_email

MODES = ["batched", "per_call"]
TOOLS = [send_email, delete_file, read_file]


def agent(
    turns: list[Any],
    middleware: Any = HumanInTheLoopMiddleware,
    mode: str = "batched",
    gates: dict[str, Any] | None = None,
):
    return create_agent(
        ScriptedChatModel(turns),
        tools=TOOLS,
        middleware=[
            middleware(
                interrupt_on=gates or {"send_email": True, "delete_file": True},
                interrupt_mode=mode,
            )
        ],
        checkpointer=InMemorySaver(),
    )


def names(run) -> list[str]:
    return [v.check for v in violations(run)]


def send(middleware: Any = HumanInTheLoopMiddleware, mode: str = "batched", **gates: Any):
    turns = [call("send_email", to="bob", body="hi"), say("ok")]
    return agent(turns, middleware, mode, gates or None)


CORRECT = [("batched", HumanInTheLoopMiddleware), ("per_call", HumanInTheLoopMiddleware)]
CORRECT += [("batched", broken.ForkedApproval)]
DECISIONS = [reject("no"), reject(), respond("here you go"), edit(to="ann")]


@pytest.mark.parametrize(("mode", "middleware"), CORRECT)
@pytest.mark.parametrize("decision", DECISIONS, ids=lambda d: d.describe())
def test_the_real_middleware_and_a_correct_fork_pass(mode, middleware, decision):
    run = simulate(send(middleware, mode), "go", [decision])
    run.check()
    run.check(all_or_nothing=True)
    assert run.ran_before_review == []


# ---------------------------------------------------------------- 1. other decisions as approval


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("decision", "found"),
    [
        (reject("no"), ["rejected_call_ran", "reason_not_delivered"]),
        (reject(), ["rejected_call_ran"]),
        (respond("here you go"), ["rejected_call_ran", "reason_not_delivered"]),
    ],
    ids=["reject-reason", "reject", "respond"],
)
def test_a_reject_or_respond_taken_for_approval_is_caught(mode, decision, found):
    run = simulate(send(broken.TakesAnyDecisionForApproval, mode), "go", [decision])
    assert run.executed_names == ["send_email"]
    assert names(run) == found


def test_an_unknown_decision_type_taken_for_approval_is_unapproved_call():
    run = simulate(send(broken.TakesAnyDecisionForApproval), "go", [unchecked({"type": "maybe"})])
    assert run.executed_names == ["send_email"]
    (found,) = violations(run)
    assert found.check == "unapproved_call"
    assert found.message == (
        "send_email ran on a 'maybe' decision, which is not approve or edit: the middleware "
        "took it for approval (the real HumanInTheLoopMiddleware refuses it as an unexpected "
        "human decision)."
    )
    assert found.evidence[1] == "ran: send_email(to='bob', body='hi') (call 'call_1', resume 1)"
    real = simulate(send(), "go", [unchecked({"type": "maybe"})])
    assert real.status == "failed" and real.executed == [] and names(real) == []


def test_a_decision_type_the_gate_does_not_allow_taken_for_approval_is_unapproved_call():
    gate = {"allowed_decisions": ["reject"]}
    run = simulate(
        send(broken.TakesAnyDecisionForApproval, send_email=gate), "go", [unchecked(approve())]
    )
    assert [(v.check, v.message) for v in violations(run)] == [
        (
            "unapproved_call",
            "send_email ran on approve, which its gate does not allow (allowed: reject): the "
            "middleware took it for approval.",
        )
    ]
    real = simulate(send(send_email=gate), "go", [unchecked(approve())])
    assert real.status == "failed" and names(real) == []


# ---------------------------------------------------------------- 2. replies unlike the real ones


@pytest.mark.parametrize("mode", MODES)
def test_a_reject_sent_as_success_is_reply_differs(mode):
    run = simulate(send(broken.RejectsAsSuccess, mode), "go", [reject("no")])
    (found,) = violations(run)
    assert found.check == "reply_differs"
    assert found.message == (
        "The ToolMessage the model got for the reviewer's reject of send_email (turn 2) differs "
        "from what HumanInTheLoopMiddleware sends in status."
    )
    assert found.evidence[1:] == ("status: 'success' (real middleware: 'error')",)


@pytest.mark.parametrize("mode", MODES)
def test_a_bare_reject_reason_is_reply_differs_in_content(mode):
    run = simulate(send(broken.BareRejectReason, mode), "go", [reject("no")])
    (found,) = violations(run)
    assert found.check == "reply_differs"
    assert found.evidence[1:] == (
        "content: 'no' (real middleware: 'User rejected the tool call for `send_email` with "
        "reason: no')",
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("decision", [reject("no"), respond("here")], ids=["reject", "respond"])
def test_a_reply_without_a_name_is_reply_differs(mode, decision):
    run = simulate(send(broken.UnnamedReplies, mode), "go", [decision])
    (found,) = violations(run)
    assert found.check == "reply_differs"
    assert found.evidence[1:] == ("name: None (real middleware: 'send_email')",)


def test_a_reply_to_another_call_id_is_reply_differs():
    run = simulate(send(broken.RepliesToAnotherCall, "per_call"), "go", [reject("no")])
    (found,) = violations(run)
    assert found.check == "reply_differs"
    assert found.message == (
        "The model's next request (turn 2) has no ToolMessage answering the rejected call "
        "send_email (call 'call_1'); the real HumanInTheLoopMiddleware answers it with one."
    )
    assert found.evidence[2].startswith("sent instead: ToolMessage(content='User rejected")
    assert "tool_call_id='call_1-reply'" in found.evidence[2]


def test_a_reply_to_another_call_id_in_batched_mode_lets_the_call_run():
    run = simulate(send(broken.RepliesToAnotherCall), "go", [reject("no")])
    assert run.executed_names == ["send_email"]
    assert names(run) == ["rejected_call_ran"]


# ---------------------------------------------------------------- 3. edits past another gate

REDIRECT = {"read_file": True, "delete_file": {"allowed_decisions": ["approve", "reject"]}}


@pytest.mark.parametrize(
    ("mode", "middleware"),
    [("batched", HumanInTheLoopMiddleware), ("per_call", broken.RedirectingEdits)],
)
def test_an_edit_redirected_to_another_gated_tool_is_edit_skipped_gate(mode, middleware):
    graph = agent([call("read_file", path="/a"), say("ok")], middleware, mode, REDIRECT)
    run = simulate(graph, "go", [unchecked(edit("delete_file", path="/a"))])
    assert run.executed_names == ["delete_file"]
    (found,) = violations(run)
    assert found.check == "edit_skipped_gate"
    assert found.message == (
        "The reviewer's edit of read_file redirected it to delete_file, which is gated itself "
        "(approve, reject), so delete_file ran on read_file's review, skipping its own gate and "
        "allowed decisions. Edit the call's arguments, and let the model call delete_file to "
        "have it reviewed as itself."
    )
    assert found.evidence[2:] == (
        "delete_file allows: approve, reject",
        "ran: delete_file(path='/a') (call 'call_1', resume 1)",
    )


def test_an_edit_redirected_to_an_ungated_tool_is_not_edit_skipped_gate():
    graph = agent([call("delete_file", path="/a"), say("ok")], gates={"delete_file": True})
    run = simulate(graph, "go", [unchecked(edit("read_file", path="/a"))])
    assert run.executed_names == ["read_file"]
    assert "edit_skipped_gate" not in names(run)


def test_the_real_per_call_middleware_refuses_a_redirecting_edit():
    graph = agent([call("read_file", path="/a"), say("ok")], mode="per_call", gates=REDIRECT)
    run = simulate(graph, "go", [unchecked(edit("delete_file", path="/a"))])
    assert run.status == "failed" and run.executed == [] and names(run) == []


# ---------------------------------------------------------------- 4. call ids reused across turns


def reused(middleware: Any, mode: str):
    again = call("delete_file", path="/a").with_id("same")
    return agent(
        [again, call("delete_file", path="/a").with_id("same"), say("ok")], middleware, mode
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "decisions", [[approve(), approve()], [approve(), reject("no")], [reject("no"), approve()]]
)
def test_reused_ids_match_each_execution_to_its_own_turn(mode, decisions):
    run = simulate(reused(HumanInTheLoopMiddleware, mode), "go", decisions)
    assert [e.call_id for e in run.executed] == ["same"] * sum(
        d.type == "approve" for d in decisions
    )
    run.check()


@pytest.mark.parametrize("mode", MODES)
def test_a_reused_id_whose_second_call_was_rejected_is_caught_on_that_turn(mode):
    run = simulate(
        reused(broken.TakesAnyDecisionForApproval, mode), "go", [approve(), reject("no")]
    )
    assert [e.resume for e in run.executed] == [1, 2]
    found = violations(run)
    assert [v.check for v in found] == ["rejected_call_ran", "reason_not_delivered"]
    assert found[0].evidence[1] == "ran: delete_file(path='/a') (call 'same', resume 2)"


@pytest.mark.parametrize("mode", MODES)
def test_a_reused_id_whose_first_call_was_rejected_is_caught_on_that_turn(mode):
    run = simulate(
        reused(broken.TakesAnyDecisionForApproval, mode), "go", [reject("no"), approve()]
    )
    found = violations(run)
    assert [v.check for v in found] == ["rejected_call_ran", "reason_not_delivered"]
    assert found[0].evidence == (
        "decided: reject('no') for delete_file(path='/a') at interrupt #1 "
        f"({mode}, node {run.interrupts[0].node!r}) (resume 1)",
        "ran: delete_file(path='/a') (call 'same', resume 1)",
    )


# ---------------------------------------------------------------- 5. edits the model is not told


@pytest.mark.parametrize("mode", MODES)
def test_an_edit_the_model_is_never_told_of_is_edit_not_told(mode):
    run = simulate(send(broken.HidesEdits, mode), "go", [edit(to="ann")])
    assert dict(run.executed[0].args) == {"to": "ann", "body": "hi"}
    (found,) = violations(run)
    assert found.check == "edit_not_told"
    assert found.message == (
        "The model was never told of the reviewer's edit: its next request (turn 2) still shows "
        "send_email(to='bob', body='hi') and no notice that send_email(to='ann', body='hi') ran "
        "instead, so it reasons about a call that did not happen. (The real middleware prepends "
        "its edit notice to the result; with edit_notice=None on purpose, pass "
        "edit_not_told=False.)"
    )
    assert found.evidence[2] == "sent: ToolMessage: 'sent to ann'"
    run.check(edit_not_told=False)


def test_an_edit_that_changes_nothing_needs_no_notice():
    run = simulate(send(broken.HidesEdits), "go", [edit(to="bob")])
    run.check()


@pytest.mark.parametrize("mode", MODES)
def test_the_real_middleware_tells_the_model_of_an_edit(mode):
    run = simulate(send(mode=mode), "go", [edit(to="ann")])
    tool_message = run.model_requests[1].messages[-1]
    assert "Executed instead: send_email" in str(tool_message.content)
    run.check()


# ---------------------------------------------------------------- 6. per_call siblings run first


def siblings(mode: str):
    turns = [[call("read_file", path="/a"), call("delete_file", path="/a")], say("ok")]
    return agent(turns, mode=mode)


def test_per_call_ungated_siblings_run_before_review_and_all_or_nothing_catches_it():
    run = simulate(siblings("per_call"), "go", [reject("no")])
    assert [e.name for e in run.ran_before_review] == ["read_file"]
    run.check()  # off by default
    with pytest.raises(CheckFailed) as failed:
        run.check(all_or_nothing=True)
    (found,) = failed.value.violations
    assert found.check == "all_or_nothing"
    assert found.message == (
        "read_file ran before the gated calls of its model turn were reviewed, so a reviewer "
        "who rejects them cannot stop it: the turn is not all-or-nothing. per_call reviews run "
        "ungated calls first; use interrupt_mode='batched' (the whole turn is reviewed before "
        "any tool runs) or gate the tool too."
    )
    assert found.evidence == (
        "ran: read_file(path='/a') (call 'call_1', resume 0)",
        "still waiting: interrupt #1 (per_call, node 'tools'): delete_file(path='/a')",
    )
    lines = str(run).splitlines()
    at = lines.index("    +0s r0 tool read_file(path='/a') -> contents of /a")
    assert lines[at + 1] == "               ran before #1 was answered"


def test_batched_mode_runs_nothing_before_review():
    run = simulate(siblings("batched"), "go", [reject("no")])
    assert run.ran_before_review == []
    run.check(all_or_nothing=True)
    assert "ran before" not in str(run)


def test_all_or_nothing_is_off_by_default_and_named_in_the_options():
    from hitl_sim.checking.checks import CHECKS, OPT_IN

    assert {"all_or_nothing"} == OPT_IN
    assert {"reply_differs", "edit_skipped_gate", "edit_not_told", "all_or_nothing"} <= set(CHECKS)
