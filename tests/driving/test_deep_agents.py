"""Deep agents, async and stream modes, and the gates read from the agents themselves."""

from __future__ import annotations

import asyncio

from deepagents import create_deep_agent
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

from hitl_sim import (
    Reviewer,
    ScriptedChatModel,
    answer,
    approve,
    arecover,
    asimulate,
    call,
    edit,
    reject,
    say,
    simulate,
    unchecked,
)
from hitl_sim.checking.checks import violations
from hitl_sim.driving import gates_of
from hitl_sim.driving.gates import agents_of
from tests.agents import delete_file, send_email
from tests.driving.test_simulate import agent, three_calls

CLEANER = {
    "name": "cleaner",
    "description": "Deletes files.",
    "system_prompt": "Clean.",
    "tools": [delete_file],
    "interrupt_on": {"delete_file": {"allowed_decisions": ["approve", "reject"]}},
}


def deep_agent():
    model = ScriptedChatModel(
        {
            "main": [
                call("task", description="Clean /tmp", subagent_type="cleaner"),
                say("Cleaned."),
            ],
            "cleaner": [call("delete_file", path="/tmp/x"), say("Deleted /tmp/x.")],
        }
    )
    return create_deep_agent(
        model=model,
        tools=[send_email, delete_file],
        interrupt_on={"send_email": True},
        subagents=[CLEANER],
        checkpointer=InMemorySaver(),
    )


def test_a_subagents_interrupt_is_answered_at_the_parent_and_attributed():
    run = simulate(deep_agent(), "Clean up", Reviewer([approve()]))

    assert run.status == "finished"
    [pause] = run.interrupts
    assert (pause.kind, pause.node, pause.agent) == ("batched", "tools", "cleaner")
    assert pause.actions[0].allowed == ("approve", "reject")
    assert [(e.name, e.agent, e.resume) for e in run.executed] == [
        ("task", None, 1),
        ("delete_file", "cleaner", 1),
    ]
    assert run.executed[0].result == "Deleted /tmp/x."
    assert [(r.agent, r.resume) for r in run.model_requests] == [
        (None, 0),
        ("cleaner", 0),
        ("cleaner", 1),
        (None, 1),
    ]
    assert "interrupt #1 (batched, node 'tools') [cleaner]:" in str(run)


def test_stream_mode_records_the_subagents_namespace():
    run = simulate(deep_agent(), "Clean up", Reviewer([reject("not now")]), mode="stream")

    assert run.executed_names == ["task"]
    interrupts = [e for e in run.stream_events if "__interrupt__" in e.data]
    assert [(e.namespace[:1] != (), e.resume) for e in interrupts] == [(True, 0), (False, 0)]
    assert interrupts[0].namespace[0].startswith("tools:")
    assert {e.mode for e in run.stream_events} == {"updates"}
    assert max(e.resume for e in run.stream_events) == 1


def test_gates_come_from_every_agents_own_middleware():
    graph = deep_agent()

    assert [(a.agent, a.mode, dict(a.gates)) for a in agents_of(graph)] == [
        (None, "batched", {"send_email": ("approve", "edit", "reject", "respond")}),
        ("general-purpose", "batched", {"send_email": ("approve", "edit", "reject", "respond")}),
        ("cleaner", "batched", {"delete_file": ("approve", "reject")}),
    ]
    assert gates_of(graph) == {
        "send_email": ("approve", "edit", "reject", "respond"),
        "delete_file": ("approve", "reject"),
    }
    assert [a.mode for a in agents_of(three_calls("per_call"))] == ["per_call"]


def test_declared_gates_are_merged_with_the_agents_own():
    graph = agent([say("hi")], interrupt_on={"send_email": {"allowed_decisions": ["approve"]}})

    run = simulate(graph, "go", gated={"send_email": ["reject"], "read_file": True})

    assert run.gated == {
        "send_email": ("approve", "reject"),
        "read_file": ("approve", "edit", "reject", "respond"),
    }
    assert run.declared_gates == {
        "send_email": ("reject",),
        "read_file": ("approve", "edit", "reject", "respond"),
    }
    plain = agent([say("hi")], interrupt_on={"send_email": True})
    assert simulate(plain, "go", gated={"delete_file"}).gated["delete_file"] == (
        "approve",
        "edit",
        "reject",
        "respond",
    )


def test_asimulate_behaves_like_simulate():
    run = asyncio.run(
        asimulate(three_calls("per_call"), "go", Reviewer([edit(to="alice"), reject("keep")]))
    )

    assert run.status == "finished"
    assert [(e.name, dict(e.args), e.resume) for e in run.executed] == [
        ("read_file", {"path": "/r"}, 0),
        ("send_email", {"to": "alice", "body": "hi"}, 1),
    ]
    assert [s.kind for s in run.steps].count("interrupt") == 2


def test_asimulate_streams_a_deep_agent():
    run = asyncio.run(asimulate(deep_agent(), "Clean up", Reviewer([approve()]), mode="stream"))

    assert run.executed_names == ["task", "delete_file"]
    assert run.interrupts[0].agent == "cleaner"
    assert run.stream_events


def test_arecover_continues_a_poisoned_run_with_the_async_api():
    graph = three_calls()

    async def scenario():
        run = await asimulate(graph, "go", Reviewer([unchecked({"type": "maybe"}), approve()]))
        assert run.error.poisoned
        return await arecover(run, graph, Reviewer([approve(), reject("keep")]))

    run = asyncio.run(scenario())

    assert run.status == "finished"
    assert sorted(run.executed_names) == ["read_file", "send_email"]


@tool
def announce(text: str) -> str:
    """Announce something, reporting progress on the custom stream."""
    from langgraph.config import get_stream_writer

    get_stream_writer()({"progress": f"announcing {text}"})
    return "announced"


def test_stream_mode_keeps_custom_events_with_their_resume():
    graph = create_agent(
        ScriptedChatModel([call("announce", text="hi"), say("done")]),
        tools=[announce],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"announce": True})],
        checkpointer=InMemorySaver(),
    )

    run = simulate(graph, "go", Reviewer([approve()]), mode="stream")

    custom = [(e.namespace, e.data, e.resume) for e in run.stream_events if e.mode == "custom"]
    assert custom == [((), {"progress": "announcing hi"}, 1)]


def ship_gate(state: MessagesState) -> MessagesState:
    reply = interrupt({"question": "Ship it?"})
    return {"messages": [AIMessage(f"shipper says {reply}")]}


def test_a_raw_interrupt_in_a_compiled_subagent_is_attributed_to_it():
    shipper_graph = StateGraph(MessagesState)
    shipper_graph.add_node("gate", ship_gate)
    shipper_graph.add_edge(START, "gate")
    shipper_graph.add_edge("gate", END)
    shipper = {"name": "shipper", "description": "Ships.", "runnable": shipper_graph.compile()}
    model = ScriptedChatModel(
        {"main": [call("task", description="ship", subagent_type="shipper"), say("Shipped.")]}
    )
    graph = create_deep_agent(model=model, subagents=[shipper], checkpointer=InMemorySaver())

    run = simulate(graph, "ship", Reviewer([answer("yes")]))

    [pause] = run.interrupts
    assert (pause.kind, pause.node, pause.agent, pause.value) == (
        "raw",
        "tools",
        "shipper",
        {"question": "Ship it?"},
    )
    assert [(e.name, e.result) for e in run.executed] == [("task", "shipper says yes")]


def test_parallel_subagents_are_recorded_branch_by_branch():
    def build():
        model = ScriptedChatModel(
            {
                "main": [
                    [
                        call("task", description="Clean", subagent_type="cleaner"),
                        call("task", description="Mail", subagent_type="mailer"),
                    ],
                    say("Both done."),
                ],
                "cleaner": [call("delete_file", path="/tmp/x"), say("Deleted.")],
                "mailer": [call("send_email", to="bob", body="hi"), say("Mailed.")],
            }
        )
        mailer = {"name": "mailer", "description": "Mails.", "system_prompt": "Mail."}
        return create_deep_agent(
            model=model,
            tools=[send_email, delete_file],
            interrupt_on={"send_email": True},
            subagents=[{**CLEANER, "interrupt_on": {"delete_file": True}}, mailer],
            checkpointer=InMemorySaver(),
        )

    reviewer = {"delete_file": approve(), "send_email": reject("no")}
    timelines = {str(simulate(build(), "go", Reviewer.by_tool(reviewer))) for _ in range(3)}

    [timeline] = timelines
    assert timeline.splitlines()[-8:] == [
        "    +0s r1 resume 1 (#1, #2): Command(resume={#1: {'decisions': [approve]}, "
        "#2: {'decisions': [reject]}})",
        "    +0s r1 tool task(description='Clean', subagent_type='cleaner') -> Deleted.",
        "    +0s r1 tool delete_file(path='/tmp/x') [cleaner] -> deleted /tmp/x",
        "    +0s r1 model turn 2 [cleaner]: says Deleted.",
        "    +0s r1 tool task(description='Mail', subagent_type='mailer') -> Mailed.",
        "    +0s r1 model turn 2 [mailer]: says Mailed.",
        "    +0s r1 model turn 2: says Both done.",
        "    +0s r1 finish: finished",
    ]


def name_clash(main_name: str):
    """A deep agent whose broken middleware reviews only the first call of a turn, with a
    subagent that gates another tool: named `main_name`, the subagent is 'cleaner'."""
    from hitl_sim.catalog.broken_agents import ReviewsOnlyFirstCall

    model = ScriptedChatModel(
        [[call("delete_file", path="/tmp/a"), call("delete_file", path="/etc/passwd")], say("ok")]
    )
    cleaner = {
        "name": "cleaner",
        "description": "Cleans.",
        "system_prompt": "Clean.",
        "interrupt_on": {"send_email": True},
    }
    return create_deep_agent(
        model=model,
        name=main_name,
        tools=[delete_file, send_email],
        middleware=[ReviewsOnlyFirstCall(interrupt_on={"delete_file": True})],
        subagents=[cleaner],
        checkpointer=InMemorySaver(),
    )


def test_a_main_agent_named_like_its_subagent_is_judged_by_both_agents_gates():
    for main_name in ("boss", "cleaner"):  # the correct naming, and the clash
        run = simulate(name_clash(main_name), "clean", [approve()])
        assert run.executed_names == ["delete_file", "delete_file"], main_name
        assert [v.check for v in violations(run)] == ["unapproved_call"], main_name


def test_agents_with_models_of_their_own_reuse_call_ids_without_being_confused():
    from deepagents import CompiledSubAgent

    from hitl_sim.catalog.broken_agents import ReviewsOnlyFirstCall

    main = ScriptedChatModel(
        [call("task", description="clean", subagent_type="cleaner"), say("ok")]
    )
    own = ScriptedChatModel(
        [[call("delete_file", path="/etc/a"), call("delete_file", path="/etc/b")], say("done")]
    )  # numbers its calls call_1, call_2 too
    cleaner = create_agent(
        own,
        tools=[delete_file],
        middleware=[ReviewsOnlyFirstCall(interrupt_on={"delete_file": True})],
    )
    subagent = CompiledSubAgent(name="cleaner", description="Cleans.", runnable=cleaner)
    graph = create_deep_agent(model=main, subagents=[subagent], checkpointer=InMemorySaver())

    run = simulate(graph, "clean", [approve()])

    assert [(e.name, e.call_id) for e in run.executed] == [
        ("task", "call_1"),
        ("delete_file", "call_1"),
        ("delete_file", "call_2"),
    ]
    [unreviewed] = violations(run)  # /etc/b; not `task` "on the approval of" delete_file
    assert unreviewed.check == "unapproved_call"
    assert "delete_file(path='/etc/b')" in unreviewed.evidence[0]
