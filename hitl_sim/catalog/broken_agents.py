"""Agents with a broken approval middleware, for the catalog's failure-guard scenarios.

Each is a real `create_agent` agent whose `HumanInTheLoopMiddleware` subclass has one realistic
bug; the catalog runs them to prove the safety checks catch it (`expect.violations`). Factories
take the scripted `model`, the file's `tools`, a `checkpointer` and `interrupt_on`.

`ForkedApproval` is a faithful copy of the batched `after_model` (langchain 1.4.7), split into
the two places forks usually change: which calls are put to the reviewer, and which decision
goes with which call. It is correct; `ReversedDecisions` breaks the pairing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.agents.middleware.human_in_the_loop import (
    ActionRequest,
    Decision,
    HITLRequest,
    ReviewConfig,
)
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime
from langgraph.types import interrupt

Middleware = HumanInTheLoopMiddleware[Any, Any, Any]


class ForkedApproval(Middleware):
    """A correct copy of the batched review step."""

    def gated_calls(
        self, tool_calls: list[ToolCall], state: Any, runtime: Runtime[Any]
    ) -> list[int]:
        """Indices of the calls to put to the reviewer."""
        return [
            index
            for index, call in enumerate(tool_calls)
            if (config := self.interrupt_on.get(call["name"])) is not None
            and self._should_interrupt(call, config, state, runtime)
        ]

    def pair(self, decisions: list[Decision], indices: list[int]) -> dict[int, Decision]:
        """Which decision answers which call (by position among the reviewed calls)."""
        return dict(zip(indices, decisions, strict=True))

    def after_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        last_ai = next((m for m in reversed(state["messages"]) if isinstance(m, AIMessage)), None)
        if last_ai is None or not last_ai.tool_calls:
            return None
        indices = self.gated_calls(last_ai.tool_calls, state, runtime)
        if not indices:
            return {"hitl_edited_tool_calls": {}} if state.get("hitl_edited_tool_calls") else None
        requests: list[ActionRequest] = []
        configs: list[ReviewConfig] = []
        for index in indices:
            call = last_ai.tool_calls[index]
            request, config = self._create_action_and_config(
                call, self.interrupt_on[call["name"]], state, runtime
            )
            requests.append(request)
            configs.append(config)
        decisions = interrupt(HITLRequest(action_requests=requests, review_configs=configs))[
            "decisions"
        ]
        if len(decisions) != len(indices):
            raise ValueError(
                f"Number of human decisions ({len(decisions)}) does not match "
                f"number of hanging tool calls ({len(indices)})."
            )
        answers = self.pair(decisions, indices)
        kept: list[ToolCall] = []
        replies: list[ToolMessage] = []
        edits: dict[str, Any] = {}
        for index, call in enumerate(last_ai.tool_calls):
            if index not in answers:
                kept.append(call)
                continue
            decision = answers[index]
            revised, reply = self._process_decision(decision, call, self.interrupt_on[call["name"]])
            if revised is not None:
                kept.append(revised)
                if decision["type"] == "edit" and revised.get("id"):
                    edits[str(revised["id"])] = decision["edited_action"]
            if reply is not None:
                replies.append(reply)
        last_ai.tool_calls = kept
        return {"messages": [last_ai, *replies], "hitl_edited_tool_calls": edits}


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


class ReversedDecisions(ForkedApproval):
    """Bug: decisions are paired with the reviewed calls from the end (a `reversed()` left in)."""

    def pair(self, decisions: list[Decision], indices: list[int]) -> dict[int, Decision]:
        return dict(zip(indices, reversed(decisions), strict=True))


class TakesAnyDecisionForApproval(Middleware):
    """Bug: only an edit is treated specially; any other decision (reject, respond, a type the
    middleware does not know) lets the call run, as a fork that tests `!= "edit"` would."""

    @staticmethod
    def _process_decision(
        decision: Any, tool_call: ToolCall, config: Any
    ) -> tuple[ToolCall | None, ToolMessage | None]:
        if decision.get("type") == "edit":
            return HumanInTheLoopMiddleware._process_decision(decision, tool_call, config)
        return tool_call, None

    def _resolve_per_call(self, request: Any) -> Any:
        config = self.interrupt_on.get(request.tool_call["name"])
        if config is None:
            return request, None
        decision = interrupt(self._tool_approval_request(request, config))
        if decision.get("type") == "edit":
            executed = decision["edited_action"]
            return self._apply_edit(request, executed), executed
        return request, None


class Reframes(Middleware):
    """A fork that rebuilds the reject/respond ToolMessage itself; `reframe` is the bug."""

    def reframe(self, message: ToolMessage) -> ToolMessage:
        """The message the fork sends instead of the real middleware's."""
        return message

    def _process_decision(  # type: ignore[override]
        self, decision: Any, tool_call: ToolCall, config: Any
    ) -> tuple[ToolCall | None, ToolMessage | None]:
        revised, message = HumanInTheLoopMiddleware._process_decision(decision, tool_call, config)
        return revised, (self.reframe(message) if message is not None else None)

    def _resolve_per_call(self, request: Any) -> Any:
        resolved = super()._resolve_per_call(request)
        return self.reframe(resolved) if isinstance(resolved, ToolMessage) else resolved


class RejectsAsSuccess(Reframes):
    """Bug: a reject is sent with status 'success', so the model reads it as the tool's result."""

    def reframe(self, message: ToolMessage) -> ToolMessage:
        return message.model_copy(update={"status": "success"})


class BareRejectReason(Reframes):
    """Bug: the reject reason is sent alone, without saying the user rejected the call."""

    def reframe(self, message: ToolMessage) -> ToolMessage:
        content = str(message.content)
        _, found, reason = content.partition(" with reason: ")
        return message.model_copy(update={"content": reason if found else content})


class UnnamedReplies(Reframes):
    """Bug: the reply carries no tool name."""

    def reframe(self, message: ToolMessage) -> ToolMessage:
        return message.model_copy(update={"name": None})


class RepliesToAnotherCall(Reframes):
    """Bug: the reply answers a made-up call id, so the rejected call has no answer."""

    def reframe(self, message: ToolMessage) -> ToolMessage:
        return message.model_copy(update={"tool_call_id": f"{message.tool_call_id}-reply"})


class RedirectingEdits(Middleware):
    """Bug (per_call): the review interrupt has no `response_schema`, so an edit may name
    another tool, which then runs on this call's review, skipping its own gate."""

    def _resolve_per_call(self, request: Any) -> Any:
        from langchain.agents.middleware.human_in_the_loop import _answer_message

        config = self.interrupt_on.get(request.tool_call["name"])
        if config is None:
            return request, None
        decision = interrupt(self._tool_approval_request(request, config))
        if decision["type"] == "approve":
            return request, None
        if decision["type"] == "edit":
            executed = decision["edited_action"]
            return self._apply_edit(request, executed), executed
        return _answer_message(request.tool_call, decision)


class HidesEdits(Middleware):
    """Bug: the edited call runs, but the model is never told (no edit notice on the result,
    and its own message still shows the original call)."""

    def _annotate_edited_result(self, result: Any, request: Any, executed: Any) -> Any:
        return result


def _agent(
    middleware: type[Middleware],
    model: Any,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    interrupt_on: Mapping[str, Any],
    interrupt_mode: Any = "batched",
) -> Any:
    return create_agent(
        model,
        tools=list(tools),
        middleware=[middleware(interrupt_on=dict(interrupt_on), interrupt_mode=interrupt_mode)],
        checkpointer=checkpointer,
    )


executes_rejected_calls = partial(_agent, ExecutesRejectedCalls)
ignores_edits = partial(_agent, IgnoresEdits)
reviews_only_first_call = partial(_agent, ReviewsOnlyFirstCall)
reversed_decisions = partial(_agent, ReversedDecisions)
takes_any_decision_for_approval = partial(_agent, TakesAnyDecisionForApproval)
rejects_as_success = partial(_agent, RejectsAsSuccess)
bare_reject_reason = partial(_agent, BareRejectReason)
unnamed_replies = partial(_agent, UnnamedReplies)
replies_to_another_call = partial(_agent, RepliesToAnotherCall)
redirecting_edits = partial(_agent, RedirectingEdits)
hides_edits = partial(_agent, HidesEdits)
