"""Fail closed under the fixture (issue 12, classes 1 and 2): a run that crashed fails the test
unless the test said which error it expects (or read `run.error`), and real provider models are
blocked unless the test or the ini allows them. Real `create_agent` agents, both interrupt modes."""

from __future__ import annotations

import pytest

CONFTEST = """
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from tests.agents import send_email

ORDERS = {"A-1": 40}


@tool
def refund(order: str) -> str:
    \"\"\"Refund an order.\"\"\"
    return f"refunded {ORDERS[order]}"  # KeyError for an unknown order: the crash under test


def make_agent(model, mode="batched", middleware=()):
    gate = HumanInTheLoopMiddleware(
        interrupt_on={"refund": True, "send_email": True}, interrupt_mode=mode
    )
    return create_agent(
        model, tools=[refund, send_email], middleware=[*middleware, gate],
        checkpointer=InMemorySaver(),
    )
"""

HEADER = """
import pytest
from conftest import make_agent
from hitl_sim import approve, call, say
"""


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


FAILED_RUN_TESTS = """
CRASH = [call("refund", order="B-9"), say("Refunded.")]


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_crashed(hitl_sim, mode):
    run = hitl_sim.simulate(make_agent(hitl_sim.model(CRASH), mode), "refund B-9", [approve()])
    assert run.executed_names == ["refund"]

def test_status_alone_is_not_enough(hitl_sim):
    run = hitl_sim.simulate(make_agent(hitl_sim.model(CRASH)), "refund B-9", [approve()])
    assert run.status == "failed"

@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_expected(hitl_sim, mode):
    model = hitl_sim.model(CRASH)
    hitl_sim.simulate(make_agent(model, mode), "refund B-9", [approve()], expect_error=KeyError)

@pytest.mark.hitl_sim(expect_error=(KeyError, IndexError))
def test_expected_by_the_marker(hitl_sim):
    hitl_sim.simulate(make_agent(hitl_sim.model(CRASH)), "refund B-9", [approve()])

def test_inspected(hitl_sim):
    run = hitl_sim.simulate(make_agent(hitl_sim.model(CRASH)), "refund B-9", [approve()])
    assert run.error.type == "KeyError" and run.error.node == "tools"

def test_other_error_expected(hitl_sim):
    model = hitl_sim.model(CRASH)
    hitl_sim.simulate(make_agent(model), "refund B-9", [approve()], expect_error=ValueError)

def test_expected_but_finished(hitl_sim):
    model = hitl_sim.model([call("refund", order="A-1"), say("Refunded 40.")])
    hitl_sim.simulate(make_agent(model), "refund A-1", [approve()], expect_error=KeyError)

@pytest.mark.hitl_sim(check=False)
def test_check_off_does_not_hide_a_crash(hitl_sim):
    hitl_sim.simulate(make_agent(hitl_sim.model(CRASH)), "refund B-9", [approve()])

def test_correct_twin(hitl_sim):
    model = hitl_sim.model([call("refund", order="A-1"), say("Refunded 40.")])
    run = hitl_sim.simulate(make_agent(model), "refund A-1", [approve()])
    assert run.status == "finished"
"""


def test_a_failed_run_fails_the_test_unless_it_was_expected_or_inspected(tester):
    tester.makepyfile(test_failed=HEADER + FAILED_RUN_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=11, errors=6)
    result.stdout.fnmatch_lines(
        [
            "test_failed.py::test_crashed[[]batched[]] ERROR*",
            "test_failed.py::test_crashed[[]per_call[]] ERROR*",
            "test_failed.py::test_status_alone_is_not_enough ERROR*",
            "test_failed.py::test_expected[[]batched[]] PASSED*",
            "test_failed.py::test_expected[[]per_call[]] PASSED*",
            "test_failed.py::test_expected_by_the_marker PASSED*",
            "test_failed.py::test_inspected PASSED*",
            "test_failed.py::test_other_error_expected ERROR*",
            "test_failed.py::test_expected_but_finished ERROR*",
            "test_failed.py::test_check_off_does_not_hide_a_crash ERROR*",
            "test_failed.py::test_correct_twin PASSED*",
        ]
    )
    fix = (
        "Fix: fix the graph, or if this failure is what the test is about, say so: "
        "hitl_sim.simulate(..., expect_error=KeyError) (or "
        "@pytest.mark.hitl_sim(expect_error=KeyError) for every run of the test), or assert on "
        "run.error in the test."
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_crashed[[]batched[]]*",
            "hitl_sim end-of-test check failed: a run did not end as the test said.",
            "",
            "Run 1 of 1 (thread '*') failed at resume 1: node 'tools' raised KeyError: 'B-9' "
            "(at *conftest.py:* in refund).",
            "The test did not say it expects an error, and did not look at run.error.",
            fix,
            "",
            "run on thread *: failed",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_other_error_expected*",
            "hitl_sim end-of-test check failed: a run did not end as the test said.",
            "",
            "Run 1 of 1 (thread '*') failed at resume 1: node 'tools' raised KeyError: 'B-9' "
            "(at *conftest.py:* in refund).",
            "The test expected ValueError (expect_error=...), not KeyError.",
            "Fix: expect the error the graph raises, hitl_sim.simulate(..., "
            "expect_error=KeyError) (or @pytest.mark.hitl_sim(expect_error=KeyError) for every "
            "run of the test), or fix the graph.",
            "*ERROR at teardown of test_expected_but_finished*",
            "hitl_sim end-of-test check failed: a run did not end as the test said.",
            "",
            "Run 1 of 1 (thread '*') ended finished, but the test expected it to fail with "
            "KeyError (expect_error=...).",
            "Fix: drop expect_error= if the run is meant to succeed, or find out why the graph "
            "did not raise.",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


def _literal(text: str) -> str:
    """`text` as an fnmatch pattern that matches only itself."""
    return text.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


REAL_MODEL_TESTS = """
from langchain.agents.middleware import ModelFallbackMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from hitl_sim import ScriptedChatModel
from hitl_sim.errors import RealModelBlocked


class HomeMadeModel(BaseChatModel):  # stands in for a provider class: not a fake
    @property
    def _llm_type(self):
        return "home-made"

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(message=AIMessage("real answer"))])


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_string_model(hitl_sim, mode):
    hitl_sim.simulate(make_agent("openai:gpt-4o", mode), "refund A-1", [approve()])

def test_swallowed_by_a_fallback(hitl_sim):
    fallback = ModelFallbackMiddleware(ScriptedChatModel([say("Nothing to do.")]))
    run = hitl_sim.simulate(make_agent("openai:gpt-4o", middleware=[fallback]), "refund A-1")
    assert run.status == "finished"

def test_model_object(hitl_sim):
    hitl_sim.simulate(make_agent(HomeMadeModel()), "refund A-1")

@pytest.mark.hitl_sim(allow_real_models=True)
def test_allowed_by_the_marker(hitl_sim):
    run = hitl_sim.simulate(make_agent(HomeMadeModel()), "refund A-1")
    assert run.messages[-1].content == "real answer"

def test_fake_twin(hitl_sim):
    model = hitl_sim.model([call("refund", order="A-1"), say("Refunded 40.")])
    assert hitl_sim.simulate(make_agent(model), "refund A-1", [approve()]).status == "finished"
"""


def test_real_models_are_blocked_and_reported_by_name(tester):
    tester.makepyfile(test_real=HEADER + REAL_MODEL_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=3, failed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "test_real.py::test_string_model[[]batched[]] FAILED*",
            "test_real.py::test_string_model[[]per_call[]] FAILED*",
            "test_real.py::test_swallowed_by_a_fallback PASSED*",
            "test_real.py::test_swallowed_by_a_fallback ERROR*",
            "test_real.py::test_model_object FAILED*",
            "test_real.py::test_allowed_by_the_marker PASSED*",
            "test_real.py::test_fake_twin PASSED*",
        ]
    )
    blocked = (
        "The agent called the real model 'openai:gpt-4o' (built from a model string), and the "
        "hitl_sim fixture blocks real provider models so that a test never reaches the network."
    )
    fix = (
        "Fix: give the agent a fake model (hitl_sim.model([...])), or point model strings at one "
        "with @pytest.mark.hitl_sim(models=ScriptedChatModel([...])) (or "
        "hitl_sim.override_models(...) around building the agent). To let real models run in "
        "this test, mark it @pytest.mark.hitl_sim(allow_real_models=True), or set "
        "`hitl_sim_allow_real_models = true` in the pytest ini for the whole suite."
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_swallowed_by_a_fallback*",
            "hitl_sim end-of-test check failed: a run did not end as the test said.",
            "",
            "A real model was called and blocked, but its RealModelBlocked error never reached "
            "the test (the agent, a middleware or the test caught it), so the run went on "
            "without the model's answer:",
            _literal(blocked),
            _literal(fix),
            "*_ test_string_model[[]batched[]] _*",
            f"E * hitl_sim.models._real.StringModelBlocked: {_literal(blocked)}",
            f"E * {_literal(fix)}",
            "*_ test_model_object _*",
            "E * hitl_sim.errors.RealModelBlocked: HomeMadeModel was called while hitl-sim "
            "blocks real provider models*",
            "E * To let real models run in this test, mark it "
            "@pytest.mark.hitl_sim(allow_real_models=True), or set "
            "`hitl_sim_allow_real_models = true` in the pytest ini for the whole suite.",
        ]
    )


INI_TESTS = """
from hitl_sim import ScriptedChatModel


def test_allowed_by_the_ini(hitl_sim):
    assert hitl_sim.options.allow_real_models is True

@pytest.mark.hitl_sim(allow_real_models=False)
def test_the_marker_wins(hitl_sim):
    hitl_sim.simulate(make_agent("openai:gpt-4o"), "refund A-1")
"""


def test_the_ini_allows_real_models_and_a_marker_overrides_it(tester):
    tester.makeini("[pytest]\nfilterwarnings = error\nhitl_sim_allow_real_models = true\n")
    tester.makepyfile(test_ini=HEADER + INI_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * hitl_sim.models._real.StringModelBlocked: The agent called the real model "
            "'openai:gpt-4o'*"
        ]
    )


FACTORIES = """
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langgraph.checkpoint.memory import InMemorySaver


def ignores_the_script(tools, checkpointer):
    gate = HumanInTheLoopMiddleware(interrupt_on={"send_email": True})
    return create_agent("anthropic:claude-sonnet-4-6", tools=tools, middleware=[gate],
                        checkpointer=checkpointer)


def uses_the_script(model, tools, checkpointer):
    gate = HumanInTheLoopMiddleware(interrupt_on={"send_email": True})
    return create_agent(model, tools=tools, middleware=[gate], checkpointer=checkpointer)
"""

SCENARIO = """
description: A factory agent emails after approval.
agent:
  kind: factory
  factory: "factories:{factory}"
  tools:
    send_email:
      args: {{to: str, body: str}}
      returns: "sent to {{to}}"
model:
  - calls:
      - send_email: {{to: bob, body: hi}}
  - say: Sent.
input: Email bob.
reviewer:
  - approve
expect:
  status: finished
  executed:
    - send_email: {{to: bob, body: hi}}
"""


def test_a_scenario_factory_that_ignores_the_scripted_model_is_named(tester):
    tester.makepyfile(factories=FACTORIES)
    tester.mkdir("scenarios")
    for name in ("ignores_the_script", "uses_the_script"):
        tester.path.joinpath("scenarios", f"{name}.yaml").write_text(SCENARIO.format(factory=name))
    result = tester.runpytest("-v", "-p", "no:cacheprovider", "scenarios")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- run: raised StringModelBlocked: The scenario factory "
            "'factories:ignores_the_script' built its model from the string "
            "'anthropic:claude-sonnet-4-6' and ignored the scripted model the scenario runner "
            "offers it; that real model was called, and hitl-sim blocks real provider models so "
            "that a test never reaches the network.",
            "Fix: build the agent from the factory's `model` argument (def factory(model, "
            "checkpointer, ...)), which gets the scenario's scripted model. To let real models "
            "run, set `hitl_sim_allow_real_models = true` in the pytest ini.",
        ]
    )
