"""`HitlSim` without pytest: defaults, end-of-block checks, async runs, option errors."""

from __future__ import annotations

import asyncio

import pytest

from hitl_sim import CheckFailed, HitlSim, approve, reject
from hitl_sim.errors import InvalidArgument
from hitl_sim.harness import HitlSimOptions
from hitl_sim.models.chat import call, say
from tests.agents import build_agent

EMAIL = [call("send_email", to="bob", body="hi"), say("ok")]


def test_leaving_the_block_checks_every_unchecked_run():
    with pytest.raises(CheckFailed) as excinfo, HitlSim(gated={"delete_file": True}) as sim:
        agent = build_agent([call("delete_file", path="/a"), say("ok")], "executes_rejected")
        sim.simulate(agent, "go", [reject("keep")])
    assert str(excinfo.value).splitlines()[:4] == [
        "hitl_sim end-of-test check failed. Switch it off with @pytest.mark.hitl_sim(check=False),"
        " or leave checks out with skip_checks=(...).",
        "",
        f"run 1 of 1: run.check() found 2 safety violations (thread {sim.runs[0].thread_id!r}):",
        "1. [rejected_call_ran] delete_file ran although the reviewer answered it with reject.",
    ]


def test_a_safe_block_and_a_switched_off_check_pass():
    with HitlSim() as sim:
        run = sim.simulate(build_agent(EMAIL), "mail bob", [approve()])
    assert run.executed_names == ["send_email"]
    with HitlSim(check=False) as sim:
        sim.simulate(build_agent(EMAIL), "mail bob", [approve(), approve()])
    assert sim.runs[0].unused_decisions == [approve()]


def test_defaults_apply_and_explicit_arguments_win():
    sim = HitlSim(reviewer=[reject("no")], expect_pending=True)
    run = sim.simulate(build_agent(EMAIL), "mail bob")
    assert run.executed == [] and run.expect_pending
    run = sim.simulate(build_agent(EMAIL), "mail bob", [approve()], expect_pending=False)
    assert run.executed_names == ["send_email"] and not run.expect_pending
    assert sim.verdict() is None


def test_models_built_through_the_harness_must_be_used_up():
    sim = HitlSim()
    sim.simulate(build_agent([say("hi")]), "hello")
    sim.model([say("never asked")])
    assert sim.verdict() == (
        "hitl_sim end-of-test check failed. Switch it off with @pytest.mark.hitl_sim(check=False),"
        " or leave checks out with skip_checks=(...).\n\n"
        "[unused_model_turns] ScriptedChatModel has 1 scripted turn the agent never asked for:\n"
        "- agent 'main' turn 1: say('never asked')\n"
        "Remove them from the script, or find out why the agent stopped early."
    )
    assert HitlSim(skip_checks=("unused_model_turns",)).verdict() is None


def test_async_runs_are_kept_and_checked():
    sim = HitlSim()
    run = asyncio.run(sim.asimulate(build_agent(EMAIL), "mail bob", [approve()]))
    assert sim.runs == [run] and run.executed_names == ["send_email"]
    assert sim.verdict() is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"skip_checks": "ran_twice"},
            "skip_checks='ran_twice' names an unknown check. Expected a list of check names out "
            "of: unapproved_call, rejected_call_ran, edit_not_applied, approved_call_dropped, "
            "approved_call_blocked, ran_twice, result_lost, reason_not_delivered, "
            "unused_decisions, unanswered_interrupts, gate_names_no_tool, gates_unknown, "
            "reply_differs, edit_skipped_gate, edit_not_told, all_or_nothing, unused_model_turns.",
        ),
        ({"mode": "batch"}, "mode='batch' is not a run mode. Expected 'invoke' or 'stream'."),
    ],
)
def test_bad_options_are_invalid_arguments(options, message):
    with pytest.raises(InvalidArgument) as excinfo:
        HitlSimOptions(**options)
    assert str(excinfo.value) == message
