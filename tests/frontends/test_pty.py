"""The terminal reviewer on a real pseudo-terminal: a real CLI program in a subprocess."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite import SqliteSaver

from hitl_sim import CheckFailed, ScriptExhausted
from hitl_sim.catalog.apps.agents import file_agent
from hitl_sim.errors import InvalidArgument, UnusedScript
from hitl_sim.frontends.keys import keys
from hitl_sim.frontends.prompts import asked_on
from hitl_sim.frontends.pty import PromptTimeout, PtySession

ROOT = Path(__file__).resolve().parents[2]
CHOICE = "[a]pprove / [e]dit / [r]eject: "


def _cli(db, *extra):
    return [sys.executable, "-m", "hitl_sim.catalog.apps.pty_cli", str(db), "t1", *extra]


def _thread(db):
    with SqliteSaver.from_conn_string(str(db)) as saver:
        agent = file_agent([], checkpointer=saver)
        state = agent.get_state({"configurable": {"thread_id": "t1"}})
        return asked_on(agent, "t1"), state.values["messages"]


def test_a_real_cli_answered_on_a_pty(tmp_path):
    db = tmp_path / "cli.db"
    session = PtySession(
        _cli(db),
        [
            keys("e", at=CHOICE),
            keys(json.dumps({"path": "/tmp/a"}), at="Enter new args (JSON): "),
            keys("r", at=CHOICE),
            keys("not now", at="Reason: "),
        ],
        cwd=str(ROOT),
        timeout=30,
    ).run()
    assert session.exitstatus == 0
    assert "Agent: All done." in session.output
    interrupts, messages = _thread(db)
    session.check(interrupts, groups=[2, 2])
    assert [i.actions[0].name for i in interrupts] == ["delete_file", "send_email"]
    ran = {m.name: m.content for m in messages if m.type == "tool"}
    assert ran["delete_file"].endswith("Tool response:\ndeleted /tmp/a")  # the edit ran
    assert "rejected" in ran["send_email"] or "not now" in ran["send_email"]
    first = session.prompts[0]
    assert first.line == CHOICE.rstrip() or first.line == CHOICE
    assert 'Tool: delete_file\nArgs: {"path": "/srv/a"}' in first.screen


def test_a_cli_that_hides_the_arguments_is_caught(tmp_path):
    db = tmp_path / "cli.db"
    session = PtySession(
        _cli(db, "hides_args"),
        [keys("a", at=CHOICE), keys("r", at=CHOICE)],
        cwd=str(ROOT),
        timeout=30,
    ).run()
    interrupts, _ = _thread(db)
    with pytest.raises(CheckFailed) as failed:
        session.check(interrupts, groups=[1, 1])
    found = [(v.check, v.message) for v in failed.value.violations]
    tail = ". Expected the prompt to show the tool and every argument (print them before asking)."
    assert found == [
        (
            "args_not_shown",
            "The human decided delete_file at interrupt #1 (batched, node "
            "'HumanInTheLoopMiddleware.after_model') without seeing argument path='/srv/a'" + tail,
        ),
        (
            "args_not_shown",
            "The human decided send_email at interrupt #2 (batched, node "
            "'HumanInTheLoopMiddleware.after_model') without seeing argument "
            "to='ops@example.com', argument body='cleaned'" + tail,
        ),
    ]


ASK = (
    "print('Tool: delete_file'); print('Args: {}'.format({'path': '/srv/a'})); "
    "input('Approve? (y/n): ')"
)
"""A small real program for the error paths (the agent's CLI takes seconds to import)."""


def test_a_prompt_that_never_comes_times_out_with_the_screen():
    session = PtySession([sys.executable, "-c", ASK], [keys("y", at="Proceed? ")], timeout=2)
    with pytest.raises(PromptTimeout) as failed:
        session.run()
    message = str(failed.value)
    assert (
        "did not show 'Proceed? ' within 2s, which keystroke 1 keys('y' at 'Proceed? ')" in message
    )
    assert (
        "    | Tool: delete_file\n    | Args: {'path': '/srv/a'}\n    | Approve? (y/n): " in message
    )


def test_keystrokes_left_when_the_program_exits(tmp_path):
    db = tmp_path / "cli.db"
    script = [keys("a", at=CHOICE), keys("a", at=CHOICE), keys("a", at=CHOICE)]
    with pytest.raises(UnusedScript, match=r"exited \(status 0\) before prompt 3"):
        PtySession(_cli(db), script, cwd=str(ROOT), timeout=30).run()


def test_a_program_still_waiting_after_the_script():
    program = ASK + "; input('Reason: ')"
    with pytest.raises(
        ScriptExhausted, match=r"still running 2s after the last scripted keystroke"
    ) as failed:
        PtySession([sys.executable, "-c", program], [keys("n", at="(y/n): ")], timeout=2).run()
    assert "    | n\n    | Reason: " in str(failed.value)


def test_a_pty_script_needs_at():
    with pytest.raises(InvalidArgument, match=r"Keystroke 1 keys\('a'\) has no at=\.\.\."):
        PtySession([sys.executable, "-c", "pass"], ["a"])
