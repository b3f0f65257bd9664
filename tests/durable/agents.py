"""Agents for the durability tests, importable by `module:function` from another process.

Every factory takes the checkpointer first (as `simulate_with_restarts` calls it) and a
`ledger` path: the tools append what they do to that file, so side effects are counted across
processes. The model is a `FunctionChatModel` that answers from the conversation, not from a
counter, so a graph rebuilt in a new process continues the script where the thread is.
"""

from __future__ import annotations

import time
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import tool

from hitl_sim import FunctionChatModel, call, say
from hitl_sim.models import TurnInfo
from hitl_sim.restart import Ledger


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
