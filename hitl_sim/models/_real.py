"""Real models where a test did not allow them (the `hitl_sim` fixture, scenario items).

Inside `refuse_model_strings(...)`, a model built from a string (`create_agent("openai:gpt-4o")`,
`init_chat_model(...)`, deepagents' default model) is a `BlockedModel`: the agent builds as usual,
and the first call raises `StringModelBlocked` naming the string, where it was built and the fix,
and is recorded, so that an agent that catches the error cannot turn it into a silent pass.
Real model objects built elsewhere are stopped by `hitl_sim.models.override.block_real_models`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from hitl_sim.errors import RealModelBlocked
from hitl_sim.models.override import string_models

__all__ = ["ALLOW_HINT", "BlockedModel", "StringModelBlocked", "refuse_model_strings"]

ALLOW_HINT = (
    "To let real models run in this test, mark it @pytest.mark.hitl_sim(allow_real_models=True), "
    "or set `hitl_sim_allow_real_models = true` in the pytest ini for the whole suite."
)
_DEEPAGENTS_DEFAULT = "anthropic:claude-sonnet-4-6"
"""The model deepagents' `create_deep_agent(model=None)` builds (deepagents 0.7)."""


class StringModelBlocked(RealModelBlocked):
    """A model built from a string was called where real models are blocked."""

    model: str = ""
    """The model string, e.g. 'openai:gpt-4o'."""


class BlockedModel(BaseChatModel):
    """Stands in for a real model built from a string: calling it raises `StringModelBlocked`."""

    spec: str
    """The model string as resolved, e.g. 'openai:gpt-4o'."""
    built_by: str = "a model string"
    """How it was built, for the message."""
    origin: str = ""
    """Who built it when that is known: "The scenario factory 'pkg.agents:build'"."""
    on_call: Any = None
    """Called with the message on every call (the fixture keeps them)."""

    @property
    def _llm_type(self) -> str:
        return "hitl-sim-blocked"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> BlockedModel:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise self.blocked()

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise self.blocked()

    def message(self) -> str:
        if self.origin:
            return (
                f"{self.origin} built its model from the string {self.spec!r} and ignored the "
                "scripted model the scenario runner offers it; that real model was called, and "
                "hitl-sim blocks real provider models so that a test never reaches the network.\n"
                "Fix: build the agent from the factory's `model` argument (def factory(model, "
                "checkpointer, ...)), which gets the scenario's scripted model. To let real "
                "models run, set `hitl_sim_allow_real_models = true` in the pytest ini."
            )
        return (
            f"The agent called the real model {self.spec!r} ({self.built_by}), and the hitl_sim "
            "fixture blocks real provider models so that a test never reaches the network.\n"
            "Fix: give the agent a fake model (hitl_sim.model([...])), or point model strings at "
            "one with @pytest.mark.hitl_sim(models=ScriptedChatModel([...])) (or "
            f"hitl_sim.override_models(...) around building the agent). {ALLOW_HINT}"
        )

    def blocked(self) -> StringModelBlocked:
        text = self.message()
        if callable(self.on_call):
            self.on_call(text)
        error = StringModelBlocked(text)
        error.model = self.spec
        return error


@contextmanager
def refuse_model_strings(
    on_call: Callable[[str], None] | None = None, *, origin: str = ""
) -> Iterator[None]:
    """Inside the block, models built from strings (and deepagents' default) are
    `BlockedModel`s: building works, calling raises `StringModelBlocked`."""

    def helper(model: str, *, model_provider: str | None = None, **_kwargs: Any) -> BaseChatModel:
        spec = model if model_provider is None or ":" in model else f"{model_provider}:{model}"
        return BlockedModel(
            spec=spec, built_by="built from a model string", origin=origin, on_call=on_call
        )

    def default() -> BaseChatModel:
        return BlockedModel(
            spec=_DEEPAGENTS_DEFAULT,
            built_by="deepagents' default model: create_deep_agent() without model=",
            origin=origin,
            on_call=on_call,
        )

    with string_models(helper, default):
        yield
