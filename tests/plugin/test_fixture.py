"""The `hitl_sim` fixture and marker, run in pytester sessions on real agents."""

from __future__ import annotations

import pytest

CONFTEST = """
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langgraph.checkpoint.memory import InMemorySaver

from tests.agents import delete_file, send_email


def make_agent(model, middleware=HumanInTheLoopMiddleware):
    gate = middleware(interrupt_on={"send_email": True, "delete_file": True})
    return create_agent(
        model, tools=[send_email, delete_file], middleware=[gate], checkpointer=InMemorySaver()
    )
"""

HEADER = """
import pytest
from conftest import make_agent
from hitl_sim.catalog.broken_agents import ExecutesRejectedCalls
from hitl_sim import Reviewer, approve, call, reject, say
"""


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


# Each pytester session costs seconds, so each one below runs several small tests at once; the
# verbose outcome line of every test is pinned, then the messages of the ones that fail.

TEARDOWN_TESTS = """
def test_safe(hitl_sim):
    model = hitl_sim.model([call("delete_file", path="/srv/a"), say("kept it")])
    run = hitl_sim.simulate(make_agent(model), "clean up", [reject("Keep it")])
    assert run.executed_names == []
    assert hitl_sim.runs == [run]

def test_unsafe(hitl_sim):
    model = hitl_sim.model([call("delete_file", path="/srv/a"), say("ok")])
    agent = make_agent(model, ExecutesRejectedCalls)
    hitl_sim.simulate(agent, "clean up", [reject("Keep it")], gated={"delete_file": True})

@pytest.mark.hitl_sim(check=False)
def test_unsafe_check_off(hitl_sim):
    model = hitl_sim.model([call("delete_file", path="/srv/a"), say("ok")])
    run = hitl_sim.simulate(make_agent(model, ExecutesRejectedCalls), "go", [reject("Keep it")])
    assert run.executed_names == ["delete_file"]

@pytest.mark.hitl_sim(skip_checks=("rejected_call_ran", "reason_not_delivered"))
def test_unsafe_checks_skipped(hitl_sim):
    model = hitl_sim.model([call("delete_file", path="/srv/a"), say("ok")])
    run = hitl_sim.simulate(make_agent(model, ExecutesRejectedCalls), "go", [reject("Keep it")])
    assert run.executed_names == ["delete_file"]

def test_checked_explicitly(hitl_sim):
    model = hitl_sim.model([call("send_email", to="bob", body="hi"), say("ok")])
    run = hitl_sim.simulate(make_agent(model), "mail bob", [approve(), approve()])
    run.check(unused_decisions=False)

def test_fails_itself(hitl_sim):
    model = hitl_sim.model([call("send_email", to="bob", body="hi"), say("ok")])
    hitl_sim.simulate(make_agent(model), "mail bob", [approve(), approve()])
    assert False, "the test's own failure"

def test_left_pending(hitl_sim):
    model = hitl_sim.model([call("send_email", to="bob", body="hi")])
    run = hitl_sim.simulate(make_agent(model), "go", Reviewer.unavailable())
    assert run.status == "pending"

@pytest.mark.hitl_sim(expect_pending=True)
def test_expected_pending(hitl_sim):
    model = hitl_sim.model([call("send_email", to="bob", body="hi")])
    run = hitl_sim.simulate(make_agent(model), "go", Reviewer.unavailable())
    assert run.status == "pending"

def test_model_left_over(hitl_sim):
    model = hitl_sim.model([say("done"), say("never asked")])
    hitl_sim.simulate(make_agent(model), "hi")
"""


def test_teardown_checks_every_run_unless_switched_off(tester):
    tester.makepyfile(test_teardown=HEADER + TEARDOWN_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=8, failed=1, errors=3)
    result.stdout.fnmatch_lines(
        [
            "test_teardown.py::test_safe PASSED*",
            "test_teardown.py::test_unsafe PASSED*",
            "test_teardown.py::test_unsafe ERROR*",
            "test_teardown.py::test_unsafe_check_off PASSED*",
            "test_teardown.py::test_unsafe_checks_skipped PASSED*",
            "test_teardown.py::test_checked_explicitly PASSED*",
            "test_teardown.py::test_fails_itself FAILED*",
            "test_teardown.py::test_left_pending PASSED*",
            "test_teardown.py::test_left_pending ERROR*",
            "test_teardown.py::test_expected_pending PASSED*",
            "test_teardown.py::test_model_left_over PASSED*",
            "test_teardown.py::test_model_left_over ERROR*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unsafe*",
            "hitl_sim end-of-test check failed. Switch it off with "
            "@pytest.mark.hitl_sim(check=False), or leave checks out with skip_checks=(...).",
            "",
            "run 1 of 1: run.check() found 2 safety violations (thread *):",
            "1. [[]rejected_call_ran[]] delete_file ran although the reviewer answered it with "
            "reject.",
            "       decided: reject('Keep it') for delete_file(path='/srv/a') at interrupt #1 "
            "(batched, node 'ExecutesRejectedCalls.after_model') (resume 1)",
            "       ran: delete_file(path='/srv/a') (call 'call_1', resume 1)",
            "2. [[]reason_not_delivered[]] The model's next request (turn 2) does not contain the "
            "reviewer's reject message 'Keep it'.",
            "*ERROR at teardown of test_left_pending*",
            "*1. [[]unanswered_interrupts[]] The run ended with 1 interrupt(s) pending. Answer "
            "them, or pass expect_pending=True to simulate() when the reviewer is meant to be "
            "unavailable.",
            "       pending: interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model'): "
            "send_email(to='bob', body='hi')",
            "*ERROR at teardown of test_model_left_over*",
            "[[]unused_model_turns[]] ScriptedChatModel has 1 scripted turn the agent never asked "
            "for:",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR at teardown of test_fails_itself*")
    result.stdout.no_fnmatch_line("*Traceback*")


MARKER_TESTS = """
from hitl_sim import ScriptedChatModel

pytestmark = pytest.mark.hitl_sim(gated={"send_email": True}, check=False)
FAKE = ScriptedChatModel([call("send_email", to="bob", body="hi"), say("sent")])


@pytest.mark.hitl_sim(check=True, mode="stream")
class TestMerged:
    @pytest.mark.hitl_sim(max_resumes=3)
    def test_nearest_wins(self, hitl_sim):
        options = hitl_sim.options
        assert (options.gated, options.check, options.mode, options.max_resumes) == (
            {"send_email": True}, True, "stream", 3
        )


@pytest.mark.hitl_sim(reviewer=[approve(by="alice")], clock="2031-05-01T08:00:00+00:00")
def test_defaults_reach_simulate(hitl_sim):
    model = hitl_sim.model([call("send_email", to="bob", body="hi"), say("ok")])
    run = hitl_sim.simulate(make_agent(model), "mail bob")
    (record,) = run.decisions
    assert record.decision.by == "alice"
    assert record.at.isoformat() == "2031-05-01T08:00:00+00:00"


def test_marked_gets_the_fixture(request):
    assert "hitl_sim" in request.fixturenames
    assert request.getfixturevalue("hitl_sim").options.check is False


@pytest.mark.hitl_sim(models=FAKE)
def test_model_strings_resolve_to_the_fake(hitl_sim):
    run = hitl_sim.simulate(make_agent("openai:gpt-4o"), "mail bob", [approve()])
    assert run.executed_names == ["send_email"]


@pytest.mark.hitl_sim(models=lambda: ScriptedChatModel([say("hi"), say("left over")]), check=True)
def test_a_model_factory_is_called_per_test_and_its_script_checked(hitl_sim):
    assert hitl_sim.simulate(make_agent("openai:gpt-4o"), "hello").status == "finished"


@pytest.mark.hitl_sim(reviewer=Reviewer([approve()]), check=True)
class TestSharedReviewer:
    def test_first(self, hitl_sim):
        model = hitl_sim.model([call("send_email", to="bob", body="hi"), say("ok")])
        assert hitl_sim.simulate(make_agent(model), "mail bob").executed_names == ["send_email"]

    def test_second_gets_a_fresh_copy(self, hitl_sim):
        model = hitl_sim.model([call("send_email", to="eve", body="hi"), say("ok")])
        assert hitl_sim.simulate(make_agent(model), "mail eve").executed_names == ["send_email"]


@pytest.mark.hitl_sim(chek=False)
def test_unknown_option(hitl_sim):
    pass


@pytest.mark.hitl_sim(False)
def test_positional_option(hitl_sim):
    pass


@pytest.mark.hitl_sim(skip_checks=["ran_thrice"])
def test_unknown_check(hitl_sim):
    pass
"""

UNMARKED_TEST = """
def test_unmarked(request):
    assert "hitl_sim" not in request.fixturenames
"""


def test_the_marker_sets_defaults_and_reports_misuse_at_the_test(tester):
    tester.makepyfile(test_marker=HEADER + MARKER_TESTS, test_unmarked=UNMARKED_TEST)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=8, errors=4)
    signature = "Signature: hitl_sim(*, check=True, *"
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_model_factory_is_called_per_test_and_its_script_checked*",
            "[[]unused_model_turns[]] ScriptedChatModel has 1 scripted turn the agent never asked "
            "for:",
            "*ERROR at setup of test_unknown_option*",
            f"E * TypeError: @pytest.mark.hitl_sim got unknown option 'chek'. {signature}",
            "*ERROR at setup of test_positional_option*",
            "E * TypeError: @pytest.mark.hitl_sim takes keyword arguments only, got positional "
            f"(False,). {signature}",
            "*ERROR at setup of test_unknown_check*",
            "E * hitl_sim.errors.InvalidArgument: skip_checks=[[]'ran_thrice'[]] names an unknown "
            "check. Expected a list of check names out of: unapproved_call, *",
        ]
    )


def test_the_marker_is_registered_with_its_signature(tester):
    result = tester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.hitl_sim(*, check=True, skip_checks=(), reviewer=None, gated=None, "
            "mode='invoke', max_resumes=25, clock=True, expect_pending=False, models=None, "
            "allow_real_models=False, expect_error=None, context=None): defaults for the "
            "hitl_sim fixture in this test (nearest scope wins); a marked test gets the fixture "
            "automatically."
        ]
    )
