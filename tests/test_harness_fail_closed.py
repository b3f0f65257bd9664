"""`HitlSim` as a context manager fails closed (issue 12, classes 1 and 2): a failed run is a
`CheckFailed` on leaving the block unless expected or inspected; real models are blocked. The
runs the module functions (`simulate`, `resume`, ...) make in the block are checked too."""

from __future__ import annotations

import asyncio
import threading

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import (
    CheckFailed,
    HitlSim,
    Reviewer,
    ScriptedChatModel,
    approve,
    asimulate,
    call,
    resume,
    say,
    simulate,
)
from hitl_sim.errors import InvalidArgument
from hitl_sim.harness import HitlSimOptions
from hitl_sim.models._real import StringModelBlocked


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return {"a": "1"}[key]


def agent(model, mode="batched"):
    gate = HumanInTheLoopMiddleware(interrupt_on={"lookup": True}, interrupt_mode=mode)
    return create_agent(model, tools=[lookup], middleware=[gate], checkpointer=InMemorySaver())


CRASH = [call("lookup", key="zz"), say("done")]


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_leaving_the_block_with_a_failed_run_raises(mode):
    with pytest.raises(CheckFailed) as excinfo, HitlSim() as sim:
        sim.simulate(agent(sim.model(CRASH), mode), "look up zz", [approve()])
    lines = str(excinfo.value).splitlines()
    assert lines[:4] == [
        "hitl_sim end-of-test check failed: a run did not end as the test said.",
        "",
        f"Run 1 of 1 (thread {sim.runs[0].thread_id!r}) failed at resume 1: node 'tools' raised "
        f"KeyError: 'zz' (at {lines[2].split('(at ')[1]}",
        "The test did not say it expects an error, and did not look at run.error.",
    ]
    line = lookup.func.__code__.co_firstlineno + 3  # the lookup's `return` line
    assert lines[2].endswith(f"test_harness_fail_closed.py:{line} in lookup).")


def test_an_expected_or_inspected_failure_passes_and_hitl_reads_do_not_count():
    with HitlSim() as sim:
        sim.simulate(agent(sim.model(CRASH)), "look up zz", [approve()], expect_error=KeyError)
    with HitlSim(expect_error=LookupError) as sim:  # a base class matches, as in except
        sim.simulate(agent(sim.model(CRASH)), "look up zz", [approve()])
    sim = HitlSim()
    run = sim.simulate(agent(sim.model(CRASH)), "look up zz", [approve()])
    assert run.status == "failed" and not run.error_inspected  # status alone does not count
    run.timeline(), run.audit, run.check(unused_decisions=False)  # nor do hitl-sim's own reads
    assert not run.error_inspected and sim.verdict() is not None
    assert run.error.type == "KeyError"
    assert run.error_inspected and sim.verdict() is None


def test_a_run_may_override_the_default_expectation():
    with HitlSim(expect_error=KeyError) as sim:
        model = sim.model([call("lookup", key="a"), say("1")])
        sim.simulate(agent(model), "look up a", [approve()], expect_error=None)


@pytest.mark.parametrize("given", ["KeyError", KeyError("x"), (), (KeyError, 3)])
def test_expect_error_takes_exception_types(given):
    message = (
        f"expect_error={given!r} is not an exception type. Expected an exception class or a "
        "tuple of them, e.g. expect_error=KeyError, or None."
    )
    with pytest.raises(InvalidArgument) as excinfo:
        HitlSimOptions(expect_error=given)
    assert str(excinfo.value) == message
    with pytest.raises(InvalidArgument):
        HitlSim().simulate(agent(say("x")), "hi", expect_error=given)


def test_real_models_are_blocked_in_the_block_unless_allowed():
    with pytest.raises(StringModelBlocked) as excinfo, HitlSim() as sim:
        sim.simulate(agent("anthropic:claude-sonnet-4-6"), "look up a")
    assert excinfo.value.model == "anthropic:claude-sonnet-4-6"
    assert str(excinfo.value).startswith(
        "The agent called the real model 'anthropic:claude-sonnet-4-6' (built from a model "
        "string), and the hitl_sim fixture blocks real provider models"
    )
    with HitlSim(allow_real_models=True) as sim:
        assert sim.options.allow_real_models
        agent("anthropic:claude-sonnet-4-6")  # the real provider model, built (not called)


@tool
def unlock(password: int) -> str:
    """Unlock with a PIN."""
    raise ValueError(f"PIN {password} refused")


def test_the_verdict_masks_the_secrets_of_its_runs_outside_pytest():
    gate = HumanInTheLoopMiddleware(interrupt_on={"unlock": True})
    with pytest.raises(CheckFailed) as excinfo, HitlSim() as sim:
        model = sim.model([call("unlock", password=48213977), say("done")])
        graph = create_agent(model, tools=[unlock], middleware=[gate], checkpointer=InMemorySaver())
        sim.simulate(graph, "unlock", [approve()])

    assert "ValueError: PIN *** refused" in str(excinfo.value)
    assert "48213977" not in str(excinfo.value)


# -- runs of the module functions made while the block is active -----------------------------

FOUND = [call("lookup", key="a"), say("1")]


def test_a_plain_run_in_the_block_is_checked_and_a_harness_run_counted_once():
    with pytest.raises(CheckFailed) as excinfo, HitlSim() as sim:
        own = sim.simulate(agent(sim.model(FOUND)), "look up a", [approve()])
        run = simulate(agent(sim.model(CRASH)), "look up zz", [approve()])
    assert sim.runs == [own, run]
    lines = str(excinfo.value).splitlines()
    assert lines[2].startswith(
        f"Run 2 of 2 (thread {run.thread_id!r}, made by a module function) failed at resume 1: "
        "node 'tools' raised KeyError: 'zz'"
    )
    assert "Run 1 of 2" not in str(excinfo.value)


def test_plain_runs_in_the_block_keep_their_options_and_pass_when_safe():
    with HitlSim(expect_pending=True, clock="2031-05-01T08:00:00+00:00") as sim:
        graph = agent(sim.model(FOUND))
        run = simulate(graph, "look up a", Reviewer.unavailable())
        assert run.status == "pending" and not run.expect_pending  # not the block's default
        assert resume(graph, run, [approve()]) is run  # the same record: kept once, as it ends
        inspected = simulate(agent(sim.model(CRASH)), "look up zz", [approve()])
        assert inspected.error.type == "KeyError"
    assert sim.runs == [run, inspected]
    assert run.status == "finished" and run.decisions[0].at.year == 2030


def test_async_and_worker_thread_runs_in_the_block_are_checked():
    with pytest.raises(CheckFailed), HitlSim() as sim:
        asyncio.run(asimulate(agent(sim.model(CRASH)), "look up zz", [approve()]))
    assert [run.status for run in sim.runs] == ["failed"]
    with pytest.raises(CheckFailed), HitlSim() as sim:  # a thread does not inherit the context
        graph = agent(sim.model(CRASH))
        worker = threading.Thread(target=simulate, args=(graph, "zz", [approve()]))
        worker.start()
        worker.join()
    assert [run.status for run in sim.runs] == ["failed"]


def test_a_nested_block_keeps_its_own_runs_and_an_ended_one_none():
    with HitlSim() as outer:
        with HitlSim() as inner:
            first = simulate(agent(ScriptedChatModel(FOUND)), "look up a", [approve()])
        second = simulate(agent(ScriptedChatModel(FOUND)), "look up a", [approve()])
    simulate(agent(ScriptedChatModel(CRASH)), "look up zz", [approve()])  # no block: unchecked
    assert (inner.runs, outer.runs) == ([first], [second])
