"""ScriptedChatModel / FunctionChatModel as the model of a real create_agent with HITL."""

from __future__ import annotations

import asyncio
from typing import Annotated, TypedDict

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt
from pydantic import BaseModel

from hitl_sim import FunctionChatModel, ScriptedChatModel, call, say

EXECUTED: list[tuple[str, str]] = []


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    EXECUTED.append(("send_email", to))
    return f"sent to {to}"


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    EXECUTED.append(("delete_file", path))
    return f"deleted {path}"


@pytest.fixture(autouse=True)
def _clear_log():
    EXECUTED.clear()


def _agent(model, mode="batched"):
    hitl = HumanInTheLoopMiddleware(
        interrupt_on={"send_email": True, "delete_file": True}, interrupt_mode=mode
    )
    return create_agent(
        model, tools=[send_email, delete_file], middleware=[hitl], checkpointer=InMemorySaver()
    )


CONFIG = {"configurable": {"thread_id": "t1"}}


def test_batched_turn_pauses_once_and_resumes_with_the_scripted_answer():
    model = ScriptedChatModel(
        [
            [call("send_email", to="bob", body="hi"), call("delete_file", path="/a")],
            say("All done."),
        ]
    )
    agent = _agent(model)

    paused = agent.invoke({"messages": [("user", "clean up")]}, CONFIG)
    (interrupt,) = paused["__interrupt__"]
    assert [a["name"] for a in interrupt.value["action_requests"]] == ["send_email", "delete_file"]
    assert paused["messages"][-1].tool_calls == [
        {
            "name": "send_email",
            "args": {"to": "bob", "body": "hi"},
            "id": "call_1",
            "type": "tool_call",
        },
        {"name": "delete_file", "args": {"path": "/a"}, "id": "call_2", "type": "tool_call"},
    ]
    assert EXECUTED == []

    decisions = [{"type": "approve"}, {"type": "reject", "message": "keep /a"}]
    done = agent.invoke(Command(resume={"decisions": decisions}), CONFIG)

    assert EXECUTED == [("send_email", "bob")]
    assert done["messages"][-1].content == "All done."
    assert model.remaining == []
    first, second = model.requests
    assert (first.turn, second.turn) == (1, 2)
    assert first.tools == second.tools == ("send_email", "delete_file")
    rejection = next(
        m for m in second.messages if isinstance(m, ToolMessage) and m.status == "error"
    )
    assert rejection.content == "User rejected the tool call for `delete_file` with reason: keep /a"


def test_per_call_mode_interrupts_once_per_call():
    model = ScriptedChatModel(
        [[call("send_email", to="bob", body="hi"), call("delete_file", path="/a")], say("ok")]
    )
    agent = _agent(model, mode="per_call")

    paused = agent.invoke({"messages": [("user", "go")]}, CONFIG)
    by_call = {i.value["tool_call_id"]: i.id for i in paused["__interrupt__"]}
    assert sorted(by_call) == ["call_1", "call_2"]

    resume = {by_call["call_1"]: {"type": "reject"}, by_call["call_2"]: {"type": "approve"}}
    done = agent.invoke(Command(resume=resume), CONFIG)

    assert EXECUTED == [("delete_file", "/a")]
    assert done["messages"][-1].content == "ok"


def test_function_model_reacts_to_the_reviewers_rejection():
    def respond(messages, info):
        if info.turn == 1:
            return call("send_email", to="bob", body="hi")
        last = messages[-1]
        assert isinstance(last, ToolMessage)
        return say(f"Not sent: {last.content}")

    model = FunctionChatModel(respond)
    agent = _agent(model)
    agent.invoke({"messages": [("user", "mail bob")]}, CONFIG)
    decisions = [{"type": "reject", "message": "bob is away"}]
    done = agent.invoke(Command(resume={"decisions": decisions}), CONFIG)

    assert done["messages"][-1].content == (
        "Not sent: User rejected the tool call for `send_email` with reason: bob is away"
    )
    assert EXECUTED == []


def test_an_aimessage_turn_is_emitted_as_given():
    given = AIMessage(
        content="Sending.",
        tool_calls=[{"name": "send_email", "args": {"to": "a", "body": "b"}, "id": "mine"}],
    )
    model = ScriptedChatModel([given, say("done")])
    paused = _agent(model).invoke({"messages": [("user", "go")]}, CONFIG)
    message = paused["messages"][-1]
    assert (message.content, message.tool_calls[0]["id"]) == ("Sending.", "mine")


# --- streaming and async give the same messages ----------------------------------------------


def _script():
    return [
        [say("Sending it now."), call("send_email", to="bob", body="hi")],
        say("All done, bob has it."),
    ]


def _plain(message):
    return (message.content, message.tool_calls)


def _joined(chunks):
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def test_invoke_stream_ainvoke_and_astream_give_the_same_message():
    def bound():
        return ScriptedChatModel(_script()).bind_tools([send_email, delete_file])

    invoked = bound().invoke("mail bob")
    chunks = list(bound().stream("mail bob"))
    ainvoked = asyncio.run(bound().ainvoke("mail bob"))

    async def astream():
        return [chunk async for chunk in bound().astream("mail bob")]

    achunks = asyncio.run(astream())

    expected = (
        "Sending it now.",
        [
            {
                "name": "send_email",
                "args": {"to": "bob", "body": "hi"},
                "id": "call_1",
                "type": "tool_call",
            }
        ],
    )
    assert _plain(invoked) == _plain(ainvoked) == expected
    assert _plain(_joined(chunks)) == _plain(_joined(achunks)) == expected
    assert [chunk.content for chunk in chunks] == ["Sending ", "it ", "now.", ""]
    assert chunks[-1].tool_call_chunks == [
        {
            "name": "send_email",
            "args": '{"to": "bob", "body": "hi"}',
            "id": "call_1",
            "index": 0,
            "type": "tool_call_chunk",
        }
    ]


def test_stream_mode_messages_through_an_agent_streams_text_and_tool_call_chunks():
    agent = create_agent(ScriptedChatModel(_script()), tools=[send_email])
    streamed = [
        (type(message).__name__, message.content, bool(getattr(message, "tool_call_chunks", [])))
        for message, _meta in agent.stream({"messages": [("user", "go")]}, stream_mode="messages")
    ]
    assert streamed == [
        ("AIMessageChunk", "Sending ", False),
        ("AIMessageChunk", "it ", False),
        ("AIMessageChunk", "now.", False),
        ("AIMessageChunk", "", True),
        ("ToolMessage", "sent to bob", False),
        ("AIMessageChunk", "All ", False),
        ("AIMessageChunk", "done, ", False),
        ("AIMessageChunk", "bob ", False),
        ("AIMessageChunk", "has ", False),
        ("AIMessageChunk", "it.", False),
    ]
    assert EXECUTED == [("send_email", "bob")]


def test_invoke_stream_and_ainvoke_of_an_agent_end_in_the_same_messages():
    def final(run):
        return [
            (type(m).__name__, *_plain(m))
            if hasattr(m, "tool_calls")
            else (type(m).__name__, m.content)
            for m in run["messages"]
        ]

    invoked = create_agent(ScriptedChatModel(_script()), tools=[send_email]).invoke(
        {"messages": [("user", "go")]}
    )
    *_, streamed = create_agent(ScriptedChatModel(_script()), tools=[send_email]).stream(
        {"messages": [("user", "go")]}, stream_mode="values"
    )
    ainvoked = asyncio.run(
        create_agent(ScriptedChatModel(_script()), tools=[send_email]).ainvoke(
            {"messages": [("user", "go")]}
        )
    )
    assert final(invoked) == final(streamed) == final(ainvoked)
    assert final(invoked)[-1] == ("AIMessage", "All done, bob has it.", [])


def test_an_aimessage_turn_streams_its_metadata_once():
    given = AIMessage(
        content="",
        response_metadata={"model_name": "fake"},
        usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
    )
    chunks = list(ScriptedChatModel([given]).stream("hi"))
    assert len(chunks) == 1
    assert chunks[0].usage_metadata == {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    assert chunks[0].response_metadata["model_name"] == "fake"


def test_async_agent_with_per_call_hitl():
    model = ScriptedChatModel(
        [[call("delete_file", path="/a"), call("delete_file", path="/b")], say("ok")]
    )
    agent = _agent(model, mode="per_call")

    async def scenario():
        paused = await agent.ainvoke({"messages": [("user", "go")]}, CONFIG)
        by_call = {i.value["tool_call_id"]: i.id for i in paused["__interrupt__"]}
        resume = {by_call["call_1"]: {"type": "approve"}, by_call["call_2"]: {"type": "reject"}}
        return await agent.ainvoke(Command(resume=resume), CONFIG)

    done = asyncio.run(scenario())
    assert EXECUTED == [("delete_file", "/a")]
    assert done["messages"][-1].content == "ok"


# --- ids, bound tools, requests ---------------------------------------------------------------


def test_tool_call_ids_are_stable_across_runs_and_unique_within_one():
    def ids():
        model = ScriptedChatModel(
            [
                call("delete_file", path="/a"),
                [call("delete_file", path="/b"), call("delete_file", path="/c").with_id("mine")],
                say("done"),
            ]
        )
        run = create_agent(model, tools=[delete_file]).invoke({"messages": [("user", "go")]})
        return [tc["id"] for m in run["messages"] for tc in getattr(m, "tool_calls", [])]

    assert ids() == ids() == ["call_1", "call_2", "mine"]


def test_id_prefix_changes_generated_ids():
    model = ScriptedChatModel([call("delete_file", path="/a")], id_prefix="r2_")
    assert model.bind_tools([delete_file]).invoke("x").tool_calls[0]["id"] == "r2_1"


def test_bind_tools_records_tools_and_tool_choice_per_request():
    model = ScriptedChatModel([call("delete_file", path="/a"), say("b")])
    model.bind_tools([send_email, delete_file], tool_choice="any").invoke("first")
    model.invoke("second")

    first, second = model.requests
    assert (first.tools, first.tool_choice) == (("send_email", "delete_file"), "any")
    assert (second.tools, second.tool_choice) == ((), None)
    assert [m.content for m in first.messages] == ["first"]
    assert first.response.tool_calls[0]["args"] == {"path": "/a"}
    assert (first.turn, second.turn, first.agent) == (1, 2, None)


def test_an_unbound_model_does_not_check_calls():
    model = ScriptedChatModel([call("anything", x=1)])
    assert model.invoke("x").tool_calls[0]["name"] == "anything"


def test_function_model_sees_bound_tools_turn_and_agent():
    seen = []

    def respond(messages, info):
        seen.append((info.turn, info.agent, info.tool_names, info.tool_choice, len(info.tools)))
        return say("hi") if info.turn > 1 else call("delete_file", path="/a")

    agent = create_agent(FunctionChatModel(respond), tools=[delete_file], name="janitor")
    agent.invoke({"messages": [("user", "go")]})
    assert seen == [
        (1, "janitor", ("delete_file",), None, 1),
        (2, "janitor", ("delete_file",), None, 1),
    ]


def test_call_and_say_read_back_as_written():
    assert (
        repr(call("send_email", to="bob", body="hi")) == "call('send_email', to='bob', body='hi')"
    )
    assert repr(call("x", name="n").with_id("c9")) == "call('x', name='n').with_id('c9')"
    assert repr(say("Done.")) == "say('Done.')"
    assert call("x", a=1) == call("x", a=1) != call("x", a=2)


# --- a hand-written StateGraph ----------------------------------------------------------------


class _State(TypedDict):
    messages: Annotated[list, add_messages]


def test_works_inside_hand_written_stategraph_nodes_with_interrupt():
    model = ScriptedChatModel([call("delete_file", path="/srv/a"), say("Deleted.")])
    tools = {"delete_file": delete_file}

    def think(state):
        return {"messages": [model.bind_tools([delete_file]).invoke(state["messages"])]}

    def act(state):
        results = []
        for tool_call in state["messages"][-1].tool_calls:
            if interrupt({"approve?": tool_call["args"]}) == "yes":
                results.append(tools[tool_call["name"]].invoke(tool_call))
        return {"messages": results}

    def route(state):
        return "act" if state["messages"][-1].tool_calls else END

    builder = StateGraph(_State)
    builder.add_node("think", think)
    builder.add_node("act", act)
    builder.add_edge(START, "think")
    builder.add_conditional_edges("think", route, ["act", END])
    builder.add_edge("act", "think")
    graph = builder.compile(checkpointer=InMemorySaver())

    paused = graph.invoke({"messages": [("user", "clean")]}, CONFIG)
    assert paused["__interrupt__"][0].value == {"approve?": {"path": "/srv/a"}}
    done = graph.invoke(Command(resume="yes"), CONFIG)

    assert EXECUTED == [("delete_file", "/srv/a")]
    assert done["messages"][-1].content == "Deleted."
    assert model.requests[1].messages[-1].content == "deleted /srv/a"


def test_clear_requests_forgets_the_log_and_restarts_turn_counts():
    model = FunctionChatModel(lambda messages, info: say(f"turn {info.turn}"))
    assert model.invoke("a").content == "turn 1"
    model.clear_requests()
    assert model.requests == []
    assert model.invoke("b").content == "turn 1"


LETTER = {
    "name": "letter",
    "description": "Send a letter.",
    "parameters": {
        "type": "object",
        "properties": {"to": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]}},
        "required": ["to"],
    },
}


def test_provider_builtin_tools_and_unjudgeable_schemas_do_not_block_calls():
    web_search = {"type": "web_search_preview"}
    model = ScriptedChatModel([[call("web_search_preview", q="x"), call("letter", to=1)]])
    message = model.bind_tools([web_search, LETTER]).invoke("x")
    assert [tc["name"] for tc in message.tool_calls] == ["web_search_preview", "letter"]
    assert model.requests[0].tools == ("web_search_preview", "letter")


def test_structured_output_through_create_agent_is_a_scripted_call():
    class Weather(BaseModel):
        city: str
        celsius: int

    model = ScriptedChatModel([call("Weather", city="Paris", celsius=21)])
    result = create_agent(model, tools=[], response_format=Weather).invoke(
        {"messages": [("user", "weather?")]}
    )
    assert result["structured_response"] == Weather(city="Paris", celsius=21)
    assert (model.requests[0].tools, model.requests[0].tool_choice) == (("Weather",), "any")


def test_the_edit_notice_reaches_the_model_and_is_recorded():
    model = ScriptedChatModel([call("send_email", to="bob", body="hi"), say("ok")])
    agent = _agent(model)
    agent.invoke({"messages": [("user", "mail bob")]}, CONFIG)
    edited = {"name": "send_email", "args": {"to": "alice", "body": "hi"}}
    agent.invoke(Command(resume={"decisions": [{"type": "edit", "edited_action": edited}]}), CONFIG)

    seen = model.requests[1].messages[-1]
    assert isinstance(seen, ToolMessage)
    assert seen.content.startswith("Note: a human reviewer replaced this tool call before it ran.")
    assert seen.content.endswith(
        'Executed instead: send_email with arguments {"to": "alice", "body": "hi"}.'
        "\n\nTool response:\nsent to alice"
    )
    assert EXECUTED == [("send_email", "alice")]
