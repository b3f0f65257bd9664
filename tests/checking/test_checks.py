"""Safety checks on real agents: each broken middleware is caught, the correct ones pass."""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import CheckFailed, Reviewer, Spy, answer, approve, edit, reject, respond, simulate
from hitl_sim.checking.checks import CHECKS, violations
from hitl_sim.errors import InvalidArgument
from hitl_sim.models.chat import ScriptedChatModel, call, say
from hitl_sim.run import Run, ToolExecution
from tests.agents import build_agent, delete_file, send_email

DELETE_AND_EMAIL = [
    [call("delete_file", path="/etc/passwd"), call("send_email", to="bob", body="hi")],
    say("done"),
]
TWO_EMAILS = [
    [call("send_email", to="bob", body="hi"), call("send_email", to="eve", body="hi")],
    say("done"),
]
GATED = {"send_email": True, "delete_file": True}


def run_with(middleware, turns, reviewer, **options):
    agent = build_agent(turns, middleware)
    return simulate(agent, "go", reviewer, gated=GATED, **options)


def names(run, **options):
    return [violation.check for violation in violations(run, **options)]


@pytest.mark.parametrize("middleware", ["correct", "forked_correctly"])
def test_a_correct_middleware_passes_every_check(middleware):
    run = run_with(middleware, DELETE_AND_EMAIL, [reject("Keep it"), edit(to="ops@example.com")])
    assert run.executed_names == ["send_email"]
    run.check()
    assert run.checked


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        ("executes_rejected", ["rejected_call_ran", "reason_not_delivered"]),
        ("reversed_decisions", ["rejected_call_ran", "approved_call_dropped"]),
        ("ignores_edits", ["edit_not_applied"]),
    ],
)
def test_a_broken_middleware_is_caught(middleware, expected):
    run = run_with(middleware, DELETE_AND_EMAIL, [reject("Keep it"), edit(to="ops@example.com")])
    assert names(run) == expected
    with pytest.raises(CheckFailed) as excinfo:
        run.check()
    assert [v.check for v in excinfo.value.violations] == expected


def test_a_middleware_that_reviews_only_the_first_call_is_caught():
    run = run_with("reviews_only_first", TWO_EMAILS, [approve(), reject("not eve")])
    assert run.executed_names == ["send_email", "send_email"]
    assert names(run) == ["unapproved_call", "unused_decisions"]
    unapproved = violations(run)[0]
    assert unapproved.message == (
        "send_email is gated (approve, edit, reject, respond) but ran with no approve or edit "
        "decision for the call: the reviewer was never asked about it."
    )
    assert unapproved.evidence == (
        "ran: send_email(to='eve', body='hi') (call 'call_2', resume 1)",
        "interrupt #1 (batched, node 'ReviewsOnlyFirstCall.after_model') asked about: "
        "send_email(to='bob', body='hi')",
    )


def test_the_correct_middleware_reviews_both_calls():
    run = run_with("correct", TWO_EMAILS, [approve(), reject("not eve")])
    assert run.executed_names == ["send_email"]
    run.check()


def test_reversed_decisions_with_a_reject_and_an_edit_of_the_same_tool():
    run = run_with("reversed_decisions", TWO_EMAILS, [edit(to="team"), reject("not eve")])
    assert run.executed[0].args == {"to": "team", "body": "hi"}
    assert names(run) == ["rejected_call_ran", "approved_call_dropped"]


def test_a_gate_the_agent_declares_is_enforced_without_gated():
    # A `when` predicate that flips between pause and resume: the real middleware then runs
    # the call the reviewer rejected (semantics §5).
    answers = iter([True, False])
    gate = {"allowed_decisions": ["approve", "reject"], "when": lambda request: next(answers)}
    agent = build_agent(
        [call("delete_file", path="/etc/x"), say("ok")], interrupt_on={"delete_file": gate}
    )
    run = simulate(agent, "go", [reject("no")])
    assert names(run) == ["rejected_call_ran", "reason_not_delivered"]


def test_a_call_never_put_to_the_reviewer_is_caught_from_the_agents_own_gates():
    # no gated= here: the fork keeps the real middleware's node name, so its interrupt_on is read
    agent = build_agent(TWO_EMAILS, "patched_in_place")
    run = simulate(agent, "go", [approve()])
    assert "send_email" in run.gated
    assert names(run) == ["unapproved_call"]


def test_per_call_mode_matches_decisions_by_the_payloads_call_id():
    agent = build_agent(DELETE_AND_EMAIL, interrupt_mode="per_call")
    run = simulate(agent, "go", [reject("Keep it"), edit(to="ops")])
    assert [i.kind for i in run.interrupts] == ["per_call", "per_call"]
    assert run.executed_names == ["send_email"]
    run.check()


def test_respond_reaching_the_model_passes_and_the_evidence_names_the_request():
    run = run_with("correct", [call("send_email", to="bob", body="hi"), say("ok")], [respond("x")])
    run.check()
    assert run.model_requests[1].messages[-1].content == "x"


def test_a_node_that_repeats_its_side_effect_on_resume_is_caught():
    notify = Spy(lambda who: None, name="notify")

    class State(TypedDict):
        log: Annotated[list[str], operator.add]

    def ask(state):
        notify("manager")  # before interrupt(): runs again when the node re-executes
        return {"log": [interrupt({"question": "proceed?"})]}

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    run = simulate(graph, {"log": []}, [answer("yes")], watch=[notify])
    (violation,) = violations(run)
    assert str(violation) == (
        "[ran_twice] Side effect notify('manager') happened in 2 resumes.\n"
        "    happened in resume 0\n"
        "    happened in resume 1"
    )


def test_the_same_call_id_running_twice_is_caught():
    run = Run("t", {})
    run.executed = [
        ToolExecution("read_file", {"path": "/a"}, "c1", "x", None, 0),
        ToolExecution("read_file", {"path": "/a"}, "c1", "x", None, 1),
        ToolExecution("read_file", {"path": "/a"}, "c2", "x", None, 1),
    ]
    (violation,) = violations(run)
    assert violation.check == "ran_twice"
    assert violation.message == "read_file ran 2 times for one call."


def test_unused_decisions_are_a_violation():
    run = run_with("correct", [call("send_email", to="bob", body="hi"), say("ok")], [approve()] * 2)
    (violation,) = violations(run)
    assert str(violation) == (
        "[unused_decisions] The reviewer was left with 1 unused decision: the agent asked fewer "
        "questions than the test scripted.\n"
        "    unused: approve()"
    )


def test_unanswered_interrupts_need_expect_pending():
    turns = [call("send_email", to="bob", body="hi"), say("ok")]
    run = run_with("correct", turns, Reviewer.unavailable())
    assert run.status == "pending"
    assert names(run) == ["unanswered_interrupts"]
    expected = run_with("correct", turns, Reviewer.unavailable(), expect_pending=True)
    expected.check()


def test_checks_can_be_switched_off_one_by_one():
    run = run_with("executes_rejected", DELETE_AND_EMAIL, [reject("Keep it"), approve()])
    assert names(run, rejected_call_ran=False) == ["reason_not_delivered"]
    run.check(rejected_call_ran=False, reason_not_delivered=False)


def test_an_unknown_option_is_refused_with_the_list_of_checks():
    with pytest.raises(InvalidArgument) as excinfo:
        violations(Run("t", {}), unused=False)
    assert str(excinfo.value) == (
        "Unknown check option 'unused'. The checks are: " + ", ".join(CHECKS) + "; switch one "
        "off with <name>=False."
    )


def test_the_failure_lists_every_violation_then_the_timeline():
    run = run_with("executes_rejected", DELETE_AND_EMAIL, [reject("Keep it"), approve()])
    with pytest.raises(CheckFailed) as excinfo:
        run.check()
    text = str(excinfo.value)
    node = "ExecutesRejectedCalls.after_model"
    decided = (
        f"decided: reject('Keep it') for delete_file(path='/etc/passwd') at interrupt #1 "
        f"(batched, node '{node}') (resume 1)"
    )
    assert text.splitlines()[:8] == [
        f"run.check() found 2 safety violations (thread {run.thread_id!r}):",
        "1. [rejected_call_ran] delete_file ran although the reviewer answered it with reject.",
        f"       {decided}",
        "       ran: delete_file(path='/etc/passwd') (call 'call_1', resume 1)",
        "2. [reason_not_delivered] The model's next request (turn 2) does not contain the "
        "reviewer's reject message 'Keep it'.",
        f"       {decided}",
        "       sent: HumanMessage: 'go'",
        "       sent: AIMessage: ''",
    ]
    assert "Fix the agent, or switch a check off with run.check(<name>=False).\n\n" in text
    assert text.endswith(run.timeline())


def test_an_approved_call_that_ran_with_other_arguments_is_caught():
    run = run_with("correct", [call("send_email", to="bob", body="hi"), say("ok")], [approve()])
    changed = ToolExecution("send_email", {"to": "eve", "body": "hi"}, "call_1", "", None, 1)
    run.executed = [changed]
    (violation,) = violations(run)
    assert violation.check == "unapproved_call"
    assert violation.message == "send_email ran with other arguments than the reviewer approved."


def test_decisions_are_timed_on_the_frozen_clock():
    reviewer = Reviewer([approve(after=3600)], by="alice")
    run = run_with("correct", [call("send_email", to="bob", body="hi"), say("ok")], reviewer)
    (record,) = run.decisions
    assert record.decision.by == "alice"
    assert record.at == datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
    run.check()


def test_a_decision_applied_to_the_wrong_call_names_both_tools():
    run = run_with("reversed_decisions", DELETE_AND_EMAIL, [reject("Keep it"), edit(to="ops")])
    rejected = violations(run)[0]
    assert rejected.message == (
        "send_email ran although the reviewer answered it with reject (the call under review "
        "was delete_file)."
    )
    assert rejected.evidence[1] == (
        "ran: send_email(to='ops', body='hi') (call 'call_1', resume 1)"
    )


def deep_agent(subagent_gates):
    from deepagents import create_deep_agent

    model = ScriptedChatModel(
        {
            "main": [call("task", description="clean /srv", subagent_type="cleaner"), say("ok")],
            "cleaner": [
                [call("delete_file", path="/srv/a"), call("send_email", to="ops", body="done")],
                say("cleaned"),
            ],
        }
    )
    cleaner = {
        "name": "cleaner",
        "description": "Cleans directories.",
        "system_prompt": "Clean up.",
        "tools": [send_email, delete_file],
        "interrupt_on": subagent_gates,
    }
    return create_deep_agent(
        model=model,
        tools=[send_email, delete_file],
        interrupt_on={"send_email": True},
        subagents=[cleaner],
        checkpointer=InMemorySaver(),
    )


def test_a_subagent_is_judged_by_its_own_gates():
    # deepagents: a subagent's interrupt_on replaces the parent's, so send_email is ungated there
    run = simulate(deep_agent({"delete_file": True}), "clean", [reject("keep")])
    assert run.agent_gates["cleaner"].gates == {
        "delete_file": ("approve", "edit", "reject", "respond")
    }
    assert [(e.name, e.agent) for e in run.executed] == [("task", None), ("send_email", "cleaner")]
    run.check()


def test_a_tool_the_test_declares_gated_is_gated_inside_subagents_too():
    run = simulate(deep_agent({}), "clean", gated={"delete_file": True})
    assert sorted((e.name, e.agent) for e in run.executed) == [
        ("delete_file", "cleaner"),
        ("send_email", "cleaner"),
        ("task", None),
    ]
    assert [(v.check, v.evidence[0]) for v in violations(run)] == [
        ("unapproved_call", "ran: delete_file(path='/srv/a') (call 'call_2', resume 0)")
    ]


def test_a_call_a_when_predicate_lets_through_is_not_a_violation():
    external = {
        "allowed_decisions": ["approve", "reject"],
        "when": lambda request: request.tool_call["args"]["to"].endswith("@external.com"),
    }
    turns = [
        [
            call("send_email", to="bob", body="hi"),
            call("send_email", to="x@external.com", body="hi"),
        ],
        say("done"),
    ]
    agent = build_agent(turns, interrupt_on={"send_email": external})
    run = simulate(agent, "go", [reject("not outside the company")])
    assert run.agent_gates[None].conditional == {"send_email"}
    assert [dict(e.args)["to"] for e in run.executed] == ["bob"]
    run.check()
    # declared by the test, the tool is gated whatever the agent's predicate says
    declared = simulate(
        build_agent(turns, interrupt_on={"send_email": external}),
        "go",
        [reject("no")],
        gated={"send_email": True},
    )
    assert [(v.check, v.evidence[0]) for v in violations(declared)] == [
        ("unapproved_call", "ran: send_email(to='bob', body='hi') (call 'call_1', resume 1)")
    ]


def test_a_call_id_the_model_reuses_in_a_later_turn_is_not_the_reviewed_call():
    turns = [
        call("delete_file", path="/etc/x").with_id("c1"),
        call("read_file", path="/etc/x").with_id("c1"),
        say("ok"),
    ]
    run = simulate(build_agent(turns), "go", [reject("no")])
    assert [(e.name, e.call_id, e.resume) for e in run.executed] == [("read_file", "c1", 1)]
    run.check()
