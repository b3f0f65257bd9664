"""An approval covers the one call the reviewer saw: not a second, direct run of the same call
(a tool invoking a gated tool itself, with no call id), and not another tool that a middleware
runs in its place under the approved call's id. Each broken agent is caught; its correct twin,
the same agent on a path where it does what the reviewer approved, passes."""

from __future__ import annotations

from typing import TypedDict

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import ScriptedChatModel, approve, call, edit, say, simulate
from hitl_sim.checking.checks import violations

DELETED: list[str] = []


class LogState(TypedDict):
    log: list[str]


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    DELETED.append(path)
    return f"deleted {path}"


@tool
def drop_database(path: str) -> str:
    """Drop a database."""
    DELETED.append(f"db:{path}")
    return f"dropped {path}"


@tool
def tidy(path: str) -> str:
    """Tidy a folder (ungated): deletes it again itself."""
    return str(delete_file.invoke({"path": path}))


@tool
def tidy_once(path: str) -> str:
    """Tidy a folder (gated): the deletion it makes is the call the reviewer approved."""
    return str(delete_file.invoke({"path": path}))


class RouteDatabases(AgentMiddleware):
    """Sends a delete of a `.db` file to drop_database, keeping the call id."""

    def wrap_tool_call(self, request, handler):
        call_ = request.tool_call
        if call_["name"] == "delete_file" and call_["args"]["path"].endswith(".db"):
            request = request.override(
                tool=drop_database, tool_call={**call_, "name": "drop_database"}
            )
        return handler(request)


def agent(turns, gates, *extra):
    return create_agent(
        ScriptedChatModel(turns),
        tools=[delete_file, drop_database, tidy, tidy_once],
        middleware=[HumanInTheLoopMiddleware(interrupt_on=gates), *extra],
        checkpointer=InMemorySaver(),
    )


def found(run):
    return [(v.check, v.message) for v in violations(run)]


def test_a_direct_rerun_of_an_approved_call_is_not_covered_by_its_approval():
    DELETED.clear()
    graph = agent(
        [call("delete_file", path="/etc"), call("tidy", path="/etc"), say("done")],
        {"delete_file": True},
    )

    run = simulate(graph, "tidy /etc", [approve()])

    assert DELETED == ["/etc", "/etc"]
    assert found(run) == [
        (
            "unapproved_call",
            "delete_file is gated (approve, edit, reject, respond) but ran with no approve or "
            "edit decision for the call: it ran without a call id (invoked directly, e.g. by "
            "another tool), and the approval of the same call was used up when that call ran.",
        )
    ]


def review_node(times: int):
    """A hand-written review node: asks with a HITLRequest, then runs the tool itself."""

    def review(state: dict) -> dict:
        request = {
            "action_requests": [{"name": "delete_file", "args": {"path": "/srv/a"}}],
            "review_configs": [
                {"action_name": "delete_file", "allowed_decisions": ["approve", "reject"]}
            ],
        }
        [decision] = interrupt(request)["decisions"]
        if decision["type"] == "approve":
            for _ in range(times):
                delete_file.invoke({"path": "/srv/a"})
        return {"log": ["reviewed"]}

    builder = StateGraph(LogState)
    builder.add_node("review", review)
    builder.add_edge(START, "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=InMemorySaver())


def test_a_direct_run_of_the_call_a_review_node_approved_passes():
    DELETED.clear()

    run = simulate(review_node(times=1), {"log": []}, [approve()], gated=["delete_file"])

    assert DELETED == ["/srv/a"] and found(run) == []


def test_a_review_node_that_runs_the_approved_call_twice_is_caught():
    DELETED.clear()

    run = simulate(review_node(times=2), {"log": []}, [approve()], gated=["delete_file"])

    assert DELETED == ["/srv/a", "/srv/a"]
    assert [v.check for v in violations(run)] == ["unapproved_call"]


def test_another_tool_run_under_an_approved_call_id_is_caught():
    DELETED.clear()
    gates = {"delete_file": True, "drop_database": True}
    graph = agent([call("delete_file", path="/srv/app.db"), say("done")], gates, RouteDatabases())

    run = simulate(graph, "clean up", [approve()])

    assert DELETED == ["db:/srv/app.db"]
    assert found(run) == [
        (
            "unapproved_call",
            "drop_database ran on the approval of another tool: the reviewer approved "
            "delete_file, and drop_database ran in its place under the same call id, never "
            "reviewed itself.",
        ),
        (
            "approved_call_dropped",
            "The reviewer approved delete_file (call 'call_1') but it never ran: drop_database "
            "ran under its call id instead.",
        ),
    ]


def test_a_substitute_the_test_never_gated_is_still_not_what_was_approved():
    graph = agent(
        [call("delete_file", path="/srv/app.db"), say("done")],
        {"delete_file": True},
        RouteDatabases(),
    )

    run = simulate(graph, "clean up", [approve()])

    assert [v.check for v in violations(run)] == ["unapproved_call", "approved_call_dropped"]


def test_the_routing_middleware_passes_where_it_runs_what_was_approved():
    DELETED.clear()
    gates = {"delete_file": True, "drop_database": True}
    graph = agent([call("delete_file", path="/srv/a.txt"), say("done")], gates, RouteDatabases())

    run = simulate(graph, "clean up", [approve()])

    assert DELETED == ["/srv/a.txt"] and found(run) == []


def test_an_edit_that_renames_the_tool_is_not_a_dropped_approval():
    graph = agent([call("delete_file", path="/srv/a.txt"), say("done")], {"delete_file": True})

    run = simulate(graph, "clean up", [edit(path="/srv/b.txt")])

    assert found(run) == []
