"""Agents that read the run context (`create_agent(..., context_schema=...)`): a `when=`
predicate and a tool that read `runtime.context`, and twins that ignore it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.tools import ToolRuntime
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver


@dataclass
class Shop:
    """Who is asking: refunds above the role's limit need a human."""

    role: str
    limit: int = 100


@tool
def refund(order: str, amount: int, runtime: ToolRuntime[Shop]) -> str:
    """Refund an order."""
    return f"refunded {amount} on {order} (by {runtime.context.role})"


def over_limit(request: Any) -> bool:
    """Review a refund above the limit of the context's role (a manager has none)."""
    shop: Shop = request.runtime.context
    return shop.role != "manager" and request.tool_call["args"]["amount"] > shop.limit


def always(request: Any) -> bool:
    """The broken twin: the predicate ignores the context and reviews every refund."""
    return True


def refund_agent(
    model: Any,
    checkpointer: Any = None,
    interrupt_mode: str = "batched",
    when: Any = over_limit,
) -> Any:
    """The support agent: its refund gate reads the context (scenario factory too)."""
    gate = {"allowed_decisions": ["approve", "reject"], "when": when}
    middleware = HumanInTheLoopMiddleware(
        interrupt_on={"refund": gate},
        interrupt_mode=interrupt_mode,  # type: ignore[arg-type]
    )
    return create_agent(
        model,
        tools=[refund],
        middleware=[middleware],
        context_schema=Shop,
        checkpointer=checkpointer if checkpointer is not None else InMemorySaver(),
    )


def ignoring_agent(model: Any, checkpointer: Any = None, interrupt_mode: str = "batched") -> Any:
    """The broken twin as a scenario factory: its gate ignores the context."""
    return refund_agent(model, checkpointer, interrupt_mode, when=always)
