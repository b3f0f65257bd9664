"""override_models / block_real_models with real create_agent, init_chat_model and deepagents."""

from __future__ import annotations

import asyncio

import langchain.chat_models.base as chat_models_base
import pytest
from deepagents import create_deep_agent
from langchain.agents import create_agent
from langchain.chat_models import init_chat_model
from langchain_anthropic import ChatAnthropic
from langchain_core._api import LangChainDeprecationWarning
from langchain_core.language_models import BaseChatModel, BaseLLM
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from hitl_sim import ScriptedChatModel, block_real_models, call, override_models, say
from hitl_sim.errors import InvalidArgument, RealModelBlocked
from tests.agents import send_email


def _anthropic():
    return ChatAnthropic(model_name="claude-sonnet-4-6", api_key="not-a-key")


BLOCKED = (
    "ChatAnthropic (model 'claude-sonnet-4-6') was called while hitl-sim blocks real provider "
    "models (inside override_models() or block_real_models()), so that a test never makes a "
    "network call.\n"
    "Give the agent a fake model (ScriptedChatModel / FunctionChatModel), or build it from a "
    "model string inside the `with override_models(...)` block so that the string resolves to "
    "the fake. To let this class through, pass allow=(ChatAnthropic,)."
)


def test_create_agent_with_a_model_string_runs_on_the_fake():
    model = ScriptedChatModel([call("send_email", to="bob", body="hi"), say("Sent.")])
    with override_models(model):
        agent = create_agent("openai:gpt-4o", tools=[send_email])
        result = agent.invoke({"messages": [("user", "mail bob")]})
    assert result["messages"][-1].content == "Sent."
    assert result["messages"][2].content == "sent to bob"
    assert model.requests[0].tools == ("send_email",)


def test_init_chat_model_in_every_form_gives_the_fake():
    model = ScriptedChatModel([say("configured")])
    with override_models(model):
        assert init_chat_model("openai:gpt-4o") is model
        assert init_chat_model("gpt-4o", temperature=0) is model
        assert init_chat_model("claude-sonnet-4-6", model_provider="anthropic") is model
        configurable = init_chat_model(configurable_fields=("model",))
        answer = configurable.invoke("hi", config={"configurable": {"model": "openai:gpt-4o"}})
    assert answer.content == "configured"


def test_deepagents_string_model_and_default_model_resolve_to_the_fake():
    model = ScriptedChatModel([say("from a string"), say("from the default")])
    with override_models(model):
        by_string = create_deep_agent(model="anthropic:claude-sonnet-4-6")
        with pytest.warns(LangChainDeprecationWarning, match="Passing `model=None`"):
            by_default = create_deep_agent()
        first = by_string.invoke({"messages": [("user", "hi")]})
        second = by_default.invoke({"messages": [("user", "hi")]})
    assert first["messages"][-1].content == "from a string"
    assert second["messages"][-1].content == "from the default"


def test_a_mapping_gives_each_model_string_its_own_fake():
    main, summarizer = ScriptedChatModel([]), ScriptedChatModel([])
    with override_models({"openai:gpt-4o": main, "anthropic:claude-haiku-4-5": summarizer}):
        assert init_chat_model("gpt-4o") is main
        assert init_chat_model("anthropic:claude-haiku-4-5") is summarizer
        with pytest.raises(RealModelBlocked) as excinfo:
            init_chat_model("openai:gpt-5")
    assert str(excinfo.value) == (
        "Model string 'openai:gpt-5' was resolved while hitl_sim.override_models() is active, "
        "but no fake model is given for it. Fakes are given for:\n"
        "- 'openai:gpt-4o'\n"
        "- 'anthropic:claude-haiku-4-5'\n"
        "Add 'openai:gpt-5' to the mapping passed to override_models()."
    )


def test_a_real_provider_model_is_blocked_in_every_call_style():
    real = _anthropic()

    async def call_async(kind):
        if kind == "ainvoke":
            return await real.ainvoke("hi")
        return [chunk async for chunk in real.astream("hi")]

    with override_models(ScriptedChatModel([])):
        for attempt in (
            lambda: real.invoke("hi"),
            lambda: list(real.stream("hi")),
            lambda: asyncio.run(call_async("ainvoke")),
            lambda: asyncio.run(call_async("astream")),
        ):
            with pytest.raises(RealModelBlocked) as excinfo:
                attempt()
            assert str(excinfo.value) == BLOCKED


def test_an_agent_built_on_a_real_model_fails_loudly_instead_of_calling_out():
    agent = create_agent(_anthropic(), tools=[send_email])
    with override_models(ScriptedChatModel([])), pytest.raises(RealModelBlocked) as excinfo:
        agent.invoke({"messages": [("user", "hi")]})
    assert str(excinfo.value) == BLOCKED


def test_fakes_pass_and_allow_lets_a_class_through():
    core_fake = FakeListChatModel(responses=["core fake"])
    with block_real_models():
        assert core_fake.invoke("hi").content == "core fake"
        assert ScriptedChatModel([say("ours")]).invoke("hi").content == "ours"

    class HomeMadeModel(FakeListChatModel):
        pass

    HomeMadeModel.__module__ = "my_tests.models"
    with block_real_models(), pytest.raises(RealModelBlocked, match=r"^HomeMadeModel was called"):
        HomeMadeModel(responses=["x"]).invoke("hi")
    with block_real_models(allow=(HomeMadeModel,)):
        assert HomeMadeModel(responses=["allowed"]).invoke("hi").content == "allowed"


def test_everything_is_restored_on_exit_even_after_an_error():
    helper = chat_models_base._init_chat_model_helper
    guarded = [(BaseChatModel, "stream"), (BaseChatModel, "_generate_with_cache")]
    guarded += [(BaseLLM, "_generate_helper"), (BaseLLM, "astream")]
    methods = {(owner, name): owner.__dict__[name] for owner, name in guarded}
    with pytest.raises(RuntimeError, match="boom"), override_models(ScriptedChatModel([])):
        with override_models(ScriptedChatModel([])):
            pass
        raise RuntimeError("boom")
    assert chat_models_base._init_chat_model_helper is helper
    assert {(owner, name): owner.__dict__[name] for owner, name in guarded} == methods
    with pytest.raises(ImportError, match="langchain-openai"):
        init_chat_model("openai:gpt-4o")


def test_override_models_needs_a_model_or_a_mapping_of_models():
    with pytest.raises(InvalidArgument) as excinfo, override_models("openai:gpt-4o"):  # type: ignore[arg-type]
        pass
    assert str(excinfo.value) == (
        "override_models() needs a chat model (e.g. ScriptedChatModel([...])) or a mapping from "
        "model string to chat model, got 'openai:gpt-4o'."
    )


def test_a_string_without_a_known_provider_resolves_as_written():
    model = ScriptedChatModel([])
    with override_models({"my-local-model": model}):
        assert init_chat_model("my-local-model") is model


def test_completion_models_are_blocked_too_and_their_fakes_pass():
    with block_real_models():
        assert FakeListLLM(responses=["core fake"]).invoke("hi") == "core fake"

    class HomeMadeLLM(FakeListLLM):
        pass

    HomeMadeLLM.__module__ = "my_tests.llms"
    llm = HomeMadeLLM(responses=["x"])
    for attempt in (lambda: llm.invoke("hi"), lambda: list(llm.stream("hi"))):
        with block_real_models(), pytest.raises(RealModelBlocked, match=r"^HomeMadeLLM was called"):
            attempt()
    assert llm.invoke("hi") == "x"
