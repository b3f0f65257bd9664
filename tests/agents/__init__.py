"""Real `create_agent` agents for the checks' tests: a correct one and deliberately broken ones.

The broken ones are what teams write when they fork `HumanInTheLoopMiddleware`: each is a real
`AgentMiddleware` subclass with one realistic bug (`hitl_sim.catalog.broken_agents`, shared with the
catalog's failure-guard scenarios). `run.check()` must catch every one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim.catalog.broken_agents import (
    ExecutesRejectedCalls,
    ForkedApproval,
    IgnoresEdits,
    ReversedDecisions,
    ReviewsOnlyFirstCall,
)
from hitl_sim.models.chat import ScriptedChatModel


class PatchedInPlace(ReviewsOnlyFirstCall):
    """The same bug in a fork that keeps the original's name (and so its graph node name,
    `HumanInTheLoopMiddleware.after_model`), as a patched copy of the module would."""

    @property
    def name(self) -> str:
        return "HumanInTheLoopMiddleware"


ALL_DECISIONS = {"allowed_decisions": ["approve", "edit", "reject", "respond"]}
GATES: dict[str, Any] = {"send_email": ALL_DECISIONS, "delete_file": ALL_DECISIONS}

MIDDLEWARE: dict[str, Callable[..., AgentMiddleware[Any, Any, Any]]] = {
    "correct": HumanInTheLoopMiddleware,
    "forked_correctly": ForkedApproval,
    "executes_rejected": ExecutesRejectedCalls,
    "reversed_decisions": ReversedDecisions,
    "ignores_edits": IgnoresEdits,
    "reviews_only_first": ReviewsOnlyFirstCall,
    "patched_in_place": PatchedInPlace,
}


@tool
def send_email(to: str, body: str) -> str:
    """Send an email to `to`."""
    return f"sent to {to}"


@tool
def delete_file(path: str) -> str:
    """Delete the file at `path`."""
    return f"deleted {path}"


@tool
def read_file(path: str) -> str:
    """Read the file at `path`."""
    return f"contents of {path}"


def build_agent(
    turns: Sequence[Any],
    middleware: str = "correct",
    *,
    interrupt_on: dict[str, Any] | None = None,
    interrupt_mode: str = "batched",
    **options: Any,
) -> Any:
    """A `create_agent` agent over the three tools, gated by the named middleware."""
    gate = MIDDLEWARE[middleware](
        interrupt_on=GATES if interrupt_on is None else interrupt_on, interrupt_mode=interrupt_mode
    )
    return create_agent(
        ScriptedChatModel(list(turns)),
        tools=[send_email, delete_file, read_file],
        middleware=[gate],
        checkpointer=InMemorySaver(),
        **options,
    )
