"""The in-process terminal reviewer: the app's own prompt, answered by scripted keystrokes."""

from __future__ import annotations

import pytest

from hitl_sim import CheckFailed, ScriptExhausted, simulate
from hitl_sim.catalog.apps import cli_prompt
from hitl_sim.catalog.apps.agents import DELETED, file_agent
from hitl_sim.errors import UnusedScript
from hitl_sim.frontends.keys import keys
from hitl_sim.frontends.terminal import PromptMismatch, Terminal, TerminalReviewer


@pytest.fixture(autouse=True)
def _clean():
    DELETED.clear()


def test_the_correct_prompt_shows_the_call_and_its_choices():
    reviewer = TerminalReviewer(
        cli_prompt.get_user_decision,
        [keys("e", at="[a]pprove / [e]dit / [r]eject"), keys('{"path": "/tmp/a"}', at="JSON")],
    )
    run = simulate(file_agent(), "clean up", reviewer)
    run.check()
    reviewer.check()
    assert DELETED == ["/tmp/a"]
    first = reviewer.prompts[0]
    assert "Tool: delete_file" in first.screen and '"/srv/a"' in first.screen
    assert first.line == "[a]pprove / [e]dit / [r]eject: "
    assert first.typed == "e"
    assert first.at.isoformat() == "2030-01-01T09:00:00+00:00"
    assert [d.payload["type"] for d in run.decisions] == ["edit"]


def test_a_prompt_that_hides_the_arguments_is_caught():
    reviewer = TerminalReviewer(cli_prompt.hides_args, ["a"])
    run = simulate(file_agent(), "clean up", reviewer)
    run.check()
    (found,) = reviewer.violations()
    assert found.check == "args_not_shown"
    assert "without seeing argument path='/srv/a'" in found.message
    with pytest.raises(CheckFailed, match=r"args_not_shown"):
        reviewer.check()


def test_a_prompt_that_hides_allowed_choices_is_caught():
    reviewer = TerminalReviewer(cli_prompt.hides_choices, ["y"])
    simulate(file_agent(), "clean up", reviewer)
    (found,) = reviewer.violations()
    assert found.check == "choices_not_shown"
    assert "never offered 'edit'" in found.message


def test_the_seeds_own_resume_shape_fails_closed():
    reviewer = TerminalReviewer(cli_prompt.seed_shape, ["a"])
    with pytest.raises(CheckFailed) as failed:
        simulate(file_agent(), "clean up", reviewer)
    (found,) = failed.value.violations
    assert found.check == "resume_wrong_shape"
    assert "takes {'decisions': [...]}" in found.message
    assert "sent: {'decision': 'approve'}" in found.evidence
    assert DELETED == []


def test_a_prompt_the_script_does_not_expect_is_named():
    reviewer = TerminalReviewer(cli_prompt.get_user_decision, [keys("a", at="Proceed?")])
    with pytest.raises(PromptMismatch, match=r"does not show 'Proceed\?'"):
        simulate(file_agent(), "clean up", reviewer)


def test_running_out_of_keystrokes_shows_the_screen():
    reviewer = TerminalReviewer(cli_prompt.get_user_decision, ["r"])
    with pytest.raises(ScriptExhausted) as failed:
        simulate(file_agent(), "clean up", reviewer)
    message = str(failed.value)
    assert "asked prompt 2 'Reason: '" in message
    assert "prompt 1 '[a]pprove / [e]dit / [r]eject: ' <- 'r'" in message


def test_keystrokes_left_over_are_reported():
    left = r"1 keystroke\(s\) left unused:\n- keys\('n'\)"
    with pytest.raises(UnusedScript, match=left), Terminal(["y", "n"]):
        input("Proceed? ")


def test_secret_arguments_never_reach_the_records():
    from hitl_sim import call, say

    agent = file_agent(
        [call("send_email", to="ops@example.com", body="hi", api_key="sk-live-123456"), say("ok")]
    )
    reviewer = TerminalReviewer(cli_prompt.get_user_decision, ["a"])
    simulate(agent, "mail ops", reviewer)
    reviewer.check()  # the api_key name is shown; its value counts as masked
    screen = reviewer.prompts[0].screen
    assert "sk-live-123456" not in screen and "sk-live-123456" not in reviewer.terminal.output
    assert 'Args: {"to": "ops@example.com", "body": "hi", "api_key": "***"}' in screen


def test_keystroke_latency_moves_the_frozen_clock():
    from datetime import timedelta

    reviewer = TerminalReviewer(
        cli_prompt.get_user_decision, [keys("a", after=timedelta(minutes=5))], by="ann"
    )
    run = simulate(file_agent(), "clean up", reviewer)
    (decided,) = run.decisions
    assert decided.at.isoformat() == "2030-01-01T09:05:00+00:00"
    assert decided.decision.by == "ann"


def test_the_prompt_function_must_be_callable():
    from hitl_sim.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="takes the app's prompt function first"):
        TerminalReviewer("get_user_decision", ["a"])


def test_unused_keystrokes_of_a_reviewer_are_a_violation():
    reviewer = TerminalReviewer(cli_prompt.get_user_decision, ["a", "a"])
    simulate(file_agent(), "clean up", reviewer)
    (found,) = reviewer.violations()
    assert (found.check, found.evidence) == ("unused_keys", ("keys('a')",))


def test_the_seeds_single_yes_no_for_a_batch_fails_closed():
    from hitl_sim import call, say

    agent = file_agent(
        [
            [
                call("delete_file", path="/srv/a"),
                call("send_email", to="ops@example.com", body="x"),
            ],
            say("ok"),
        ]
    )
    reviewer = TerminalReviewer(cli_prompt.yes_no, ["y"])
    with pytest.raises(CheckFailed) as failed:
        simulate(agent, "clean up and tell ops", reviewer)
    (found,) = failed.value.violations
    assert found.message == (
        "The app answered interrupt #1 (batched, node 'HumanInTheLoopMiddleware.after_model') "
        "with a resume value the middleware cannot take: interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model') has 2 action request(s); the app sent 1 "
        "decision(s)."
    )
    assert DELETED == []
