"""ScriptedChatModel / FunctionChatModel as the model of a real create_agent with HITL."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

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
