"""Agent-config mistakes are named, never passed: a gate naming no tool of its agent
(`gate_names_no_tool`), the tools an agent never gates (`run.ungated_tools`, the timeline), HITL
middleware found by isinstance (subclasses, renamed instances), and tool reviews from a
middleware hitl-sim cannot read (`gates_unknown`)."""

from __future__ import annotations

from typing import Any

import pytest
from deepagents import create_deep_agent
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from hitl_sim import CheckFailed, ScriptedChatModel, approve, call, say, simulate
from hitl_sim.checking.checks import violations
from hitl_sim.driving import gates_of
from tests.agents import delete_file, send_email

MODES = ["batched", "per_call"]


def mail_agent(interrupt_on: dict[str, Any], mode: str = "batched", middleware: Any = None):
    gate = middleware or HumanInTheLoopMiddleware(interrupt_on=interrupt_on, interrupt_mode=mode)
    return create_agent(
        ScriptedChatModel([call("send_email", to="all@example.com", body="hi"), say("Sent.")]),
        tools=[send_email],
        middleware=[gate],
        checkpointer=InMemorySaver(),
    )


def names(run, **options):
    return [v.check for v in violations(run, **options)]


# ---------------------------------------------------------------- gate_names_no_tool


@pytest.mark.parametrize("mode", MODES)
def test_a_gate_typo_is_a_violation_without_gated(mode):
    run = simulate(mail_agent({"send_mail": True}, mode), "mail everyone")

    assert run.executed_names == ["send_email"]  # ran unreviewed: LangGraph said nothing
    with pytest.raises(CheckFailed) as failed:
        run.check()
    (found,) = failed.value.violations
    assert str(found) == (
        "[gate_names_no_tool] The interrupt_on of the top-level agent gates 'send_mail', which is "
        "none of its tools, so that gate reviews nothing and the tool it meant runs without a "
        "human's yes. Did you mean 'send_email'? Fix the tool name in interrupt_on (or pass "
        "gate_names_no_tool=False for a tool the agent adds at run time).\n"
        "    agent: the top-level agent\n"
        "    gate: 'send_mail'\n"
        "    its tools: send_email\n"
        "    nearest match: 'send_email'"
    )
    assert run.ungated_tools == {None: ("send_email",)}
    assert str(run).splitlines()[:2] == [
        "run on thread <fresh thread>: finished",
        "  ungated tools: send_email",
    ]
    run.check(gate_names_no_tool=False)  # the opt-out, for a tool added at run time


@pytest.mark.parametrize("mode", MODES)
def test_the_correct_gate_passes_and_lists_no_ungated_tool(mode):
    run = simulate(mail_agent({"send_email": True}, mode), "mail everyone", [approve()])

    run.check()
    assert run.ungated_tools == {}
    assert "ungated tools" not in str(run)


def test_a_gate_with_no_tool_near_it_says_so():
    run = simulate(mail_agent({"send_email": True, "zzz": True}), "mail", [approve()])
    (found,) = violations(run)
    assert (found.check, found.evidence[-1]) == ("gate_names_no_tool", "nearest match: none")
    assert "Did you mean" not in found.message


CLEANER = {
    "name": "cleaner",
    "description": "Deletes files.",
    "system_prompt": "Clean.",
    "tools": [delete_file],
    "interrupt_on": {"delete_file": True},
}
RESEARCHER = {  # no interrupt_on: inherits the top-level one, whose tool it does not have
    "name": "researcher",
    "description": "Reads.",
    "system_prompt": "Read.",
    "tools": [],
}


def deep(interrupt_on, *subagents):
    return create_deep_agent(
        model=ScriptedChatModel({"main": [say("Nothing to do.")]}),
        tools=[send_email],
        interrupt_on=interrupt_on,
        subagents=list(subagents),
        checkpointer=InMemorySaver(),
    )


def test_a_subagents_gate_typo_names_the_subagent():
    typo = {**CLEANER, "interrupt_on": {"delete_fle": True}}
    run = simulate(deep({"send_email": True}, typo, RESEARCHER), "go")

    (found,) = violations(run)
    assert found.check == "gate_names_no_tool"
    assert found.message.startswith(
        "The interrupt_on of subagent 'cleaner' gates 'delete_fle', which is none of its tools,"
    )
    assert found.evidence[0] == "agent: subagent 'cleaner'"
    assert found.evidence[-1] == "nearest match: 'delete_file'"
    assert "delete_file" in run.ungated_tools["cleaner"]
    assert "  ungated tools [cleaner]: " in str(run)


def test_a_deep_agents_main_gate_typo_is_reported_for_every_agent_that_carries_it():
    run = simulate(deep({"send_mail": True}, CLEANER, RESEARCHER), "go")

    found = violations(run)
    assert [(v.check, v.evidence[0]) for v in found] == [
        ("gate_names_no_tool", "agent: the top-level agent"),
        ("gate_names_no_tool", "agent: subagent 'general-purpose'"),
        ("gate_names_no_tool", "agent: subagent 'researcher'"),
    ]
    assert found[0].evidence[-1] == "nearest match: 'send_email'"


def test_a_correct_deep_agent_passes_although_subagents_inherit_gates_they_lack():
    run = simulate(deep({"send_email": True}, CLEANER, RESEARCHER), "go")

    run.check()
    assert "send_email" not in run.ungated_tools[None]
    assert run.agent_gates["researcher"].unknown == ("send_email",)  # inherited, not a typo


def tool_graph(model):
    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def route(state: MessagesState) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([send_email]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_state_graph_without_a_gate_lists_its_tools_as_ungated():
    model = ScriptedChatModel([call("send_email", to="bob", body="hi"), say("Sent.")])
    run = simulate(tool_graph(model), "mail bob")

    assert run.ungated_tools == {None: ("send_email",)}
    assert names(run) == []  # nothing configured, nothing misconfigured
    with pytest.raises(CheckFailed, match=r"\[unapproved_call\] send_email is gated"):
        simulate(
            tool_graph(model.__class__([call("send_email", to="b", body="x"), say("ok")])),
            "mail",
            gated=["send_email"],
        ).check()


# ---------------------------------------------------------------- gates by isinstance


class AuditedGate(HumanInTheLoopMiddleware):  # type: ignore[type-arg]
    """A correct subclass: its node is 'AuditedGate.after_model'."""


class RenamedGate(HumanInTheLoopMiddleware):  # type: ignore[type-arg]
    @property
    def name(self) -> str:
        return "review"


class SkipsBatchedReview(RenamedGate):
    """Broken: never pauses in batched mode."""

    def after_model(self, state: Any, runtime: Any) -> Any:
        return None


class SkipsPerCallReview(RenamedGate):
    """Broken: never pauses in per_call mode (runs the call straight away)."""

    def wrap_tool_call(self, request: Any, handler: Any) -> Any:
        return handler(request)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("gate", [AuditedGate, RenamedGate])
def test_a_subclassed_or_renamed_middleware_is_found_and_a_correct_one_passes(gate, mode):
    agent = mail_agent({}, middleware=gate(interrupt_on={"send_email": True}, interrupt_mode=mode))

    assert gates_of(agent) == {"send_email": ("approve", "edit", "reject", "respond")}
    run = simulate(agent, "mail", [approve()])
    run.check()
    assert run.agent_gates[None].mode == mode


@pytest.mark.parametrize(
    ("broken", "mode"), [(SkipsBatchedReview, "batched"), (SkipsPerCallReview, "per_call")]
)
def test_a_renamed_middleware_that_skips_review_is_caught_without_gated(broken, mode):
    agent = mail_agent(
        {}, middleware=broken(interrupt_on={"send_email": True}, interrupt_mode=mode)
    )

    run = simulate(agent, "mail")
    assert run.executed_names == ["send_email"] and run.interrupts == []
    with pytest.raises(CheckFailed) as failed:
        run.check()
    assert str(failed.value).splitlines()[1] == (
        "1. [unapproved_call] send_email is gated (approve, edit, reject, respond) but ran with no "
        "approve or edit decision for the call: the reviewer was never asked about it."
    )


# ---------------------------------------------------------------- gates_unknown


class Delegating(AgentMiddleware):  # type: ignore[type-arg]
    """A wrapper around a HITL instance: hitl-sim cannot read the gates it holds."""

    state_schema = HumanInTheLoopMiddleware.state_schema

    def __init__(self, inner: HumanInTheLoopMiddleware) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.inner = inner

    def after_model(self, state: Any, runtime: Any) -> Any:
        return self.inner.after_model(state, runtime)


def test_reviews_from_a_middleware_hitl_sim_cannot_read_are_reported():
    inner = HumanInTheLoopMiddleware(interrupt_on={"send_email": True})
    run = simulate(mail_agent({}, middleware=Delegating(inner)), "mail", [approve()])

    assert run.executed_names == ["send_email"]
    (found,) = violations(run)
    assert str(found) == (
        "[gates_unknown] interrupt #1 (batched, node 'Delegating.after_model') put tool calls to "
        "the reviewer, but hitl-sim found no HumanInTheLoopMiddleware instance in the top-level "
        "agent, so it cannot tell which of its tools are gated and unapproved_call cannot see a "
        "gated call that ran unreviewed. Declare the gated tools with simulate(..., "
        "gated=[...]).\n"
        "    asked about: send_email(to='all@example.com', body='hi')\n"
        "    middleware found: Delegating"
    )


def test_declaring_the_gates_answers_what_hitl_sim_cannot_read():
    inner = HumanInTheLoopMiddleware(interrupt_on={"send_email": True})
    agent = mail_agent({}, middleware=Delegating(inner))

    simulate(agent, "mail", [approve()], gated=["send_email"]).check()


# ---------------------------------------------------------------- a named create_agent


def named_mail_agent(gate: Any):
    return create_agent(
        ScriptedChatModel([call("send_email", to="all@example.com", body="hi"), say("Sent.")]),
        tools=[send_email],
        middleware=[gate],
        checkpointer=InMemorySaver(),
        name="mailer",
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_named_agent_is_judged_by_its_own_gates(mode):
    gate = HumanInTheLoopMiddleware(interrupt_on={"send_email": True}, interrupt_mode=mode)
    run = simulate(named_mail_agent(gate), "mail everyone", [approve()])

    assert [i.agent for i in run.interrupts] == ["mailer"]
    assert names(run) == []


def test_a_named_agent_whose_middleware_runs_rejected_calls_is_caught():
    from hitl_sim import reject
    from hitl_sim.catalog.broken_agents import ExecutesRejectedCalls

    gate = ExecutesRejectedCalls(interrupt_on={"send_email": True})  # its bug is batched-only
    run = simulate(named_mail_agent(gate), "mail everyone", [reject("no")])

    assert "rejected_call_ran" in names(run)
    assert "gates_unknown" not in names(run)
