"""The app's own resume path, recorded by `AppTap` on a real agent."""

from __future__ import annotations

import threading

import pytest
from langgraph.types import Command

from hitl_sim import CheckFailed, ThreadError, call, say
from hitl_sim.catalog.apps.agents import DELETED, file_agent
from hitl_sim.catalog.apps.chat_app import ChatApp, SeedChatApp
from hitl_sim.errors import InvalidArgument
from hitl_sim.frontends.tap import AppTap


@pytest.fixture(autouse=True)
def _clean():
    DELETED.clear()


def _agent():
    return file_agent([call("delete_file", path="/srv/a"), say("Deleted /srv/a.")])


def test_a_chat_reply_that_resumes_passes_every_check():
    with AppTap(_agent()) as tap:
        app = ChatApp(tap)
        assert (
            app.send("t1", "clean up")
            == "Allow delete_file({'path': '/srv/a'})? Answer yes, or no and why."
        )
        assert app.send("t1", "yes") == "Deleted /srv/a."
    tap.check()
    run = tap.run("t1")
    assert run.status == "finished"
    assert run.executed_names == ["delete_file"]
    assert [s.kind for s in tap.sent] == ["input", "resume"]
    assert [d.payload for d in run.decisions] == [{"type": "approve"}]
    assert run.steps[0].at.isoformat() == "2030-01-01T09:00:00+00:00"
    assert DELETED == ["/srv/a"]


def test_a_reject_typed_in_the_chat_box_reaches_the_model():
    agent = file_agent([call("delete_file", path="/srv/a"), say("Kept it.")])
    with AppTap(agent) as tap:
        app = ChatApp(tap)
        app.send("t1", "clean up")
        app.send("t1", "no, we need a backup")
    tap.check()
    assert DELETED == []


def test_the_seeds_reply_as_new_input_is_caught():
    agent = file_agent([call("delete_file", path="/srv/a"), say("Done.")])
    with AppTap(agent) as tap:
        app = SeedChatApp(tap)
        app.send("t1", "clean up")
        app.send("t1", "yes")
    with pytest.raises(CheckFailed) as failed:
        tap.check()
    checks = [v.check for v in failed.value.violations]
    assert checks[0] == "input_while_pending"
    assert "while interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model') waited" in (
        failed.value.violations[0].message
    )
    assert failed.value.violations[0].evidence == (
        "sent: {'messages': [('user', 'yes')]}",
        "pending interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model'): "
        "delete_file(path='/srv/a')",
    )
    assert DELETED == []


def test_a_resume_of_an_unknown_thread_is_caught():
    with AppTap(_agent()) as tap:
        tap.invoke(
            Command(resume={"decisions": [{"type": "approve"}]}),
            {"configurable": {"thread_id": "nope"}},
        )
    (found, *_) = tap.violations()
    assert found.check == "resume_nothing_pending"
    assert found.message.startswith("The app resumed thread 'nope', which has no checkpoints")


def test_a_repeated_decision_is_caught():
    config = {"configurable": {"thread_id": "t1"}}
    approve = Command(resume={"decisions": [{"type": "approve"}]})
    with AppTap(_agent()) as tap:
        tap.invoke({"messages": [("user", "clean up")]}, config)
        tap.invoke(approve, config)
        tap.invoke(approve, config)
    assert [v.check for v in tap.violations()] == ["resume_nothing_pending"]
    assert "which has nothing pending" in tap.violations()[0].message
    assert DELETED == ["/srv/a"]


def test_a_resume_in_the_wrong_shape_is_caught():
    config = {"configurable": {"thread_id": "t1"}}
    with AppTap(_agent()) as tap:
        tap.invoke({"messages": [("user", "clean up")]}, config)
        with pytest.raises(KeyError, match="decisions"):  # the middleware refuses it too
            tap.invoke(Command(resume={"approved": True, "feedback": ""}), config)
    found = tap.violations()[0]
    assert found.check == "resume_wrong_shape"
    assert found.message == (
        "The app resumed thread 't1' with a value the middleware cannot take: interrupt #1 "
        "(batched, node 'HumanInTheLoopMiddleware.after_model') takes {'decisions': [...]} (one "
        "per action request); the app sent {'approved': True, 'feedback': ''}."
    )
    assert tap.run("t1").status == "failed"


def test_concurrent_resumes_of_one_thread_are_caught():
    release = threading.Event()
    started = threading.Event()
    from langchain_core.tools import tool

    from hitl_sim.catalog.apps import agents

    @tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        started.set()
        release.wait(10)
        agents.DELETED.append(path)
        return f"deleted {path}"

    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware
    from langgraph.checkpoint.memory import InMemorySaver

    from hitl_sim import ScriptedChatModel

    agent = create_agent(
        ScriptedChatModel([call("delete_file", path="/srv/a"), say("Deleted."), say("Deleted.")]),
        tools=[delete_file],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"delete_file": True})],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "t1"}}
    approve = Command(resume={"decisions": [{"type": "approve"}]})
    with AppTap(agent) as tap:
        tap.invoke({"messages": [("user", "clean up")]}, config)
        first = threading.Thread(target=tap.invoke, args=(approve, config))
        first.start()
        assert started.wait(10)
        second = threading.Thread(target=tap.invoke, args=(approve, config))
        second.start()
        second.join(0.5)
        release.set()
        first.join(10)
        second.join(10)
    assert "concurrent_resumes" in [v.check for v in tap.violations()]


def test_expecting_names_the_thread_resumed_instead():
    agent = file_agent(
        [call("delete_file", path="/srv/a"), call("delete_file", path="/srv/a"), say("Deleted.")]
    )
    with AppTap(agent) as tap:
        app = ChatApp(tap)
        app.send("t1", "clean up")
        app.send("t2", "clean up")
        with tap.expecting("t1"):
            app.send("t2", "yes")
        with tap.expecting("t1"):
            pass
    found = [
        v for v in tap.violations() if v.check in ("resumed_other_thread", "decision_not_applied")
    ]
    assert [v.message for v in found] == [
        "A decision for thread 't1' resumed thread(s) 't2' instead.",
        "The app took a decision for thread 't1' but never resumed it.",
    ]


def test_asking_for_a_thread_the_app_never_used_is_an_error():
    with AppTap(_agent()) as tap, pytest.raises(ThreadError, match=r"no graph call on thread 'x'"):
        tap.run("x")


def test_an_async_app_is_recorded_too():
    import asyncio

    config = {"configurable": {"thread_id": "t1"}}

    async def app(graph):
        await graph.ainvoke({"messages": [("user", "clean up")]}, config)
        state = await graph.aget_state(config)
        assert state.next
        await graph.ainvoke(Command(resume={"decisions": [{"type": "approve"}]}), config)

    with AppTap(_agent()) as tap:
        asyncio.run(app(tap))
    tap.check()
    assert tap.run("t1").executed_names == ["delete_file"]


def test_calls_the_tap_cannot_record_fail_closed():
    with (
        AppTap(_agent()) as tap,
        pytest.raises(InvalidArgument, match=r"called stream\(\) on the AppTap"),
    ):
        tap.stream({"messages": [("user", "x")]}, {"configurable": {"thread_id": "t1"}})


def test_a_graph_without_a_checkpointer_is_refused():
    from langchain.agents import create_agent

    from hitl_sim import ScriptedChatModel

    with pytest.raises(ThreadError, match="without a checkpointer"):
        AppTap(create_agent(ScriptedChatModel([say("hi")]), tools=[]))


def test_secrets_the_app_sent_are_masked_in_every_finding():
    agent = file_agent(
        [call("send_email", to="ops@example.com", body="hi", api_key="sk-live-123456"), say("ok")]
    )
    config = {"configurable": {"thread_id": "t1"}}
    with AppTap(agent) as tap:
        tap.invoke({"messages": [("user", "mail ops")]}, config)
        tap.invoke({"messages": [("user", "my token=tok-998877 go")]}, config)
    with pytest.raises(CheckFailed) as failed:
        tap.check()
    text = str(failed.value)
    assert "input_while_pending" in text
    assert "sk-live-123456" not in text and "tok-998877" not in text
    assert "api_key='***'" in text and "token=***" in text
    assert tap.sent[1].value == {"messages": [("user", "my token=*** go")]}


def test_the_clock_moves_only_when_told():
    from datetime import timedelta

    with AppTap(_agent()) as tap:
        app = ChatApp(tap)
        app.send("t1", "clean up")
        tap.advance(timedelta(hours=2))
        app.send("t1", "yes")
    run = tap.run("t1")
    assert [
        (s.kind, s.at.isoformat()) for s in run.steps if s.kind in ("interrupt", "decision")
    ] == [
        ("interrupt", "2030-01-01T09:00:00+00:00"),
        ("decision", "2030-01-01T11:00:00+00:00"),
    ]


def test_per_call_reviews_answered_by_interrupt_id():
    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware
    from langgraph.checkpoint.memory import InMemorySaver

    from hitl_sim import ScriptedChatModel
    from hitl_sim.catalog.apps.agents import delete_file, send_email

    agent = create_agent(
        ScriptedChatModel(
            [
                [call("delete_file", path="/srv/a"), call("send_email", to="a@b.c", body="x")],
                say("ok"),
            ]
        ),
        tools=[delete_file, send_email],
        middleware=[
            HumanInTheLoopMiddleware(
                interrupt_on={"delete_file": True, "send_email": True}, interrupt_mode="per_call"
            )
        ],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "t1"}}
    with AppTap(agent) as tap:
        result = tap.invoke({"messages": [("user", "go")]}, config)
        answers = {}
        for interrupt in result["__interrupt__"]:
            approved = interrupt.value["name"] == "send_email"
            answers[interrupt.id] = {"type": "approve"} if approved else {"type": "reject"}
        tap.invoke(Command(resume=answers), config)
        while tap.get_state(config).next:  # per_call mode may ask again for what is left
            pending = [i for t in tap.get_state(config).tasks for i in t.interrupts]
            tap.invoke(Command(resume={i.id: {"type": "reject"} for i in pending}), config)
    tap.check()
    run = tap.run("t1")
    assert {i.kind for i in run.interrupts} == {"per_call"}
    assert run.executed_names == ["send_email"]
    assert DELETED == []
