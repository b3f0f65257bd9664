"""Real runs of every interrupt kind, made with `simulate` on real graphs, for the report tests;
and real scenario results (one passing, one failing on a broken agent, one hostile)."""

from __future__ import annotations

import operator
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import Reviewer, ScriptedChatModel, answer, approve, call, edit, reject, say, simulate
from hitl_sim.catalog.broken_agents import executes_rejected_calls
from hitl_sim.run import Run
from hitl_sim.scenarios import run_scenario
from tests.agents import delete_file, send_email

HOSTILE = "</script><img src=x onerror=alert(1)>"
"""A tool argument that would run as code if a report pasted it into HTML unescaped."""


def _two_calls(mode: str) -> object:
    model = ScriptedChatModel(
        [
            [
                call("send_email", to="ops@example.com", body="done"),
                call("delete_file", path="/srv/a"),
            ],
            say("Emailed the team; kept /srv/a."),
        ]
    )
    gates = {"send_email": True, "delete_file": True}
    return create_agent(
        model,
        tools=[send_email, delete_file],
        middleware=[HumanInTheLoopMiddleware(interrupt_on=gates, interrupt_mode=mode)],
        checkpointer=InMemorySaver(),
    )


def _reviewer() -> Reviewer:
    return Reviewer(
        [
            edit(to="team@example.com", by="ann", after=timedelta(hours=2)),
            reject("Keep it, we need a backup first", by="bob"),
        ]
    )


def batched_run() -> Run:
    return simulate(_two_calls("batched"), "Email ops and delete /srv/a", _reviewer())


def per_call_run() -> Run:
    return simulate(_two_calls("per_call"), "Email ops and delete /srv/a", _reviewer())


class _State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _ask(state: _State) -> _State:
    reply = interrupt({"question": "Deploy to prod?", "risk": "high"})
    return {"log": [f"deploy approved by {reply['approver_id']}"]}


def _first(state: _State) -> _State:
    return {"log": ["first"]}


def _second(state: _State) -> _State:
    return {"log": ["second"]}


def _graph(*nodes: object, **options: object) -> object:
    builder = StateGraph(_State)
    names = [node.__name__ for node in nodes]  # type: ignore[attr-defined]
    for name, node in zip(names, nodes, strict=True):
        builder.add_node(name, node)  # type: ignore[call-overload]
    for edge in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(*edge)
    return builder.compile(checkpointer=InMemorySaver(), **options)  # type: ignore[arg-type]


def raw_run() -> Run:
    reply = answer({"approved": True, "approver_id": "vp-7"}, by="vp-7", after=300)
    return simulate(_graph(_ask), {"log": []}, Reviewer([reply]))


def breakpoint_run() -> Run:
    graph = _graph(_first, _second, interrupt_before=["_second"])
    return simulate(graph, {"log": []}, Reviewer([approve(by="ops")]))


def subagent_run() -> Run:
    """A deep agent whose `cleaner` subagent gates its own delete_file."""
    from deepagents import create_deep_agent

    cleaner = {
        "name": "cleaner",
        "description": "Deletes files.",
        "system_prompt": "Clean.",
        "tools": [delete_file],
        "interrupt_on": {"delete_file": {"allowed_decisions": ["approve", "reject"]}},
    }
    model = ScriptedChatModel(
        {
            "main": [
                call("task", description="Clean /tmp", subagent_type="cleaner"),
                say("Cleaned."),
            ],
            "cleaner": [call("delete_file", path="/tmp/x"), say("Deleted /tmp/x.")],
        }
    )
    agent = create_deep_agent(
        model=model,
        tools=[send_email, delete_file],
        interrupt_on={"send_email": True},
        subagents=[cleaner],
        checkpointer=InMemorySaver(),
    )
    return simulate(agent, "Clean up", Reviewer([approve(by="ann")]))


def broken_run() -> Run:
    """A fork of the middleware that runs rejected calls: `rejected_call_ran` is violated."""
    model = ScriptedChatModel([call("delete_file", path="/srv/db"), say("Kept it.")])
    agent = executes_rejected_calls(model, [delete_file], InMemorySaver(), {"delete_file": True})
    return simulate(agent, "Tidy up", Reviewer([reject("keep the database", by="ann")]))


@tool
def shell(command: str) -> str:
    """Run a shell command."""
    return f"ran {command}"


def hostile_run() -> Run:
    model = ScriptedChatModel([call("shell", command=HOSTILE), say(f"Done: {HOSTILE}")])
    agent = create_agent(
        model,
        tools=[shell],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"shell": True})],
        checkpointer=InMemorySaver(),
    )
    return simulate(agent, HOSTILE, Reviewer([approve(by=HOSTILE)]))


BROKEN_SCENARIO = """\
description: >
  A fork of the approval middleware that runs rejected calls; the test expects the delete
  never to run, and it does.
tags: [broken, demo]
agent:
  kind: factory
  factory: hitl_sim.catalog.broken_agents:executes_rejected_calls
  options:
    interrupt_on: {delete_file: {allowed_decisions: [approve, reject]}}
  tools:
    delete_file:
      args: {path: str}
      returns: "deleted {path}"
model:
  - call: {delete_file: {path: /srv/db}}
  - say: Kept it.
reviewer:
  - reject: keep the database
    by: ann
    after: 2h
expect:
  status: finished
  not_executed: [delete_file]
"""

PASSING_SCENARIO = """\
description: The reviewer approves one email; it is sent.
tags: [smoke]
agent:
  kind: create_agent
  tools:
    send_email:
      args: {to: str, body: str}
      returns: "sent to {to}"
  interrupt_on: {send_email: true}
model:
  - call: {send_email: {to: ops@example.com, body: hi}}
  - say: Sent.
reviewer:
  - approve: {}
    by: ann
expect:
  status: finished
  executed: [send_email]
"""


def scenario_result(folder: Path, name: str, text: str) -> Any:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return run_scenario(path)
