"""Agents with a broken approval middleware, for the catalog's failure-guard scenarios.

Each is a real `create_agent` agent whose `HumanInTheLoopMiddleware` subclass has one realistic
bug; the catalog runs them to prove the safety checks catch it (`expect.violations`). Factories
take the scripted `model`, the file's `tools`, a `checkpointer` and `interrupt_on`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.agents.middleware.human_in_the_loop import HITLRequest
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime
from langgraph.types import interrupt

Middleware = HumanInTheLoopMiddleware[Any, Any, Any]


class ExecutesRejectedCalls(Middleware):
    """Bug: a reject keeps the call, so the rejected tool runs anyway."""

    @staticmethod
    def _process_decision(
        decision: Any, tool_call: ToolCall, config: Any
    ) -> tuple[ToolCall | None, ToolMessage | None]:
        if decision["type"] == "reject":
            return tool_call, None
        return HumanInTheLoopMiddleware._process_decision(decision, tool_call, config)


class IgnoresEdits(Middleware):
    """Bug: edits are accepted but never substituted; the model's original call runs."""

    def _reviewer_edit(self, request: Any) -> None:
        return None


class ReviewsOnlyFirstCall(Middleware):
    """Bug: only the first gated call of a turn is put to the reviewer; the rest run unreviewed."""

    def _should_interrupt(
        self, tool_call: ToolCall, config: Any, state: Any, runtime: Runtime[Any]
    ) -> bool:
        last = next(m for m in reversed(state["messages"]) if isinstance(m, AIMessage))
        first = next(c for c in last.tool_calls if c["name"] in self.interrupt_on)
        return bool(first["id"] == tool_call["id"]) and super()._should_interrupt(
            tool_call, config, state, runtime
        )


class ReversedDecisions(Middleware):
    """Bug: decisions are paired with the reviewed calls from the end (a `reversed()` left in)."""

    def after_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        last = next((m for m in reversed(state["messages"]) if isinstance(m, AIMessage)), None)
        if last is None or not last.tool_calls:
            return None
        reviewed = [c for c in last.tool_calls if c["name"] in self.interrupt_on]
        if not reviewed:
            return None
        made = [
            self._create_action_and_config(c, self.interrupt_on[c["name"]], state, runtime)
            for c in reviewed
        ]
        request = HITLRequest(
            action_requests=[m[0] for m in made], review_configs=[m[1] for m in made]
        )
        decisions = list(reversed(interrupt(request)["decisions"]))
        kept: list[ToolCall] = []
        replies: list[ToolMessage] = []
        edits: dict[str, Any] = {}
        for call in last.tool_calls:
            if call not in reviewed:
                kept.append(call)
                continue
            decision = decisions[reviewed.index(call)]
            config = self.interrupt_on[call["name"]]
            revised, reply = self._process_decision(decision, call, config)
            kept += [revised] if revised is not None else []
            replies += [reply] if reply is not None else []
            if decision["type"] == "edit" and call["id"]:
                edits[call["id"]] = decision["edited_action"]
        last.tool_calls = kept
        return {"messages": [last, *replies], "hitl_edited_tool_calls": edits}


def _agent(
    middleware: type[Middleware],
    model: Any,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    interrupt_on: Mapping[str, Any],
) -> Any:
    return create_agent(
        model,
        tools=list(tools),
        middleware=[middleware(interrupt_on=dict(interrupt_on))],
        checkpointer=checkpointer,
    )


def executes_rejected_calls(
    model: Any, tools: Sequence[BaseTool], checkpointer: Any, interrupt_on: Mapping[str, Any]
) -> Any:
    return _agent(ExecutesRejectedCalls, model, tools, checkpointer, interrupt_on)


def ignores_edits(
    model: Any, tools: Sequence[BaseTool], checkpointer: Any, interrupt_on: Mapping[str, Any]
) -> Any:
    return _agent(IgnoresEdits, model, tools, checkpointer, interrupt_on)


def reviews_only_first_call(
    model: Any, tools: Sequence[BaseTool], checkpointer: Any, interrupt_on: Mapping[str, Any]
) -> Any:
    return _agent(ReviewsOnlyFirstCall, model, tools, checkpointer, interrupt_on)


def reversed_decisions(
    model: Any, tools: Sequence[BaseTool], checkpointer: Any, interrupt_on: Mapping[str, Any]
) -> Any:
    return _agent(ReversedDecisions, model, tools, checkpointer, interrupt_on)
