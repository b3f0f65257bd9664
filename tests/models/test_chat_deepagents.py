"""Per-agent scripts through a real deepagents deep agent: main agent and subagents."""

from __future__ import annotations

import asyncio

import pytest
from deepagents import create_deep_agent
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from hitl_sim import ScriptedChatModel, ScriptExhausted, call, say

SENT: list[str] = []
CONFIG = {"configurable": {"thread_id": "deep"}}
RESEARCHER = {
    "name": "researcher",
    "description": "Finds things out.",
    "system_prompt": "Research.",
}


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    SENT.append(to)
    return f"sent to {to}"


@pytest.fixture(autouse=True)
def _clear():
    SENT.clear()


def _deep_agent(model, subagents=(RESEARCHER,), **kwargs):
    return create_deep_agent(
        model=model,
        tools=[send_email],
        subagents=list(subagents),
        interrupt_on={"send_email": True},
        checkpointer=InMemorySaver(),
        **kwargs,
    )


def _scripts():
    return {
        "main": [
            call("task", description="Email bob the report", subagent_type="researcher"),
            say("The researcher emailed bob."),
        ],
        "researcher": [call("send_email", to="bob", body="report"), say("Emailed bob.")],
    }


def test_main_agent_and_inheriting_subagent_each_follow_their_own_script():
    model = ScriptedChatModel(_scripts())
    agent = _deep_agent(model)

    paused = agent.invoke({"messages": [("user", "send bob the report")]}, CONFIG)
    (interrupt,) = paused["__interrupt__"]
    assert interrupt.value["action_requests"][0]["args"] == {"to": "bob", "body": "report"}
    assert SENT == []

    done = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), CONFIG)

    assert SENT == ["bob"]
    assert done["messages"][-1].content == "The researcher emailed bob."
    assert model.remaining == []
    assert [(r.agent, r.turn) for r in model.requests] == [
        (None, 1),
        ("researcher", 1),
        ("researcher", 2),
        (None, 2),
    ]
    main_tools, researcher_tools = model.requests[0].tools, model.requests[1].tools
    assert "task" in main_tools
    assert "task" not in researcher_tools
    assert "send_email" in researcher_tools
    task_result = model.requests[3].messages[-1]
    assert isinstance(task_result, ToolMessage)
    assert task_result.content == "Emailed bob."


def test_a_subagent_that_names_the_same_model_is_routed_the_same_way():
    model = ScriptedChatModel(_scripts())
    agent = _deep_agent(model, subagents=[{**RESEARCHER, "model": model}])
    agent.invoke({"messages": [("user", "go")]}, CONFIG)
    agent.invoke(Command(resume={"decisions": [{"type": "reject", "message": "no"}]}), CONFIG)

    assert SENT == []
    rejection = model.requests[2].messages[-1]
    assert rejection.content == "User rejected the tool call for `send_email` with reason: no"
    model.assert_consumed()


def test_a_subagent_with_its_own_model_leaves_the_main_script_alone():
    main = ScriptedChatModel({"main": _scripts()["main"]})
    own = ScriptedChatModel(_scripts()["researcher"])
    agent = _deep_agent(main, subagents=[{**RESEARCHER, "model": own}])
    agent.invoke({"messages": [("user", "go")]}, CONFIG)
    agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), CONFIG)

    assert [r.agent for r in main.requests] == [None, None]
    assert [r.agent for r in own.requests] == ["researcher", "researcher"]
    assert main.remaining == own.remaining == []


def test_a_named_main_agent_and_the_general_purpose_subagent_use_their_names():
    model = ScriptedChatModel(
        {
            "boss": [
                call("task", description="Say hi", subagent_type="general-purpose"),
                say("done"),
            ],
            "general-purpose": [say("hi")],
        }
    )
    agent = _deep_agent(model, subagents=(), name="boss")
    assert agent.invoke({"messages": [("user", "go")]}, CONFIG)["messages"][-1].content == "done"
    assert [r.agent for r in model.requests] == ["boss", "general-purpose", "boss"]


def test_a_subagent_without_a_script_fails_naming_it_and_the_scripted_agents():
    model = ScriptedChatModel({"main": _scripts()["main"]})
    with pytest.raises(ScriptExhausted) as excinfo:
        _deep_agent(model).invoke({"messages": [("user", "go")]}, CONFIG)
    assert str(excinfo.value).splitlines()[0] == (
        "ScriptedChatModel has no script for agent 'researcher' (scripted agents: 'main')."
    )
    assert str(excinfo.value).splitlines()[-1] == (
        "Add a script for it: ScriptedChatModel({..., 'researcher': [...]})."
    )


def test_routing_works_with_ainvoke():
    model = ScriptedChatModel(_scripts())
    agent = _deep_agent(model)

    async def scenario():
        await agent.ainvoke({"messages": [("user", "go")]}, CONFIG)
        return await agent.ainvoke(Command(resume={"decisions": [{"type": "approve"}]}), CONFIG)

    done = asyncio.run(scenario())
    assert done["messages"][-1].content == "The researcher emailed bob."
    assert [r.agent for r in model.requests] == [None, "researcher", "researcher", None]


@tool
def search(query: str) -> str:
    """Search the web."""
    return f"results for {query}"


def _parallel_scripts():
    return {
        "main": [
            [
                call("task", description="Find A", subagent_type="researcher"),
                call("task", description="Write B", subagent_type="writer"),
            ],
            say("Both done."),
        ],
        "researcher": [call("search", query="A"), say("A found.")],
        "writer": [say("B written.")],
    }


def _run_parallel(agent, how):
    start = {"messages": [("user", "do both")]}
    if how == "invoke":
        return agent.invoke(start)
    if how == "stream":
        return list(agent.stream(start, stream_mode="messages", subgraphs=True))

    async def run():
        if how == "ainvoke":
            return await agent.ainvoke(start)
        return [part async for part in agent.astream(start, stream_mode="messages", subgraphs=True)]

    return asyncio.run(run())


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
def test_parallel_subagents_get_their_own_turns_in_every_call_style(how):
    model = ScriptedChatModel(_parallel_scripts())
    writer = {"name": "writer", "description": "Writes.", "system_prompt": "Write."}
    agent = create_deep_agent(model=model, tools=[search], subagents=[RESEARCHER, writer])

    _run_parallel(agent, how)

    by_agent = {}
    for request in model.requests:
        by_agent.setdefault(request.agent, []).append(request.response.text)
    assert by_agent == {
        None: ["", "Both done."],
        "researcher": ["", "A found."],
        "writer": ["B written."],
    }
    results = {m.content for m in model.requests[-1].messages if isinstance(m, ToolMessage)}
    assert results == {"A found.", "B written."}


@pytest.mark.parametrize("own_name", [None, "inner"])
def test_a_compiled_subagent_is_routed_by_its_subagent_name(own_name):
    model = ScriptedChatModel(
        {
            "main": [call("task", description="Look it up", subagent_type="lookup"), say("done")],
            "lookup": [call("search", query="q"), say("found")],
        }
    )
    runnable = create_agent(model, tools=[search], name=own_name)
    compiled = {"name": "lookup", "description": "Looks up.", "runnable": runnable}
    agent = create_deep_agent(model=model, tools=[], subagents=[compiled])

    assert agent.invoke({"messages": [("user", "go")]})["messages"][-1].content == "done"
    assert [r.agent for r in model.requests] == [None, "lookup", "lookup", None]
