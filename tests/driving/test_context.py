"""The run context (issue 12, class 8): `simulate(..., context=...)` on a real
`create_agent(context_schema=...)` whose `when=` predicate and tool read `runtime.context`."""

from __future__ import annotations

import asyncio
import textwrap
from dataclasses import dataclass
from typing import TypedDict

import pytest
from langchain.agents import create_agent
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import BaseModel

from hitl_sim import (
    HitlSim,
    ScriptedChatModel,
    approve,
    asimulate,
    call,
    recover,
    reject,
    say,
    simulate,
    unchecked,
)
from hitl_sim.driving.api import resume
from hitl_sim.driving.context import ContextMismatch
from hitl_sim.errors import InvalidArgument, ScenarioError
from hitl_sim.scenarios.loader import load_scenario, load_scenarios
from hitl_sim.scenarios.runner import run_scenario
from tests.agents.context import Shop, ignoring_agent, refund, refund_agent

MODES = ["batched", "per_call"]


def script():
    return ScriptedChatModel([call("refund", order="A-1", amount=250), say("Done.")])


# --- the context decides the review, in both interrupt modes ------------------------------


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_a_refund_over_the_clerks_limit_is_reviewed(interrupt_mode):
    agent = refund_agent(script(), interrupt_mode=interrupt_mode)
    run = simulate(agent, "refund A-1", [reject("Over your limit")], context={"role": "clerk"})

    assert [p.actions[0].name for p in run.interrupts] == ["refund"]
    assert run.executed == []
    run.check()


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_a_managers_refund_runs_unreviewed_and_the_tool_sees_the_context(interrupt_mode):
    agent = refund_agent(script(), interrupt_mode=interrupt_mode)
    run = simulate(agent, "refund A-1", context=Shop(role="manager"))

    assert run.interrupts == []
    assert [e.result for e in run.executed] == ["refunded 250 on A-1 (by manager)"]
    run.check()


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_a_raised_limit_in_the_context_lets_the_refund_through(interrupt_mode):
    agent = refund_agent(script(), interrupt_mode=interrupt_mode)
    run = simulate(agent, "refund A-1", context={"role": "clerk", "limit": 500})
    assert run.interrupts == [] and run.executed_names == ["refund"]


@pytest.mark.parametrize("interrupt_mode", MODES)
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_async_and_stream_runs_pass_the_context_too(interrupt_mode, mode):
    reviewed = asyncio.run(
        asimulate(
            refund_agent(script(), interrupt_mode=interrupt_mode),
            "refund A-1",
            [approve()],
            context={"role": "clerk"},
            mode=mode,
        )
    )
    unreviewed = simulate(
        refund_agent(script(), interrupt_mode=interrupt_mode),
        "refund A-1",
        context={"role": "manager"},
        mode=mode,
    )
    assert [len(reviewed.interrupts), len(unreviewed.interrupts)] == [1, 0]
    assert reviewed.executed[0].result == "refunded 250 on A-1 (by clerk)"


# --- broken twins: the context ignored, or not passed ------------------------------------


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_a_gate_that_ignores_the_context_is_told_apart(interrupt_mode):
    """The twin reviews the manager's refund: a test written for the correct agent (nobody
    answers, the run must finish unreviewed) catches it."""
    twin = ignoring_agent(script(), interrupt_mode=interrupt_mode)
    run = simulate(twin, "refund A-1", expect_pending=True, context={"role": "manager"})
    assert run.status == "pending" and run.executed == []
    assert [p.actions[0].name for p in run.pending] == ["refund"]


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_a_resume_without_the_context_fails_inside_the_gate(interrupt_mode):
    """Driving the agent by hand, a resume that forgets the context (LangGraph keeps none in
    checkpoints) crashes in the `when` predicate; hitl-sim passes it to every invoke."""
    agent = refund_agent(script(), interrupt_mode=interrupt_mode)
    config = {"configurable": {"thread_id": "by-hand"}}
    paused = agent.invoke({"messages": [("user", "refund A-1")]}, config, context={"role": "clerk"})
    assert "__interrupt__" in paused
    value = paused["__interrupt__"][0]
    answer = (
        {"decisions": [{"type": "approve"}]}
        if interrupt_mode == "batched"
        else {value.id: {"type": "approve"}}
    )
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'role'"):
        agent.invoke(Command(resume=answer), config)

    run = simulate(
        refund_agent(script(), interrupt_mode=interrupt_mode),
        "refund A-1",
        [approve()],
        context={"role": "clerk"},
    )
    assert run.status == "finished" and run.executed_names == ["refund"]


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_resume_and_recover_of_a_run_pass_its_context_again(interrupt_mode):
    agent = refund_agent(script(), interrupt_mode=interrupt_mode)
    paused = simulate(agent, "refund A-1", expect_pending=True, context={"role": "clerk"})
    later = resume(agent, paused, [approve()])
    assert later.status == "finished"
    assert later.executed[0].result == "refunded 250 on A-1 (by clerk)"

    other = refund_agent(script(), interrupt_mode="batched")
    failed = simulate(
        other, "refund A-1", [unchecked({"type": "maybe"})], context={"role": "clerk"}
    )
    assert failed.error is not None and failed.error.poisoned
    recover(failed, other, [approve()])
    assert failed.executed[0].result == "refunded 250 on A-1 (by clerk)"


def test_resume_by_thread_id_needs_the_context_again():
    agent = refund_agent(script())
    paused = simulate(agent, "refund A-1", expect_pending=True, context={"role": "clerk"})
    with pytest.raises(ContextMismatch) as caught:
        resume(agent, paused.thread_id, [approve()])
    assert str(caught.value).startswith(
        "The graph 'LangGraph' declares context_schema=Shop with required field(s) 'role', and "
        "resume() got no context:"
    )
    done = resume(agent, paused.thread_id, [approve()], context={"role": "clerk"})
    assert done.executed_names == ["refund"]


# --- the boundary: a context that does not fit is refused before the run ----------------


def refused(graph, context, **options):
    with pytest.raises(ContextMismatch) as caught:
        simulate(graph, "refund A-1", [approve()], context=context, **options)
    assert isinstance(caught.value, InvalidArgument)
    return caught.value


FIELDS = "Fields of Shop: role: str (required), limit: int = 100."
DATACLASS_FIX = (
    "Fix the context (LangGraph builds the dataclass as Shop(**context), without converting or "
    "checking types: each value reaches the agent as given)."
)


def test_a_misspelt_key_and_a_wrong_type_are_named_with_the_schema():
    model = script()
    error = refused(refund_agent(model), {"rol": "clerk", "limit": "500"})
    assert str(error) == (
        "simulate() got a context that does not fit context_schema=Shop (a dataclass) of the "
        "graph 'LangGraph', so the run was not started:\n"
        "- 'rol': not a field of Shop. Did you mean 'role'?\n"
        "- 'role': required field missing\n"
        "- 'limit': expected int, got '500' (str)\n"
        f"{FIELDS}\n{DATACLASS_FIX}"
    )
    assert error.schema is Shop
    assert model.requests == []  # nothing ran


def test_a_context_of_another_type_is_refused():
    error = refused(refund_agent(script()), "clerk")
    assert str(error).splitlines()[1] == (
        "- the context is 'clerk' (str); expected a Shop or a dict of its fields"
    )


def test_no_context_for_a_schema_with_required_fields_is_refused():
    with pytest.raises(ContextMismatch) as caught:
        simulate(refund_agent(script()), "refund A-1", [approve()])
    assert str(caught.value) == (
        "The graph 'LangGraph' declares context_schema=Shop with required field(s) 'role', and "
        "simulate() got no context: LangGraph would start the run and fail inside the first "
        f"node that reads runtime.context. {FIELDS} Fix: pass the context, e.g. "
        "context={'role': ...}."
    )


def test_a_context_for_a_graph_without_a_schema_is_refused():
    agent = create_agent(script(), tools=[refund], checkpointer=InMemorySaver())
    error = refused(agent, {"role": "clerk", "api_key": "sk-live-1"})
    assert str(error) == (
        "simulate() got context={'role': 'clerk', 'api_key': '***'}, but the graph 'LangGraph' "
        "declares no context schema, so nothing in it is declared to read runtime.context "
        "(LangGraph would pass the context along unchecked). Expected a context only for a graph "
        "built with create_agent(..., context_schema=...) or StateGraph(..., "
        "context_schema=...). Fix: drop the context, or declare the schema the graph reads."
    )
    assert error.schema is None


class Tenant(BaseModel):
    tenant: str
    seats: int = 1


class Flags(TypedDict):
    region: str


def test_pydantic_and_typeddict_schemas_are_checked_their_own_way():
    tenant_agent = create_agent(
        ScriptedChatModel([say("hi")]),
        tools=[],
        context_schema=Tenant,
        checkpointer=InMemorySaver(),
    )
    error = refused(tenant_agent, {"tenant": "acme", "seets": 3, "seats": "many"})
    assert str(error).splitlines()[1:3] == [
        "- 'seets': not a field of Tenant. Did you mean 'seats'?",
        "- 'seats': Input should be a valid integer, unable to parse string as an integer "
        "(got 'many')",
    ]
    assert str(error).endswith("Fix the context (LangGraph builds the model as Tenant(**context)).")
    assert simulate(tenant_agent, "hi", context={"tenant": "acme", "seats": "2"}).status == (
        "finished"  # the model converts "2" itself, as it does in LangGraph
    )

    flags_agent = create_agent(
        ScriptedChatModel([say("hi")]), tools=[], context_schema=Flags, checkpointer=InMemorySaver()
    )
    error = refused(flags_agent, {"region": 7, "token": "s3cret"})
    assert str(error).splitlines()[1:] == [
        "- 'token': not a field of Flags.",
        "- 'region': expected str, got 7 (int)",
        "Fields of Flags: region: str (required).",
        "Fix the context (LangGraph passes a TypedDict context to the agent as given, unchecked).",
    ]


@dataclass
class Optional_:
    role: str = "clerk"


def test_a_schema_without_required_fields_runs_without_a_context():
    agent = create_agent(
        ScriptedChatModel([say("hi")]),
        tools=[],
        context_schema=Optional_,
        checkpointer=InMemorySaver(),
    )
    assert simulate(agent, "hi").status == "finished"


# --- the fixture object and the marker ----------------------------------------------------


def test_hitl_sim_applies_its_context_to_every_run_that_gives_none():
    with HitlSim(context={"role": "clerk"}) as sim:
        reviewed = sim.simulate(refund_agent(script()), "refund A-1", [approve()])
        unreviewed = sim.simulate(refund_agent(script()), "refund A-1", context={"role": "manager"})
    assert [len(reviewed.interrupts), len(unreviewed.interrupts)] == [1, 0]


MARKED = """
import pytest
from hitl_sim import approve, call, say
from tests.agents.context import refund_agent

pytestmark = pytest.mark.hitl_sim(context={"role": "clerk"})


def test_reviewed_for_a_clerk(hitl_sim):
    model = hitl_sim.model([call("refund", order="A-1", amount=250), say("Done.")])
    run = hitl_sim.simulate(refund_agent(model), "refund A-1", [approve()])
    assert len(run.interrupts) == 1


@pytest.mark.hitl_sim(context={"role": "manager"})
def test_not_reviewed_for_a_manager(hitl_sim):
    model = hitl_sim.model([call("refund", order="A-1", amount=250), say("Done.")])
    run = hitl_sim.simulate(refund_agent(model), "refund A-1")
    assert run.interrupts == []


@pytest.mark.hitl_sim(context={"rol": "manager"})
def test_a_bad_context(hitl_sim):
    model = hitl_sim.model([call("refund", order="A-1", amount=250), say("Done.")])
    hitl_sim.simulate(refund_agent(model), "refund A-1")
"""


def test_the_marker_sets_the_context(pytester):
    pytester.makepyfile(test_marked=MARKED)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * hitl_sim.driving.context.ContextMismatch: simulate() got a context that does not "
            "fit "
            "context_schema=Shop (a dataclass) of the graph 'LangGraph', so the run was not "
            "started:",
            "E * - 'rol': not a field of Shop. Did you mean 'role'?",
        ],
        consecutive=True,
    )


# --- scenario files ------------------------------------------------------------------------

SCENARIO = """\
description: A refund is reviewed for a clerk and not for a manager.
agent:
  kind: factory
  factory: tests.agents.context:{factory}
  options: {{interrupt_mode: {mode}}}
  tools:
    refund:
      args: {{order: str, amount: int}}
model:
  - call: {{refund: {{order: A-1, amount: 250}}}}
  - say: Done.
input: Refund A-1.
scenarios:
  clerk:
    run: {{context: {{role: clerk}}}}
    reviewer: [{{reject: Over your limit}}]
    expect: {{status: finished, not_executed: [refund]}}
  manager:
    run: {{context: {{role: manager}}}}
    expect: {{status: finished, executed: [refund], interrupts: []}}
"""


def write(tmp_path, text, name="refunds.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("interrupt_mode", MODES)
def test_a_scenario_set_reviews_for_one_context_and_not_another(tmp_path, interrupt_mode):
    path = write(tmp_path, SCENARIO.format(factory="refund_agent", mode=interrupt_mode))
    results = [run_scenario(s) for s in load_scenarios(path)]
    assert [r.passed for r in results] == [True, True], [r.report() for r in results]


def test_the_broken_twin_fails_the_same_scenario(tmp_path):
    path = write(tmp_path, SCENARIO.format(factory="ignoring_agent", mode="batched"))
    manager = run_scenario(load_scenario(path, "manager"))
    assert not manager.passed
    assert manager.failures[0].startswith("run: ")


def test_a_scenario_context_that_does_not_fit_names_the_file_and_line(tmp_path):
    text = SCENARIO.format(factory="refund_agent", mode="batched").replace(
        "run: {context: {role: manager}}", "run: {context: {role: manager, limt: 5}}"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        run_scenario(load_scenario(path, "manager"))
    assert str(caught.value).splitlines()[:2] == [
        f"{path}:19: run.context: the scenario got a context that does not fit "
        "context_schema=Shop (a dataclass) of the graph 'LangGraph', so the run was not started:",
        "- 'limt': not a field of Shop. Did you mean 'limit'?",
    ]


def test_a_scenario_context_for_an_agent_without_a_schema_is_refused(tmp_path):
    from tests.scenarios import EMAIL_AGENT

    path = write(tmp_path, EMAIL_AGENT + "reviewer: [approve]\nrun: {context: {role: clerk}}\n")
    with pytest.raises(ScenarioError) as caught:
        run_scenario(path)
    assert str(caught.value) == (
        f"{path}:14: run.context: the scenario got context={{'role': 'clerk'}}, but the graph "
        "'LangGraph' declares no context schema, so nothing in it is declared to read "
        "runtime.context (LangGraph would pass the context along unchecked). Expected a context "
        "only for a graph built with create_agent(..., context_schema=...) or StateGraph(..., "
        "context_schema=...). Fix: drop `context:`, or declare the schema the graph reads."
    )


def test_a_top_level_context_key_points_to_run_context(tmp_path):
    from tests.scenarios import EMAIL_AGENT

    path = write(tmp_path, EMAIL_AGENT + "context: {role: clerk}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).splitlines()[1:] == [
        f"- {path}:13: context: unknown key 'context'. Expected one of: description, tags, "
        "agent, model, models, input, reviewer, run, expect, then, webhook, name, path. Did you "
        "mean `run: {context: {...}}` (the context is a run option)?",
        "  Fix: remove or rename `context`.",
    ]


def test_a_then_step_can_resume_with_another_context(tmp_path):
    text = """\
    description: The when predicate runs again at the resume; a manager's resume skips review.
    agent:
      kind: factory
      factory: tests.agents.context:refund_agent
      tools:
        refund:
          args: {order: str, amount: int}
    model:
      - call: {refund: {order: A-1, amount: 250}}
      - say: Done.
    run: {context: {role: clerk}}
    reviewer: {unavailable: true}
    expect: {status: pending}
    then:
      - action: resume
        context: {role: manager}
        reviewer: [approve]
        expect: {status: finished, executed: [refund]}
    """
    result = run_scenario(write(tmp_path, text))
    assert result.passed, result.report()
    assert result.run.executed[0].result == "refunded 250 on A-1 (by manager)"
