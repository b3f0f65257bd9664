"""Reviewer-side typos are errors before anything is sent (issue 12, class 3).

hitl-sim knows every tool's schema and gate: an edit of an argument the tool does not take, a
`Reviewer.by_tool` key or `when(...)` name that matches nothing, an `approve()` sent to a raw
`interrupt()` and an `answer()` sent to a static breakpoint would all be sent (or dropped) without
a word, and the test could pass on a call nobody approved. Each twin below: the typo refused,
naming the tool, the known names and the nearest match; the correct spelling passing.
"""

from __future__ import annotations

from typing import TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import Reviewer, answer, approve, call, edit, reject, say, simulate, unchecked, when
from hitl_sim.errors import ScenarioError, UnknownName
from tests.agents import build_agent

MODES = ["batched", "per_call"]
EMAIL = [call("send_email", to="bob@example.com", body="hi"), say("Sent.")]
LABEL = {
    "batched": "interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model')",
    "per_call": "interrupt #1 (per_call, node 'tools')",
}
EDIT_FIX = (
    "Use the tool's own argument names in edit(...); to send the edit anyway (a tool that takes "
    "arguments its schema does not list), wrap it: unchecked(edit(...))."
)
NAMES_HEAD = (
    "The reviewer names tools or arguments the agent does not have, so the run was not started "
    "(those rules would never match, and another decision would answer in their place)."
)
NAMES_FIX = (
    "Fix the names; for a tool hitl-sim cannot see in the graph, pass check_names=False to "
    "Reviewer.by_tool(...) or Reviewer.rules(...)."
)


# ---- edit() of an argument the tool does not take --------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_edit_of_a_misspelt_argument_is_refused_before_it_is_sent(mode):
    agent = build_agent(EMAIL, interrupt_mode=mode)
    with pytest.raises(UnknownName) as excinfo:
        simulate(agent, "email bob", [edit(recipient="team@example.com")], thread_id="t1")
    where = "action 1 of 1, " if mode == "batched" else ""
    problem = (
        f"{where}send_email(to='bob@example.com', body='hi'): edit(recipient='team@example.com') "
        "sets 'recipient', which is not an argument of send_email. Its arguments: body, to; "
        "nearest match for 'recipient': 'to'."
    )
    assert str(excinfo.value).splitlines() == [
        f"The reviewer's edit for {LABEL[mode]} names arguments its tool does not take, so it "
        "was not sent: the middleware would drop them and run the call with the model's own "
        "arguments.",
        f"- {problem}",
        EDIT_FIX,
        *str(excinfo.value).splitlines()[3:],  # the timeline note rides on __notes__, not here
    ]
    assert excinfo.value.problems == [problem]
    assert isinstance(excinfo.value, ScenarioError)
    # nothing was sent: the thread still waits for its review, and the tool never ran
    state = agent.get_state({"configurable": {"thread_id": "t1"}})
    assert state.interrupts and not any(
        message.type == "tool" for message in state.values["messages"]
    )


@pytest.mark.parametrize("mode", MODES)
def test_the_correct_edit_runs_and_passes_the_checks(mode):
    run = simulate(build_agent(EMAIL, interrupt_mode=mode), "email bob", [edit(to="team@x.org")])
    assert dict(run.executed[0].args) == {"to": "team@x.org", "body": "hi"}
    run.check()


def test_the_silent_pass_the_check_closes():
    """Sent anyway (the documented opt-in), the misspelt edit is lost: the original runs, and
    what the tool did is the model's call, not the reviewer's."""
    run = simulate(build_agent(EMAIL), "email bob", [unchecked(edit(recipient="team@x.org"))])
    assert run.executed[0].result == "sent to bob@example.com"
    assert run.decisions[0].decision.describe() == "unchecked(edit(recipient='team@x.org'))"
    assert run.decisions[0].payload == {
        "type": "edit",
        "edited_action": {
            "name": "send_email",
            "args": {"to": "bob@example.com", "body": "hi", "recipient": "team@x.org"},
        },
    }


def test_a_redirect_is_checked_against_the_tool_it_redirects_to():
    agent = build_agent([call("delete_file", path="/srv/a"), say("ok")])
    with pytest.raises(UnknownName) as excinfo:
        simulate(agent, "clean up", [edit("read_file", {"file": "/srv/a"})])
    assert excinfo.value.problems == [
        "action 1 of 1, delete_file(path='/srv/a'): edit('read_file', file='/srv/a') sets "
        "'file', which is not an argument of read_file. Its arguments: path."
    ]


# ---- Reviewer.by_tool keys and when(...) names ------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_by_tool_key_naming_no_tool_is_refused_before_the_run_starts(mode):
    agent = build_agent(EMAIL, interrupt_mode=mode)
    reviewer = Reviewer.by_tool({"send_mail": reject("no")}, default=approve())
    with pytest.raises(UnknownName) as excinfo:
        simulate(agent, "email bob", reviewer)
    assert str(excinfo.value) == (
        f"{NAMES_HEAD}\n"
        "- Reviewer.by_tool key 'send_mail' names no tool of the agent. Its tools: delete_file, "
        "read_file, send_email; nearest match for 'send_mail': 'send_email'.\n"
        f"{NAMES_FIX}"
    )
    assert agent.get_state({"configurable": {"thread_id": "any"}}).values == {}


@pytest.mark.parametrize("mode", MODES)
def test_the_correct_by_tool_key_answers(mode):
    reviewer = Reviewer.by_tool({"send_email": reject("no")}, default=approve())
    run = simulate(build_agent(EMAIL, interrupt_mode=mode), "email bob", reviewer)
    assert run.executed == []
    run.check()


def test_when_names_are_checked_against_the_tools_and_their_arguments():
    reviewer = Reviewer.rules(
        when("send_email", recipient="bob@example.com") >> reject("no"),
        when("delete_files") >> reject("no"),
        when(to="bob@example.com") >> reject("no"),  # no tool: may match a raw payload's field
        default=approve(),
    )
    with pytest.raises(UnknownName) as excinfo:
        simulate(build_agent(EMAIL), "email bob", reviewer)
    assert excinfo.value.problems == [
        "The rule when('send_email', recipient='bob@example.com') matches argument 'recipient', "
        "which send_email does not take. Its arguments: body, to; nearest match for "
        "'recipient': 'to'.",
        "The rule when('delete_files') names no tool of the agent. Its tools: delete_file, "
        "read_file, send_email; nearest match for 'delete_files': 'delete_file'.",
    ]


def test_names_inside_a_chain_level_are_checked_too():
    level = Reviewer.by_tool({"sendemail": approve()})
    with pytest.raises(UnknownName, match="key 'sendemail' names no tool"):
        simulate(build_agent(EMAIL), "email bob", Reviewer.chain(manager=level))


def test_check_names_false_is_the_opt_in_for_tools_the_graph_does_not_show():
    reviewer = Reviewer.by_tool({"legacy_tool": reject("no")}, default=approve(), check_names=False)
    run = simulate(build_agent(EMAIL), "email bob", reviewer)
    assert run.executed_names == ["send_email"]  # the unknown key matched nothing, as asked
    rules = Reviewer.rules(
        when("send_email", cc="x") >> reject("no"), check_names=False, default=approve()
    )
    assert simulate(build_agent(EMAIL), "email bob", rules).executed_names == ["send_email"]


# ---- approve() to a raw interrupt(), answer() to a static breakpoint ---------------------------


class State(TypedDict, total=False):
    log: list[str]


def deploy(state: State) -> State:
    reply = interrupt({"question": "Deploy to prod?"})
    return {"log": [f"deploy: {reply!r}"]}


def step(state: State) -> State:
    return {"log": [*state.get("log", []), "step ran"]}


def _graph(node, **compile_options):
    builder = StateGraph(State)
    builder.add_node(node.__name__, node)
    builder.add_edge(START, node.__name__)
    builder.add_edge(node.__name__, END)
    return builder.compile(checkpointer=InMemorySaver(), **compile_options)


def test_a_middleware_decision_sent_to_a_raw_interrupt_is_refused():
    with pytest.raises(ScenarioError) as excinfo:
        simulate(_graph(deploy), {"log": []}, [approve()])
    assert str(excinfo.value).splitlines()[3:5] == [
        "Problems:",
        "- interrupt #1 (raw, node 'deploy'): approve() cannot answer a raw interrupt() (payload "
        "{'question': 'Deploy to prod?'}): no HumanInTheLoopMiddleware reads it, so the node "
        "would get {'type': 'approve'} as interrupt()'s return value. Use answer(value) with "
        "the value the node expects (answer({'type': 'approve'}) if it really reads the "
        "middleware's shape).",
    ]
    with pytest.raises(ScenarioError, match=r"reject\('no'\) cannot answer a raw interrupt"):
        simulate(_graph(deploy), {"log": []}, [reject("no")])


def test_the_value_the_node_expects_answers_a_raw_interrupt():
    run = simulate(_graph(deploy), {"log": []}, [answer({"type": "approve"})])
    assert run.final_state == {"log": ["deploy: {'type': 'approve'}"]}


def test_an_answer_sent_to_a_static_breakpoint_is_refused_not_dropped():
    graph = _graph(step, interrupt_before=["step"])
    with pytest.raises(ScenarioError) as excinfo:
        simulate(graph, {"log": []}, [answer({"approved": True})])
    assert str(excinfo.value).splitlines()[4] == (
        "- interrupt #1 (breakpoint, node 'step'): answer({'approved': True}) cannot answer a "
        "static breakpoint: LangGraph continues a breakpoint with invoke(None), so the value "
        "would be dropped unseen. Use approve() to continue, or update(key=value) to write it "
        "into the state first."
    )
    run = simulate(_graph(step, interrupt_before=["step"]), {"log": []}, [approve()])
    assert run.final_state == {"log": ["step ran"]}
