"""The harness judges correct agents correctly: a retry after an error is not a double run, a
seed-style application audit with raw `{"approved": true}` answers is recorded right, model turns
keep counting after recover()/resume(), and `with_id("")` emits the empty id."""

from __future__ import annotations

import logging
from typing import Any, TypedDict

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    HumanInTheLoopMiddleware,
    ToolRetryMiddleware,
)
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import (
    CheckFailed,
    Reviewer,
    ScriptedChatModel,
    answer,
    approve,
    call,
    recover,
    say,
    simulate,
    unchecked,
)
from hitl_sim.checking import capture_log, cross_check
from hitl_sim.driving.api import resume
from tests.agents import send_email
from tests.driving.test_simulate import three_calls

MODES = ["batched", "per_call"]

# ---------------------------------------------------------------- ran_twice and retries


def flaky(failures: int):
    """A send_email whose first `failures` attempts raise (a flaky mail server)."""
    attempts: list[int] = []

    @tool
    def send_email(to: str, body: str) -> str:
        """Send an email to `to`."""
        attempts.append(1)
        if len(attempts) <= failures:
            raise ConnectionError("mail server busy")
        return f"sent to {to}"

    return send_email


class RunsTwice(AgentMiddleware):  # type: ignore[type-arg]
    """Broken: executes every tool call twice (a retry wrapper that retries successes)."""

    def wrap_tool_call(self, request: Any, handler: Any) -> Any:
        handler(request)
        return handler(request)


def retrying_agent(mode: str, tool_: Any, *extra: Any):
    return create_agent(
        ScriptedChatModel([call("send_email", to="ops", body="hi"), say("Sent.")]),
        tools=[tool_],
        middleware=[
            HumanInTheLoopMiddleware(interrupt_on={"send_email": True}, interrupt_mode=mode),
            *extra,
        ],
        checkpointer=InMemorySaver(),
    )


def retry(**options: Any) -> ToolRetryMiddleware:
    return ToolRetryMiddleware(max_retries=2, initial_delay=0, jitter=False, **options)


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_after_an_error_inside_one_resume_is_not_a_double_run(mode):
    run = simulate(retrying_agent(mode, flaky(1), retry()), "mail ops", [approve()])

    assert [(e.error, e.resume) for e in run.executed] == [
        ("ConnectionError: mail server busy", 1),
        (None, 1),
    ]
    run.check()


@pytest.mark.parametrize("mode", MODES)
def test_two_successful_executions_of_one_call_are_still_ran_twice(mode):
    run = simulate(retrying_agent(mode, send_email, RunsTwice()), "mail ops", [approve()])

    with pytest.raises(CheckFailed) as failed:
        run.check()
    (found,) = failed.value.violations
    assert str(found) == (
        "[ran_twice] send_email ran 2 times for one call.\n"
        "    ran: send_email(to='ops', body='hi') (call 'call_1', resume 1)\n"
        "    ran: send_email(to='ops', body='hi') (call 'call_1', resume 1)"
    )


def test_a_retry_that_succeeds_twice_names_the_failed_attempt_too():
    run = simulate(retrying_agent("batched", flaky(1), RunsTwice(), retry()), "go", [approve()])

    (found,) = [v for v in run_violations(run) if v.check == "ran_twice"]
    assert found.message == "send_email ran 2 times for one call (and raised 1 time)."
    assert found.evidence[0] == (
        "raised: send_email(to='ops', body='hi') (call 'call_1', resume 1): "
        "ConnectionError: mail server busy"
    )


def run_violations(run):
    from hitl_sim.checking.checks import violations

    return violations(run)


# ---------------------------------------------------------------- the seed's audit trail

AUDIT = logging.getLogger("hitl_audit")


class Request(TypedDict, total=False):
    tool: str
    args: dict[str, Any]
    result: str


def seed_app(logs_decision):
    """The seed's raw style: `interrupt({...})`, `if approval.get("approved")`, and an audit
    line per decision in the seed's `log_decision` shape."""

    def approval(state: Request) -> Request:
        reply = interrupt({"tool": state["tool"], "args": state["args"]})
        approved = bool(reply.get("approved"))
        AUDIT.info(
            {
                "tool": state["tool"],
                "args": state["args"],
                "decision": logs_decision(reply, approved),
                "user_id": reply.get("user_id"),
            }
        )
        return {"result": "ran" if approved else "skipped"}

    builder = StateGraph(Request)
    builder.add_node("approval", approval)
    builder.add_edge(START, "approval")
    builder.add_edge("approval", END)
    return builder.compile(checkpointer=InMemorySaver())


def seed_run(logs_decision, approved: bool):
    with capture_log() as records:
        run = simulate(
            seed_app(logs_decision),
            {"tool": "delete_file", "args": {"path": "/srv/a"}},
            [answer({"approved": approved, "user_id": "ann"}, by="ann")],
        )
    return run, records


@pytest.mark.parametrize(
    "logs_decision",
    [
        lambda reply, ok: "approved" if ok else "rejected",
        lambda reply, ok: reply["approved"],  # the raw bool
    ],
    ids=["word", "bool"],
)
@pytest.mark.parametrize("approved", [True, False])
def test_a_correct_seed_style_audit_passes(logs_decision, approved):
    run, records = seed_run(logs_decision, approved)

    assert run.final_state["result"] == ("ran" if approved else "skipped")
    assert cross_check(run, records, by="user_id", args="args") == []
    run.check(app_audit=records)


def test_a_seed_app_that_logs_every_answer_as_approved_is_caught():
    run, records = seed_run(lambda reply, ok: "approved", approved=False)

    (found,) = cross_check(run, records)
    assert found.kind == "misrecorded_decision"
    assert found.message.startswith(
        "The application recorded answer({'approved': False, 'user_id': 'ann'}, by='ann') for "
        "interrupt #1 (raw, node 'approval') (interrupt #1 (raw, node 'approval')) wrongly: "
        "decision: expected 'reject', recorded 'approved'."
    )
    with pytest.raises(CheckFailed, match=r"\[misrecorded_decision\]"):
        run.check(app_audit=records)


# ---------------------------------------------------------------- turn numbering


def test_model_turns_keep_counting_after_recover():
    graph = three_calls()
    run = simulate(graph, "go", Reviewer([unchecked({"type": "maybe"}), approve()]))

    recover(run, graph, Reviewer([approve(), approve(), approve()]))

    assert [request.turn for request in run.model_requests] == [1, 2]
    assert "r2 model turn 2: says done" in str(run)


def test_model_turns_keep_counting_after_resume():
    agent = retrying_agent("batched", send_email)
    paused = simulate(agent, "mail ops", expect_pending=True)

    resume(agent, paused, Reviewer([approve()]))

    assert [request.turn for request in paused.model_requests] == [1, 2]


# ---------------------------------------------------------------- with_id("")


def test_with_id_empty_emits_the_empty_id_and_other_calls_keep_counting():
    model = ScriptedChatModel(
        [[call("send_email", to="a", body="x").with_id(""), call("send_email", to="b", body="y")]]
    )
    message = model.bind_tools([send_email]).invoke("go")

    assert [tc["id"] for tc in message.tool_calls] == ["", "call_1"]
