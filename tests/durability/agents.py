"""Agents for the durability tests, importable by `module:function` from another process.

Every factory takes the checkpointer first (as `simulate_with_restarts` calls it) and a
`ledger` path: the tools append what they do to that file, so side effects are counted across
processes. The model is a `FunctionChatModel` that answers from the conversation, not from a
counter, so a graph rebuilt in a new process continues the script where the thread is.
"""

from __future__ import annotations

import operator
import time
from typing import Annotated, Any, TypedDict

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import FunctionChatModel, call, say
from hitl_sim.durability.ledger import Ledger
from hitl_sim.models.chat import TurnInfo


def _turns_so_far(messages: list[BaseMessage]) -> int:
    return sum(isinstance(message, AIMessage) for message in messages)


def cleanup_script(messages: list[BaseMessage], info: TurnInfo) -> Any:
    """Delete a file (and look something up, ungated), then email ops, then finish."""
    turn = _turns_so_far(messages) + 1
    if turn == 1:
        return [
            call("delete_file", path="/srv/a").with_id("t1_delete"),
            call("lookup", key="owner").with_id("t1_lookup"),
        ]
    if turn == 2:
        return call("send_email", to="ops@example.com", body="deleted /srv/a").with_id("t2_email")
    return say("Done.")


def build_cleanup_agent(
    checkpointer: Any, *, ledger: str, interrupt_mode: str = "batched", name: str = "cleanup"
) -> Any:
    """Two reviews in a row: delete_file (with an ungated lookup beside it), then send_email."""
    log = Ledger(ledger)

    @tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        log.record("delete_file", path=path)
        return f"deleted {path}"

    @tool
    def lookup(key: str) -> str:
        """Look a value up."""
        log.record("lookup", key=key)
        return f"{key}=alice"

    @tool
    def send_email(to: str, body: str) -> str:
        """Send an email."""
        log.record("send_email", to=to, body=body)
        return f"sent to {to}"

    return create_agent(
        FunctionChatModel(cleanup_script),
        tools=[delete_file, lookup, send_email],
        middleware=[
            HumanInTheLoopMiddleware(
                interrupt_on={"delete_file": True, "send_email": True},
                interrupt_mode=interrupt_mode,  # type: ignore[arg-type]
            )
        ],
        checkpointer=checkpointer,
        name=name,
    )


def archive_script(messages: list[BaseMessage], info: TurnInfo) -> Any:
    if _turns_so_far(messages) == 0:
        return call("archive", path="/srv/db").with_id("t1_archive")
    return say("Archived.")


def build_slow_archive_agent(checkpointer: Any, *, ledger: str, seconds: float = 60.0) -> Any:
    """One gated tool that records its start, then takes `seconds` (killed mid-way in the crash
    test), then records its end."""
    log = Ledger(ledger)

    @tool
    def archive(path: str) -> str:
        """Archive a directory (slowly)."""
        log.record("archive:start", path=path)
        time.sleep(seconds)
        log.record("archive:end", path=path)
        return f"archived {path}"

    return create_agent(
        FunctionChatModel(archive_script),
        tools=[archive],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"archive": True})],
        checkpointer=checkpointer,
    )


def build_forgetful_agent(checkpointer: Any, *, ledger: str) -> Any:
    """Ignores the checkpointer it is given: every process gets an empty InMemorySaver."""
    from langgraph.checkpoint.memory import InMemorySaver

    return build_cleanup_agent(InMemorySaver(), ledger=ledger)


def review_chain_script(messages: list[BaseMessage], info: TurnInfo) -> Any:
    """Two reviews in a row: delete_file (with an ungated lookup beside it), then send_email."""
    turn = _turns_so_far(messages) + 1
    if turn == 1:
        return [
            call("delete_file", path="/srv/a").with_id("t1_delete"),
            call("lookup", key="owner").with_id("t1_lookup"),
        ]
    if turn == 2:
        return call("send_email", to="ops@example.com", body="deleted").with_id("t2_email")
    return say("Done.")


def build_review_chain_agent(
    checkpointer: Any,
    *,
    ledger: str,
    seconds: float = 0.05,
    idempotent: bool = False,
    linger: float = 0.0,
    model_seconds: float = 0.0,
) -> Any:
    """The kill-trial agent: each tool records `name:start` (with its tool_call_id), works for
    `seconds`, does its effect (the ledger entry `name`, keyed by the tool_call_id), then
    lingers for `linger` before returning its result. With `idempotent=True` the effect goes
    through `Ledger.record_once(tool_call_id, ...)`, as an external system honouring an
    idempotency key would: a re-run after a kill does it once. The model's second turn records
    `model:turn2` and takes `model_seconds`."""
    log = Ledger(ledger)

    def effect(name: str, tool_call_id: str, **data: Any) -> None:
        log.record(f"{name}:start", tool_call_id=tool_call_id, **data)
        time.sleep(seconds)
        if idempotent:
            log.record_once(tool_call_id, name, **data)
        else:
            log.record(name, tool_call_id=tool_call_id, **data)
        time.sleep(linger)

    def script(messages: list[BaseMessage], info: TurnInfo) -> Any:
        if model_seconds and _turns_so_far(messages) == 1:
            log.record("model:turn2")
            time.sleep(model_seconds)
        return review_chain_script(messages, info)

    @tool
    def delete_file(path: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Delete a file."""
        effect("delete_file", tool_call_id, path=path)
        return f"deleted {path}"

    @tool
    def lookup(key: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Look a value up."""
        effect("lookup", tool_call_id, key=key)
        return f"{key}=alice"

    @tool
    def send_email(to: str, body: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Send an email."""
        effect("send_email", tool_call_id, to=to)
        return f"sent to {to}"

    return create_agent(
        FunctionChatModel(script),
        tools=[delete_file, lookup, send_email],
        middleware=[
            HumanInTheLoopMiddleware(interrupt_on={"delete_file": True, "send_email": True})
        ],
        checkpointer=checkpointer,
    )


class _ReviewsState(TypedDict):
    log: Annotated[list[str], operator.add]


def build_two_review_graph(
    checkpointer: Any, *, ledger: str, first_seconds: float = 0.0, seconds: float = 120.0
) -> Any:
    """A hand-written graph with two reviews (raw interrupts), for the pinned crash reports.

    `first` asks, records `first:answered`, then works for `first_seconds`; then `second` asks
    while `slow` (beside it, in the same step) records `slow:start` (tool_call_id 'slow-1') and
    works for `seconds`."""
    log = Ledger(ledger)

    def first(state: _ReviewsState) -> dict[str, Any]:
        answer = interrupt("first review")
        log.record("first:answered", answer=answer)
        time.sleep(first_seconds)
        return {"log": [f"first:{answer}"]}

    def second(state: _ReviewsState) -> dict[str, Any]:
        return {"log": [f"second:{interrupt('second review')}"]}

    def slow(state: _ReviewsState) -> dict[str, Any]:
        log.record("slow:start", tool_call_id="slow-1")
        time.sleep(seconds)
        return {"log": ["slow"]}

    graph = StateGraph(_ReviewsState)
    graph.add_node("first", first)
    graph.add_node("second", second)
    graph.add_node("slow", slow)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    graph.add_edge("first", "slow")
    graph.add_edge("second", END)
    graph.add_edge("slow", END)
    return graph.compile(checkpointer=checkpointer)
