"""A simulated run reaches no remote host: LangSmith tracing is off unless the test opts in,
and `block_real_models` stops every network method of a chat model, not only generation."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import ScriptedChatModel, block_real_models, call, say, simulate
from hitl_sim.errors import RealModelBlocked


def _tracing_seen() -> dict[str, Any]:
    from langchain_core.callbacks.manager import CallbackManager
    from langchain_core.tracers.context import _tracing_v2_is_enabled
    from langchain_core.tracers.langchain import LangChainTracer

    manager = CallbackManager.configure()
    tracers = [h for h in manager.handlers if isinstance(h, LangChainTracer)]
    return {"enabled": _tracing_v2_is_enabled(), "tracers": len(tracers)}


def _run(**options: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @tool
    def probe() -> str:
        """Report whether tracing is on."""
        seen.append(_tracing_seen())
        return "ok"

    agent = create_agent(
        ScriptedChatModel([call("probe"), say("done")]),
        tools=[probe],
        checkpointer=InMemorySaver(),
    )
    simulate(agent, "go", **options)
    return seen


def _forget_langsmith_env() -> None:
    """langsmith caches what it read of the environment; an earlier test may have filled it."""
    from langsmith import utils

    utils.get_env_var.cache_clear()
    utils.get_tracer_project.cache_clear()


@pytest.fixture
def tracing_on(monkeypatch):
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-not-a-real-key")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    _forget_langsmith_env()
    assert _tracing_seen() == {"enabled": True, "tracers": 1}
    yield
    monkeypatch.undo()
    _forget_langsmith_env()


def test_tracing_is_off_during_a_simulation_whatever_the_environment_says(tracing_on):
    assert _run() == [{"enabled": False, "tracers": 0}]
    assert _tracing_seen()["enabled"] is True  # restored after the run


def test_trace_true_opts_in(tracing_on, monkeypatch):
    from langsmith import run_trees

    monkeypatch.setattr(run_trees.RunTree, "post", lambda self, *a, **k: None)
    monkeypatch.setattr(run_trees.RunTree, "patch", lambda self, *a, **k: None)
    from langchain_core.tracers.langchain import LangChainTracer

    monkeypatch.setattr(LangChainTracer, "_persist_run_single", lambda self, run: None)
    monkeypatch.setattr(LangChainTracer, "_update_run_single", lambda self, run: None)
    assert _run(trace=True) == [{"enabled": True, "tracers": 1}]


class TokenCountingProvider(BaseChatModel):
    """A provider whose token counting calls its API (as ChatAnthropic's does)."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "provider"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        raise AssertionError("network")  # pragma: no cover

    def get_num_tokens_from_messages(self, messages: Any, tools: Any = None) -> int:
        raise AssertionError("reached the provider's count_tokens endpoint")

    def get_token_ids(self, text: str) -> list[int]:
        raise AssertionError("downloaded a tokenizer")


@pytest.mark.parametrize(
    "method, argument",
    [
        ("get_num_tokens_from_messages", [("user", "hi")]),
        ("get_num_tokens", "hi"),
        ("get_token_ids", "hi"),
    ],
)
def test_block_real_models_stops_token_counting(method, argument):
    model = TokenCountingProvider()
    with block_real_models(), pytest.raises(RealModelBlocked, match="TokenCountingProvider"):
        getattr(model, method)(argument)
    assert "get_num_tokens_from_messages" in TokenCountingProvider.__dict__  # restored
    with pytest.raises(AssertionError, match="count_tokens"):
        model.get_num_tokens_from_messages([("user", "hi")])
