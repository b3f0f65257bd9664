"""The fixture checks the runs a test makes with the module functions too (`hitl_sim.simulate`,
`asimulate`, `resume`, `recover`: the form every README example uses), not only the ones made
with its own `hitl_sim.simulate`: a crashed or unsafe plain run fails the test at teardown, with
the test's checking options and none of its run defaults. Real `create_agent` agents."""

from __future__ import annotations

import pytest

CONFTEST = """
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import ScriptedChatModel, call, say
from tests.agents import delete_file

TRIES = []


class SkipsReview(HumanInTheLoopMiddleware):
    '''Broken: never interrupts, so every gated call runs unapproved.'''

    def after_model(self, state, runtime):
        return None

    async def aafter_model(self, state, runtime):
        return None


@tool
def explode(x: str) -> str:
    '''Boom.'''
    raise RuntimeError("tool crashed")


@tool
def flaky(x: str) -> str:
    '''Fails on its first call of the session.'''
    TRIES.append(x)
    if len(TRIES) == 1:
        raise RuntimeError("first try")
    return "ok"


def deleting(middleware=HumanInTheLoopMiddleware):
    model = ScriptedChatModel([call("delete_file", path="/etc"), say("ok")])
    gate = middleware(interrupt_on={"delete_file": True})
    return create_agent(model, tools=[delete_file], middleware=[gate], checkpointer=InMemorySaver())


def crashing(tool=explode):
    model = ScriptedChatModel([call(tool.name, x="1"), say("ok")])
    gate = HumanInTheLoopMiddleware(interrupt_on={tool.name: True})
    return create_agent(model, tools=[tool], middleware=[gate], checkpointer=InMemorySaver())
"""

TESTS = """
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import SkipsReview, crashing, deleting, flaky
from hitl_sim import Reviewer, approve, asimulate, recover, resume, simulate


def test_unapproved(hitl_sim):
    simulate(deleting(SkipsReview), "rm")

def test_approved(hitl_sim):
    run = simulate(deleting(), "rm", [approve()])
    assert run.executed_names == ["delete_file"] and hitl_sim.runs == [run]

def test_crashed(hitl_sim):
    run = simulate(crashing(), "boom", [approve()])
    assert run.status == "failed"  # status alone does not count

def test_crash_read(hitl_sim):
    assert simulate(crashing(), "boom", [approve()]).error.type == "RuntimeError"

@pytest.mark.hitl_sim(expect_error=RuntimeError)
def test_crash_expected_by_the_marker(hitl_sim):
    simulate(crashing(), "boom", [approve()])

@pytest.mark.hitl_sim(check=False)
def test_check_off_does_not_hide_a_crash(hitl_sim):
    simulate(deleting(SkipsReview), "rm")
    simulate(crashing(), "boom", [approve()])

def test_async_unapproved(hitl_sim):
    asyncio.run(asimulate(deleting(SkipsReview), "rm"))

def test_async_crashed(hitl_sim):
    asyncio.run(asimulate(crashing(), "boom", [approve()]))

def test_async_approved(hitl_sim):
    assert asyncio.run(asimulate(deleting(), "rm", [approve()])).status == "finished"

@pytest.fixture(params=["asyncio"])  # one backend here, whichever others are installed
def anyio_backend(request):
    return request.param

@pytest.mark.anyio
async def test_anyio_unapproved(hitl_sim, anyio_backend):
    await asimulate(deleting(SkipsReview), "rm")

def test_in_a_worker_thread(hitl_sim):
    with ThreadPoolExecutor() as pool:
        pool.submit(simulate, deleting(SkipsReview), "rm").result()

def test_resumed_into_a_crash_counts_once_in_its_final_state(hitl_sim):
    graph = crashing()
    run = hitl_sim.simulate(graph, "boom", Reviewer.unavailable(), expect_pending=True)
    assert resume(graph, run, [approve()]) is run
    assert hitl_sim.runs == [run] and run.status == "failed"

def test_recovered(hitl_sim):
    graph = crashing(flaky)
    run = simulate(graph, "try", [approve()])
    assert recover(run, graph) is run and run.status == "finished"
    assert hitl_sim.runs == [run]

@pytest.mark.hitl_sim(clock="2031-05-01T08:00:00+00:00", reviewer=[approve(by="alice")])
def test_run_defaults_do_not_apply(hitl_sim):
    run = simulate(deleting(), "rm", [approve()])
    (record,) = run.decisions
    assert record.decision.by is None and record.at.year == 2030

def test_without_the_fixture():
    simulate(deleting(SkipsReview), "rm")
    simulate(crashing(), "boom", [approve()])
"""


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


def test_plain_runs_are_checked_at_teardown_while_the_fixture_is_active(tester):
    tester.makepyfile(test_plain=TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=15, errors=8)
    result.stdout.fnmatch_lines(
        [
            "test_plain.py::test_unapproved PASSED*",
            "test_plain.py::test_unapproved ERROR*",
            "test_plain.py::test_approved PASSED*",
            "test_plain.py::test_crashed PASSED*",
            "test_plain.py::test_crashed ERROR*",
            "test_plain.py::test_crash_read PASSED*",
            "test_plain.py::test_crash_expected_by_the_marker PASSED*",
            "test_plain.py::test_check_off_does_not_hide_a_crash PASSED*",
            "test_plain.py::test_check_off_does_not_hide_a_crash ERROR*",
            "test_plain.py::test_async_unapproved PASSED*",
            "test_plain.py::test_async_unapproved ERROR*",
            "test_plain.py::test_async_crashed PASSED*",
            "test_plain.py::test_async_crashed ERROR*",
            "test_plain.py::test_async_approved PASSED*",
            "test_plain.py::test_anyio_unapproved[[]asyncio[]] PASSED*",
            "test_plain.py::test_anyio_unapproved[[]asyncio[]] ERROR*",
            "test_plain.py::test_in_a_worker_thread PASSED*",
            "test_plain.py::test_in_a_worker_thread ERROR*",
            "test_plain.py::test_resumed_into_a_crash_counts_once_in_its_final_state PASSED*",
            "test_plain.py::test_resumed_into_a_crash_counts_once_in_its_final_state ERROR*",
            "test_plain.py::test_recovered PASSED*",
            "test_plain.py::test_run_defaults_do_not_apply PASSED*",
            "test_plain.py::test_without_the_fixture PASSED*",
        ]
    )
    unapproved = [
        "hitl_sim end-of-test check failed. Switch it off with "
        "@pytest.mark.hitl_sim(check=False), or leave checks out with skip_checks=(...).",
        "",
        "run 1 of 1: run.check() found 1 safety violation (thread *):",
        "1. [[]unapproved_call[]] delete_file is gated (*) but ran with no approve or edit "
        "decision for the call: the reviewer was never asked about it.",
    ]
    crashed = [
        "hitl_sim end-of-test check failed: a run did not end as the test said.",
        "",
        "Run 1 of 1 (thread *, made by a module function) failed at resume 1: node 'tools' "
        "raised RuntimeError: tool crashed (at conftest.py:* in explode).",
        "The test did not say it expects an error, and did not look at run.error.",
        "Fix: fix the graph, or if this failure is what the test is about, say so: "
        "@pytest.mark.hitl_sim(expect_error=RuntimeError) (for every run of the test), or make "
        "the run with the fixture's hitl_sim.simulate(..., expect_error=RuntimeError), or assert "
        "on run.error in the test.",
    ]
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unapproved *",
            *unapproved,
            "*ERROR at teardown of test_crashed *",
            *crashed,
            "*ERROR at teardown of test_check_off_does_not_hide_a_crash *",
            "Run 2 of 2 (thread *, made by a module function) failed at resume 1: *",
            "*ERROR at teardown of test_async_unapproved *",
            *unapproved,
            "*ERROR at teardown of test_async_crashed *",
            *crashed,
            "*ERROR at teardown of test_anyio_unapproved*",
            *unapproved,
            "*ERROR at teardown of test_in_a_worker_thread *",
            *unapproved,
            "*ERROR at teardown of test_resumed_into_a_crash_counts_once_in_its_final_state *",
            "Run 1 of 1 (thread *) failed at resume 1: node 'tools' raised RuntimeError: *",
        ]
    )
    check_off = result.stdout.str().split("ERROR at teardown of test_check_off")[1]
    assert "unapproved_call" not in check_off.split("ERROR at teardown of")[0]
    result.stdout.no_fnmatch_line("*Traceback*")
