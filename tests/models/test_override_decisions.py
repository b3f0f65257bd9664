"""block_real_models / override_models cover decision models (langchain-core 1.8), the
classifiers of langchain 1.5's AutoModeMiddleware."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip(
    "langchain.agents.middleware.auto_mode", reason="AutoModeMiddleware needs langchain >= 1.5"
)

from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import (  # noqa: E402
    AutoModeMiddleware,
    HumanInTheLoopMiddleware,
)
from langchain_core.decisions import BaseDecisionModel, Noul  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from hitl_sim import (  # noqa: E402
    ScriptedChatModel,
    approve,
    block_real_models,
    call,
    override_models,
    say,
    simulate,
)
from hitl_sim.errors import InvalidArgument, RealModelBlocked  # noqa: E402
from hitl_sim.models import ScriptedDecisionModel, allow, block  # noqa: E402
from tests.agents import delete_file  # noqa: E402


class ProviderDecisionModel(BaseDecisionModel):
    """Stands in for a provider's decision model: calling it would be a network call."""

    model: str = "risk-v1"

    @property
    def _provider(self):
        return "acme"

    def _classify(self, state, questions):
        raise AssertionError("the network was reached")


REQUEST = {"state": "x", "questions": {"is_risky": Noul(instructions="Risky?")}}
BLOCKED = (
    "Decision model ProviderDecisionModel (model 'risk-v1') was called while hitl-sim blocks "
    "real provider models (inside override_models() or block_real_models()), so that a test "
    "never makes a network call.\n"
    "Give AutoModeMiddleware a fake classifier (ScriptedDecisionModel([allow(), block('...')]) "
    "/ FunctionDecisionModel), or let a fake answer for every real one with "
    "override_models(decision_model=ScriptedDecisionModel([...])). To let this class through, "
    "pass allow=(ProviderDecisionModel,)."
)


def _agent(classifier):
    return create_agent(
        ScriptedChatModel([call("delete_file", path="/etc/hosts"), say("Done.")]),
        tools=[delete_file],
        middleware=[
            HumanInTheLoopMiddleware(interrupt_on={"delete_file": True}),
            AutoModeMiddleware(tools=["delete_file"], classifier=classifier),
        ],
        checkpointer=InMemorySaver(),
    )


def test_a_real_decision_model_is_blocked_with_the_fix():
    with block_real_models(), pytest.raises(RealModelBlocked) as raised:
        ProviderDecisionModel().invoke(REQUEST)
    assert raised.value.args == (BLOCKED,)


def test_ainvoke_and_batch_are_blocked_too():
    with block_real_models():
        with pytest.raises(RealModelBlocked):
            asyncio.run(ProviderDecisionModel().ainvoke(REQUEST))
        with pytest.raises(RealModelBlocked):
            ProviderDecisionModel().batch([REQUEST])


def test_a_real_decision_model_in_an_agent_stops_the_simulation():
    agent = _agent(ProviderDecisionModel())
    with block_real_models(), pytest.raises(RealModelBlocked) as raised:
        simulate(agent, "delete /etc/hosts", [approve()])
    assert raised.value.args == (BLOCKED,)


def test_the_fakes_and_allowed_classes_run_and_everything_is_restored():
    fake = ScriptedDecisionModel([block("no")])
    with block_real_models(allow=(ProviderDecisionModel,)):
        assert fake.invoke(REQUEST).nouls["is_risky"].noul == 1.0
        with pytest.raises(AssertionError, match="the network was reached"):
            ProviderDecisionModel().invoke(REQUEST)  # let through, so it "called" the provider
    assert BaseDecisionModel.invoke.__module__ == "langchain_core.decisions.base"
    with pytest.raises(AssertionError, match="the network was reached"):
        ProviderDecisionModel().invoke(REQUEST)


def test_override_models_answers_a_real_decision_model_with_the_fake():
    fake = ScriptedDecisionModel([block("system file")])
    agent = _agent(ProviderDecisionModel())  # the application's own classifier
    with override_models(decision_model=fake):
        run = simulate(agent, "delete /etc/hosts", [approve()])
    assert [(b.name, b.reason) for b in run.blocked] == [("delete_file", "system file")]
    assert fake.requests[0].tool_call["args"] == {"path": "/etc/hosts"}
    fake.assert_consumed()


def test_override_models_with_both_fakes():
    fake = ScriptedDecisionModel([allow()])
    chat = ScriptedChatModel([say("Hi.")])
    with override_models(chat, decision_model=fake):
        agent = create_agent("openai:gpt-4o", tools=[])
        assert agent.invoke({"messages": [("user", "hi")]})["messages"][-1].content == "Hi."
        assert asyncio.run(ProviderDecisionModel().ainvoke(REQUEST)).nouls["is_risky"].noul == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {},
            "override_models() needs a fake chat model (e.g. ScriptedChatModel([...])), a mapping "
            "from model string to fake, or decision_model=ScriptedDecisionModel([...]). To only "
            "block real models, use block_real_models().",
        ),
        (
            {"decision_model": ProviderDecisionModel()},
            "override_models(decision_model=...) needs a hitl-sim fake decision model "
            "(ScriptedDecisionModel([...]) or FunctionDecisionModel(fn)), got "
            "ProviderDecisionModel().",
        ),
    ],
)
def test_override_models_refuses_what_it_cannot_use(options, message):
    with pytest.raises(InvalidArgument) as raised, override_models(**options):
        pass
    assert str(raised.value) == message
