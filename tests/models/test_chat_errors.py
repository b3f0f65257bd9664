"""Every error the fake models raise, pinned exactly, raised through a real create_agent."""

from __future__ import annotations

from textwrap import dedent

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from hitl_sim import FunctionChatModel, HitlSimError, ScriptedChatModel, ScriptExhausted, call, say
from hitl_sim.errors import InvalidArgument, ScenarioError, UnusedScript


@tool
def send_email(to: str, body: str, cc: str | None = None, urgent: bool = False) -> str:
    """Send an email."""
    return f"sent to {to}"


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    return f"deleted {path}"


def _run(model):
    agent = create_agent(model, tools=[send_email, delete_file])
    return agent.invoke({"messages": [("user", "mail bob")]})


def _message(text: str) -> str:
    return dedent(text).strip("\n")


@pytest.mark.parametrize(
    ("scripted", "problem", "fix"),
    [
        (
            call("send_mail", to="bob", body="hi"),
            "unknown tool 'send_mail'",
            "Call one of the bound tools in the script, or give the tool to the agent.",
        ),
        (
            call("send_email", to="bob"),
            "tool 'send_email' is missing required argument 'body'",
            "Add body=... to the scripted call.",
        ),
        (
            call("send_email", to=3, body="hi"),
            "argument 'to' of tool 'send_email' must be string, got int 3",
            "Change 'to' in the scripted call to a value of type string.",
        ),
        (
            call("send_email", to="bob", body="hi", cc=["x"]),
            "argument 'cc' of tool 'send_email' must be string | null, got list ['x']",
            "Change 'cc' in the scripted call to a value of type string | null.",
        ),
        (
            call("send_email", to="bob", body="hi", urgent=1),
            "argument 'urgent' of tool 'send_email' must be boolean, got int 1",
            "Change 'urgent' in the scripted call to a value of type boolean.",
        ),
    ],
    ids=["unknown-tool", "missing-argument", "wrong-type", "wrong-type-optional", "int-for-bool"],
)
def test_a_call_that_does_not_fit_the_bound_tools_names_turn_call_and_tools(scripted, problem, fix):
    model = ScriptedChatModel([say("Let me see."), scripted])
    agent = create_agent(model, tools=[send_email, delete_file])
    agent.invoke({"messages": [("user", "hi")]})

    with pytest.raises(ScenarioError) as excinfo:
        agent.invoke({"messages": [("user", "mail bob")]})

    assert str(excinfo.value) == (
        f"ScriptedChatModel turn 2: {problem}.\n"
        f"Scripted call: {scripted!r}\n"
        "Tools bound for this turn: send_email, delete_file\n"
        f"{fix}"
    )


def test_valid_calls_pass_the_check_including_optional_and_none_arguments():
    model = ScriptedChatModel(
        [
            [
                call("send_email", to="bob", body="hi", cc=None, urgent=True),
                call("delete_file", path="/a"),
            ],
            say("done"),
        ]
    )
    assert _run(model)["messages"][-1].content == "done"


def test_an_aimessage_turn_is_checked_too():
    bad = AIMessage(content="", tool_calls=[{"name": "rm", "args": {}, "id": "x1"}])
    with pytest.raises(ScenarioError) as excinfo:
        _run(FunctionChatModel(lambda messages, info: bad))
    assert str(excinfo.value) == _message(
        """
        FunctionChatModel turn 1: unknown tool 'rm'.
        Scripted call: call('rm').with_id('x1')
        Tools bound for this turn: send_email, delete_file
        Call one of the bound tools in the script, or give the tool to the agent.
        """
    )


def test_running_out_of_script_names_the_turn_the_last_messages_and_the_fix():
    model = ScriptedChatModel([call("send_email", to="bob", body="hi")])

    with pytest.raises(ScriptExhausted) as excinfo:
        _run(model)

    assert str(excinfo.value) == _message(
        """
        ScriptedChatModel ran out of script: the agent asked for turn 2 but the script has 1 turn.
        The model was sent 3 messages:
        - human: 'mail bob'
        - ai: call('send_email', to='bob', body='hi') [call_1]
        - tool send_email (call_1): 'sent to bob'
        Add a turn for this request (e.g. say('Done.')), or find out why the agent called the model again.
        """  # noqa: E501
    )
    assert isinstance(excinfo.value, AssertionError)
    assert isinstance(excinfo.value, HitlSimError)
    assert model.remaining == []
    assert model.requests[-1].response is None


def test_the_exhausted_message_shows_only_the_last_three_messages():
    model = ScriptedChatModel([])
    agent = create_agent(model, tools=[send_email], system_prompt="Be brief.")
    long = "x" * 130
    with pytest.raises(ScriptExhausted) as excinfo:
        agent.invoke({"messages": [("user", "one"), ("ai", "two"), ("user", long)]})
    assert str(excinfo.value) == _message(
        f"""
        ScriptedChatModel ran out of script: the agent asked for turn 1 but the script has 0 turns.
        The model was sent 4 messages; the last 3:
        - human: 'one'
        - ai: 'two'
        - human: '{"x" * 117}...'
        Add a turn for this request (e.g. say('Done.')), or find out why the agent called the model again.
        """  # noqa: E501
    )


def test_the_model_never_cycles_after_running_out():
    model = ScriptedChatModel([say("only once")])
    assert _run(model)["messages"][-1].content == "only once"
    with pytest.raises(ScriptExhausted):
        _run(model)
    with pytest.raises(ScriptExhausted):
        _run(model)


def test_an_agent_without_a_script_is_named_with_the_scripted_agents():
    model = ScriptedChatModel({"researcher": [say("x")], "writer": [say("y")]})
    with pytest.raises(ScriptExhausted) as excinfo:
        _run(model)
    assert str(excinfo.value) == _message(
        """
        ScriptedChatModel has no script for agent 'main' (scripted agents: 'researcher', 'writer').
        The model was sent 1 message:
        - human: 'mail bob'
        Add a script for it: ScriptedChatModel({..., 'main': [...]}).
        """
    )


def test_a_per_agent_script_running_out_names_the_agent():
    model = ScriptedChatModel({"main": [call("delete_file", path="/a")]})
    with pytest.raises(ScriptExhausted, match=r"^ScriptedChatModel ran out of script for agent "):
        _run(model)


def test_remaining_and_assert_consumed_report_unused_turns():
    model = ScriptedChatModel({"main": [say("a")], "researcher": [say("b"), call("ls", path="/")]})
    assert model.remaining == [say("a"), say("b"), call("ls", path="/")]
    assert model.remaining_by_agent == {
        "main": [say("a")],
        "researcher": [say("b"), call("ls", path="/")],
    }
    _run(model)
    assert model.remaining_by_agent["main"] == []

    with pytest.raises(UnusedScript) as excinfo:
        model.assert_consumed()
    assert str(excinfo.value) == _message(
        """
        ScriptedChatModel has 2 scripted turns the agent never asked for:
        - agent 'researcher' turn 1: say('b')
        - agent 'researcher' turn 2: call('ls', path='/')
        Remove them from the script, or find out why the agent stopped early.
        """
    )


def test_assert_consumed_passes_when_everything_was_used():
    model = ScriptedChatModel([say("hi")])
    _run(model)
    model.assert_consumed()


TURN_RULE = (
    "a turn must be an AIMessage, call(...), say(...), or a non-empty list of call(...) with "
    "at most one say(...).\n"
    "Wrap text in say('...') and tool calls in call('tool_name', arg=value)."
)


@pytest.mark.parametrize(
    ("turns", "where"),
    [
        (["hello"], "ScriptedChatModel turn 1 is 'hello'"),
        ([say("a"), []], "ScriptedChatModel turn 2 is []"),
        ([[say("a"), say("b")]], "ScriptedChatModel turn 1 is [say('a'), say('b')]"),
        ([[call("x"), "y"]], "ScriptedChatModel turn 1 is [call('x'), 'y']"),
        ({"researcher": [None]}, "ScriptedChatModel turn 1 of agent 'researcher' is None"),
    ],
)
def test_a_malformed_turn_is_rejected_when_the_model_is_built(turns, where):
    with pytest.raises(InvalidArgument) as excinfo:
        ScriptedChatModel(turns)
    assert str(excinfo.value) == f"{where}: {TURN_RULE}"


@pytest.mark.parametrize(
    ("turns", "where", "got"),
    [
        ("say hi", "", "'say hi'"),
        (say("hi"), "", "say('hi')"),
        ({"main": "say hi"}, " for agent 'main'", "'say hi'"),
    ],
)
def test_a_script_that_is_not_a_list_is_rejected(turns, where, got):
    with pytest.raises(InvalidArgument) as excinfo:
        ScriptedChatModel(turns)
    assert str(excinfo.value) == (
        f"ScriptedChatModel needs a list of turns{where}, got {got}.\n"
        "Pass e.g. [call('send_email', to='bob'), say('Done.')]."
    )


def test_a_function_model_returning_a_bad_turn_is_named():
    model = FunctionChatModel(lambda messages, info: "plain text")
    with pytest.raises(InvalidArgument) as excinfo:
        _run(model)
    assert str(excinfo.value) == f"FunctionChatModel turn 1 is 'plain text': {TURN_RULE}"


def test_function_model_needs_a_callable():
    with pytest.raises(InvalidArgument) as excinfo:
        FunctionChatModel([say("x")])  # type: ignore[arg-type]
    assert str(excinfo.value) == (
        "FunctionChatModel needs a function (messages, info) -> turn, got [say('x')]."
    )


@pytest.mark.parametrize(
    ("tool_choice", "scripted", "problem"),
    [
        ("any", say("No tools today."), "makes no tool call"),
        ("required", say("No."), "makes no tool call"),
        ("none", call("delete_file", path="/a"), "makes a tool call"),
        ("send_email", call("delete_file", path="/a"), "does not call only 'send_email'"),
        (
            {"type": "function", "function": {"name": "send_email"}},
            say("no"),
            "does not call only 'send_email'",
        ),
        (
            {"type": "tool", "name": "delete_file"},
            [call("delete_file", path="/a"), call("send_email", to="a", body="b")],
            "does not call only 'delete_file'",
        ),
    ],
)
def test_a_turn_that_disobeys_tool_choice_is_named(tool_choice, scripted, problem):
    model = ScriptedChatModel([scripted])
    with pytest.raises(ScenarioError) as excinfo:
        model.bind_tools([send_email, delete_file], tool_choice=tool_choice).invoke("hi")
    assert str(excinfo.value) == (
        f"ScriptedChatModel turn 1: the agent bound its tools with tool_choice={tool_choice!r}, "
        f"but the scripted turn {problem}: {scripted!r}.\n"
        "Tools bound for this turn: send_email, delete_file\n"
        "A real model obeys tool_choice; script a turn that does too."
    )


@pytest.mark.parametrize("tool_choice", ["auto", None, "any", {"type": "auto"}])
def test_a_turn_that_obeys_tool_choice_passes(tool_choice):
    model = ScriptedChatModel([call("delete_file", path="/a")])
    message = model.bind_tools([delete_file], tool_choice=tool_choice).invoke("hi")
    assert message.tool_calls[0]["name"] == "delete_file"


@pytest.mark.parametrize("name", ["", 3, None])
def test_call_needs_a_tool_name(name):
    with pytest.raises(InvalidArgument) as excinfo:
        call(name)
    assert str(excinfo.value) == f"call() needs a tool name (a non-empty str) first, got {name!r}."


def test_a_shared_script_running_out_names_the_agent_that_asked():
    model = ScriptedChatModel([])
    agent = create_agent(model, tools=[send_email], name="mailer")
    with pytest.raises(ScriptExhausted) as excinfo:
        agent.invoke({"messages": [("user", "hi")]})
    assert str(excinfo.value).splitlines()[0] == (
        "ScriptedChatModel ran out of script (asked by agent 'mailer'): the agent asked for turn 1 "
        "but the script has 0 turns."
    )


def test_say_needs_text():
    with pytest.raises(InvalidArgument) as excinfo:
        say(["not", "text"])  # type: ignore[arg-type]
    assert str(excinfo.value) == "say() needs the answer's text (a str), got ['not', 'text']."
