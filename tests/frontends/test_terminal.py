"""The in-process terminal reviewer: the app's own prompt, answered by scripted keystrokes."""

from __future__ import annotations

import json

import pytest

from hitl_sim import CheckFailed, ScriptExhausted, simulate
from hitl_sim.errors import UnusedScript
from hitl_sim.frontends.keys import keys
from hitl_sim.frontends.terminal import PromptMismatch, Terminal, TerminalReviewer
from tests.frontends.apps import cli_prompt
from tests.frontends.apps.agents import DELETED, file_agent


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
    agent = file_agent(
        [
            [
                call_email := __import__("hitl_sim").call(
                    "send_email", to="ops@example.com", body="hi", api_key="sk-live-123456"
                )
            ],
            __import__("hitl_sim").say("sent"),
        ]
    )
    del call_email
    reviewer = TerminalReviewer(cli_prompt.get_user_decision, ["a"])
    simulate(agent, "mail ops", reviewer)
    reviewer.check()  # the api_key name is shown; its value counts as masked
    assert "sk-live-123456" not in reviewer.prompts[0].screen
    assert '"api_key": "***"' in reviewer.prompts[0].screen
    assert json.loads(reviewer.prompts[0].screen.split("Args: ")[1].split("\n")[0])["to"]
