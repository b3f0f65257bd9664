"""Forks of `HumanInTheLoopMiddleware` with one realistic bug each.

`ForkedApproval` is a faithful copy of the batched `after_model` (langchain 1.4.7), split into the
two places forks usually change: which calls are put to the reviewer, and which decision goes
with which call. It is correct; the subclasses below each break one thing.
"""

from __future__ import annotations

from typing import Any

from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain.agents.middleware.human_in_the_loop import (
    ActionRequest,
    Decision,
    HITLRequest,
    InterruptOnConfig,
    ReviewConfig,
)
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langgraph.runtime import Runtime
from langgraph.types import interrupt

EDITS_KEY = "hitl_edited_tool_calls"


class ForkedApproval(HumanInTheLoopMiddleware):  # type: ignore[type-arg]
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
        messages = state["messages"]
        last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        if last_ai is None or not last_ai.tool_calls:
            return None
        indices = self.gated_calls(last_ai.tool_calls, state, runtime)
        if not indices:
            return {EDITS_KEY: {}} if state.get(EDITS_KEY) else None
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
            config: InterruptOnConfig = self.interrupt_on[call["name"]]
            revised, reply = self._process_decision(decision, call, config)
            if revised is not None:
                kept.append(revised)
                if decision["type"] == "edit" and revised.get("id"):
                    edits[str(revised["id"])] = decision["edited_action"]
            if reply is not None:
                replies.append(reply)
        last_ai.tool_calls = kept
        return {"messages": [last_ai, *replies], EDITS_KEY: edits}


class ExecutesRejectedCalls(ForkedApproval):
    """Bug: a reject keeps the call (only 'respond' is turned into a reply)."""

    @staticmethod
    def _process_decision(
        decision: Decision, tool_call: ToolCall, config: InterruptOnConfig
    ) -> tuple[ToolCall | None, ToolMessage | None]:
        if decision["type"] == "reject":
            return tool_call, None
        return HumanInTheLoopMiddleware._process_decision(decision, tool_call, config)


class ReversedDecisions(ForkedApproval):
    """Bug: decisions are matched to calls from the end (a `reversed()` left in)."""

    def pair(self, decisions: list[Decision], indices: list[int]) -> dict[int, Decision]:
        return dict(zip(indices, reversed(decisions), strict=True))


class IgnoresEdits(ForkedApproval):
    """Bug: edits are accepted but never substituted; the model's original call runs."""

    def _reviewer_edit(self, request: Any) -> None:
        return None


class ReviewsOnlyFirstCall(ForkedApproval):
    """Bug: only the first gated call of a turn is put to the reviewer; the rest run unreviewed."""

    def gated_calls(
        self, tool_calls: list[ToolCall], state: Any, runtime: Runtime[Any]
    ) -> list[int]:
        return super().gated_calls(tool_calls, state, runtime)[:1]


class PatchedInPlace(ReviewsOnlyFirstCall):
    """The same bug in a fork that keeps the original's name (and so its graph node name,
    `HumanInTheLoopMiddleware.after_model`), as a patched copy of the module would."""

    @property
    def name(self) -> str:
        return "HumanInTheLoopMiddleware"
