"""Fake chat models and decision models: what stands in for the LLM.

Owns `ScriptedChatModel` / `FunctionChatModel` (scripted tool calls, batched, streaming, async,
per agent; checked against the bound tools), `override_models` / `block_real_models` (model
strings and real providers resolved to the fakes or refused), and the decision models of
langchain 1.5's `AutoModeMiddleware`. It may import the record modules at the top of the package
(`hitl_sim.errors`, `.run`, ...) and langchain; never the driver, the checks or the reports.
"""

from __future__ import annotations

from hitl_sim.models.chat import (
    FunctionChatModel,
    ScriptedChatModel,
    Turn,
    TurnInfo,
    call,
    say,
)
from hitl_sim.models.decision import (
    DecisionRequest,
    FunctionDecisionModel,
    ScriptedDecisionModel,
    Verdict,
    allow,
    block,
)
from hitl_sim.models.override import block_real_models, override_models

__all__ = [
    "DecisionRequest",
    "FunctionChatModel",
    "FunctionDecisionModel",
    "ScriptedChatModel",
    "ScriptedDecisionModel",
    "Turn",
    "TurnInfo",
    "Verdict",
    "allow",
    "block",
    "block_real_models",
    "call",
    "override_models",
    "say",
]
