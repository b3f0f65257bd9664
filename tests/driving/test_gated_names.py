"""`gated=` names are checked against the graph's tools (a typo there disables the check).

`gated=` is what declares the gates of a graph hitl-sim cannot read (and it switches
`gates_unknown` off), so `gated={"delet_file"}` on an agent whose tool is `delete_file` would let
delete_file run unreviewed with no violation. When the graph's tools are all known before it runs
(create_agent, deep agents and their subagents, compiled subgraphs, agents a tool calls), such a
name is an `UnknownName` before anything runs; when they are not (a node that calls plain
functions or an agent of its own), a finished run lists it in `run.unmatched_gated` and on its
timeline. Each twin: the typo refused or reported, the right name accepted and judged.
"""

from __future__ import annotations

import pytest
from deepagents import create_deep_agent
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import interrupt

from hitl_sim import (
    CheckFailed,
    Reviewer,
    ScriptedChatModel,
    answer,
    approve,
    call,
    reject,
    resume,
    say,
    simulate,
)
from hitl_sim.checking.checks import violations
from hitl_sim.errors import InvalidArgument, UnknownName
from tests.agents import delete_file, read_file, send_email

DELETE = [call("delete_file", path="/etc/hosts"), say("done")]
HEAD = (
    "simulate() got gated= names that are no tool of the graph, so the run was not started: such "
    "a name gates nothing, and the tool it meant would run with no check that a human approved "
    "it."
)
FIX = (
    "Fix the names in gated= (each tool's own name, as the model calls it; the tools of the "
    "graph's subgraphs and subagents count)."
)
TYPO = (
    "gated= name 'delet_file' is no tool of the graph. Its tools: delete_file, read_file; "
    "nearest match for 'delet_file': 'delete_file'."
)


def plain_agent(turns=DELETE, **options):
    """A create_agent agent with no HITL middleware: `gated=` is all that declares its gates."""
    return create_agent(
        ScriptedChatModel(turns),
        tools=[delete_file, read_file],
        checkpointer=InMemorySaver(),
        **options,
    )


def names(run):
    return [violation.check for violation in violations(run)]


# ---- a graph whose tools are all known: refused before anything runs ------------------------


@pytest.mark.parametrize(
    "gated",
    [{"delet_file"}, ["delet_file"], "delet_file", {"delet_file": ["approve", "reject"]}],
    ids=["set", "list", "str", "mapping"],
)
def test_a_gated_name_that_is_no_tool_is_refused_before_the_run(gated):
    model = ScriptedChatModel(DELETE)
    agent = create_agent(model, tools=[delete_file, read_file], checkpointer=InMemorySaver())
    with pytest.raises(UnknownName) as excinfo:
        simulate(agent, "rm", gated=gated, thread_id="t1")
    assert str(excinfo.value) == f"{HEAD}\n- {TYPO}\n{FIX}"
    assert excinfo.value.problems == [TYPO]
    assert model.requests == []  # nothing ran: delete_file never had the chance
    assert agent.get_state({"configurable": {"thread_id": "t1"}}).created_at is None


def test_the_right_name_is_accepted_and_catches_the_unreviewed_call():
    run = simulate(plain_agent(), "rm", gated={"delete_file"})
    assert run.executed_names == ["delete_file"]
    assert run.unmatched_gated == ()
    assert names(run) == ["unapproved_call"]
    with pytest.raises(CheckFailed, match=r"\[unapproved_call\] delete_file is gated"):
        run.check()


def test_every_misspelt_name_is_listed_and_a_name_like_none_has_no_hint():
    with pytest.raises(UnknownName) as excinfo:
        simulate(plain_agent(), "rm", gated=["delet_file", "delete_file", "zzz"])
    assert excinfo.value.problems == [
        TYPO,
        "gated= name 'zzz' is no tool of the graph. Its tools: delete_file, read_file.",
    ]


def test_a_graph_with_hitl_middleware_checks_gated_names_too():
    def build():
        gate = HumanInTheLoopMiddleware(interrupt_on={"delete_file": True})
        return plain_agent(middleware=[gate])

    with pytest.raises(UnknownName, match="gated= name 'read_fil' is no tool of the graph"):
        simulate(build(), "rm", [approve()], gated={"read_fil"})
    run = simulate(build(), "rm", [approve()], gated={"read_file": True})
    assert run.executed_names == ["delete_file"]
    run.check()


def test_a_tool_object_instead_of_its_name_is_refused():
    with pytest.raises(InvalidArgument) as excinfo:
        simulate(plain_agent(), "rm", gated=[delete_file])
    assert str(excinfo.value).endswith(
        "(StructuredTool), which is not a tool name. Expected tool names: a set or list of "
        "str, or a mapping of tool name to its allowed decisions. Fix: gated={'delete_file'}."
    )


def test_a_subagent_tool_is_a_tool_of_the_graph():
    def build():
        model = ScriptedChatModel(
            {
                "main": [call("task", description="Clean", subagent_type="cleaner"), say("ok")],
                "cleaner": [call("delete_file", path="/tmp/x"), say("deleted")],
            }
        )
        cleaner = {
            "name": "cleaner",
            "description": "Deletes files.",
            "system_prompt": "Clean.",
            "tools": [delete_file],
            "interrupt_on": {},
        }
        return create_deep_agent(
            model=model, tools=[send_email], subagents=[cleaner], checkpointer=InMemorySaver()
        )

    with pytest.raises(UnknownName) as excinfo:
        simulate(build(), "clean", gated={"delet_file"})
    (problem,) = excinfo.value.problems
    assert problem.startswith("gated= name 'delet_file' is no tool of the graph. Its tools: ")
    assert "delete_file, " in problem and "send_email, task" in problem
    assert problem.endswith("; nearest match for 'delet_file': 'delete_file'.")

    run = simulate(build(), "clean", gated={"delete_file"})
    assert run.executed_names == ["task", "delete_file"]
    assert names(run) == ["unapproved_call"]


def test_tools_of_a_compiled_subgraph_node_and_of_an_agent_a_tool_calls_are_known():
    inner = plain_agent()
    builder = StateGraph(MessagesState)
    builder.add_node("inner", inner)
    builder.add_edge(START, "inner")
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(UnknownName, match="Its tools: delete_file, read_file;"):
        simulate(graph, "rm", gated={"delet_file"})
    assert names(simulate(graph, "rm", gated={"delete_file"})) == ["unapproved_call"]

    cleaner = create_agent(ScriptedChatModel(DELETE), tools=[delete_file])

    @tool
    def clean(path: str) -> str:
        """Ask the cleaning agent to delete a file."""
        return cleaner.invoke({"messages": [("user", f"delete {path}")]})["messages"][-1].content

    outer = create_agent(
        ScriptedChatModel([call("clean", path="/etc/hosts"), say("cleaned")]),
        tools=[clean],
        checkpointer=InMemorySaver(),
    )
    with pytest.raises(UnknownName, match="Its tools: clean, delete_file;"):
        simulate(outer, "clean", gated={"delet_file"})


# ---- a graph whose tools are not all known: reported after a finished run -------------------


def agent_in_a_node(turns=DELETE):
    """A hand-written StateGraph whose node calls a create_agent agent itself."""
    inner = create_agent(ScriptedChatModel(turns), tools=[delete_file, read_file])

    def work(state: MessagesState) -> dict:
        return {"messages": inner.invoke(state)["messages"][len(state["messages"]) :]}

    builder = StateGraph(MessagesState)
    builder.add_node("work", work)
    builder.add_edge(START, "work")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_typo_on_a_graph_whose_tools_are_not_all_known_is_recorded_after_the_run():
    run = simulate(agent_in_a_node(), "rm", gated={"delet_file"})
    assert run.status == "finished" and run.executed_names == ["delete_file"]
    assert run.unmatched_gated == ("delet_file",)
    assert "delete_file" in run.tools_seen
    assert str(run).splitlines()[1] == "  gated= names no tool the run saw: delet_file"
    [typo] = violations(run)
    assert (typo.check, typo.message) == (
        "gate_names_no_tool",
        "gated= names 'delet_file', which is no tool the run saw, so it gated nothing; did you "
        "mean 'delete_file'? Fix the name in gated= (or pass gate_names_no_tool=False if the "
        "tool is another one that never ran).",
    )


def test_a_gated_tool_the_run_never_reached_is_listed_but_no_violation():
    run = simulate(agent_in_a_node([say("nothing to do")]), "rm", gated={"shutdown_cluster"})
    assert run.unmatched_gated == ("shutdown_cluster",)
    assert violations(run) == []


def test_the_tools_of_an_agent_inside_a_node_can_be_gated():
    run = simulate(agent_in_a_node(), "rm", gated={"delete_file"})
    assert run.unmatched_gated == ()
    assert "gated= names" not in str(run)
    assert names(run) == ["unapproved_call"]


@tool
def archive(path: str) -> str:
    """Archive a file."""
    return f"archived {path}"


def plain_function_graph():
    """A hand-written graph that asks a human, then calls a LangChain tool from a node."""

    def ask(state: MessagesState) -> dict:
        reply = interrupt({"question": "Archive /srv/a?"})
        text = archive.invoke({"path": "/srv/a"}) if reply["approved"] else "kept"
        return {"messages": [("ai", text)]}

    builder = StateGraph(MessagesState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_plain_function_graph_judges_gated_names_once_the_run_finished():
    graph = plain_function_graph()
    paused = simulate(graph, "go", gated={"archiv"}, expect_pending=True)
    assert paused.status == "pending" and paused.unmatched_gated == ()  # the tool may come later

    resume(graph, paused, Reviewer([answer({"approved": True})]))
    assert paused.executed_names == ["archive"]
    assert paused.declared_gates == {"archiv": ("approve", "edit", "reject", "respond")}
    assert paused.unmatched_gated == ("archiv",)

    right = simulate(graph, "go", [answer({"approved": True})], gated={"archive"})
    assert right.unmatched_gated == ()


def test_resume_checks_the_gated_names_it_is_given():
    gate = HumanInTheLoopMiddleware(interrupt_on={"delete_file": True})
    agent = plain_agent(middleware=[gate])
    paused = simulate(agent, "rm", expect_pending=True, gated={"read_file"})
    with pytest.raises(UnknownName, match=r"^resume\(\) got gated= names"):
        resume(agent, paused, [reject("no")], gated={"delet_file"})
    resume(agent, paused, [reject("no")])
    assert paused.declared_gates == {"read_file": ("approve", "edit", "reject", "respond")}
    assert paused.executed == [] and paused.unmatched_gated == ()
    paused.check()


# ---- the pytest marker -----------------------------------------------------------------------


@pytest.mark.hitl_sim(gated={"delet_file"})
def test_the_markers_gated_names_are_checked(hitl_sim):
    with pytest.raises(UnknownName, match="gated= name 'delet_file' is no tool of the graph"):
        hitl_sim.simulate(plain_agent(), "rm")


@pytest.mark.hitl_sim(gated={"delete_file"}, check=False)
def test_the_markers_right_name_is_judged(hitl_sim):
    run = hitl_sim.simulate(plain_agent(), "rm")
    assert names(run) == ["unapproved_call"]
