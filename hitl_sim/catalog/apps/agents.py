"""The agents the example apps approve calls for: real `create_agent` +
`HumanInTheLoopMiddleware` graphs on a scripted model."""

from __future__ import annotations

from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import ScriptedChatModel, call, say

DELETED: list[str] = []
"""What `delete_file` really deleted (reset by each test)."""


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    DELETED.append(path)
    return f"deleted {path}"


@tool
def send_email(to: str, body: str, api_key: str = "") -> str:
    """Send an email."""
    return f"sent to {to}"


@tool
def read_file(path: str) -> str:
    """Read a file."""
    return f"contents of {path}"


def file_agent(turns: list[Any] | None = None, checkpointer: Any = None) -> Any:
    """delete_file and send_email are reviewed (approve/edit/reject); read_file is not."""
    model = ScriptedChatModel(
        turns
        or [
            [call("delete_file", path="/srv/a"), call("read_file", path="/srv/b")],
            say("Done."),
        ]
    )
    return create_agent(
        model,
        tools=[delete_file, send_email, read_file],
        middleware=[
            HumanInTheLoopMiddleware(
                interrupt_on={
                    "delete_file": {"allowed_decisions": ["approve", "edit", "reject"]},
                    "send_email": {"allowed_decisions": ["approve", "edit", "reject"]},
                }
            )
        ],
        checkpointer=checkpointer if checkpointer is not None else InMemorySaver(),
    )


def slow_agent(started: Any, release: Any) -> Any:
    """delete_file is reviewed, and blocks until `release` is set (after setting `started`):
    two decisions for one thread can be made to overlap."""

    @tool("delete_file")
    def slow_delete(path: str) -> str:
        """Delete a file."""
        started.set()
        release.wait(10)
        DELETED.append(path)
        return f"deleted {path}"

    return create_agent(
        ScriptedChatModel([call("delete_file", path="/srv/a"), say("Deleted."), say("Deleted.")]),
        tools=[slow_delete],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"delete_file": True})],
        checkpointer=InMemorySaver(),
    )
