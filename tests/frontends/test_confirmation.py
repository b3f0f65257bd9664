"""Confirmation levels: a real agent whose tools confirm in the terminal, answered with typos,
variants and empty answers."""

from __future__ import annotations

import pytest

from hitl_sim import CheckFailed, call, say, simulate
from hitl_sim.catalog.apps import confirm_app
from hitl_sim.errors import InvalidArgument
from hitl_sim.frontends.confirmation import Confirmations
from hitl_sim.frontends.keys import keys
from hitl_sim.frontends.terminal import Terminal


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    confirm_app.BUGS.clear()
    confirm_app.DONE.clear()
    yield
    confirm_app.BUGS.clear()


def _run(monkeypatch, turns, script, bugs=()):
    confirm_app.BUGS.update(bugs)
    terminal = Terminal(script)
    levels = Confirmations(terminal)
    monkeypatch.setattr(
        confirm_app,
        "perform_deletion",
        levels.guard(confirm_app.perform_deletion, "verify", phrase="DELETE {resource_id}"),
    )
    monkeypatch.setattr(
        confirm_app, "restart_service", levels.guard(confirm_app.restart_service, "confirm")
    )
    with terminal:
        run = simulate(confirm_app.agent(turns), "go", [])
    run.check()
    return levels


DELETE = [call("delete_resource", resource_id="db-1"), say("ok")]
RESTART = [call("restart", name="api"), say("ok")]


def test_the_exact_phrase_deletes(monkeypatch):
    levels = _run(monkeypatch, DELETE, [keys("DELETE db-1", at="> ")])
    levels.check()
    assert confirm_app.DONE == ["deleted db-1"]
    (guarded,) = levels.calls
    assert "Type 'DELETE db-1' to confirm:" in guarded.prompts[0].screen


@pytest.mark.parametrize("typed", ["delete db-1", "DELETE db-1 ", "DELETE", "DELETE db-"])
def test_a_near_miss_is_refused_by_the_correct_app(monkeypatch, typed):
    levels = _run(monkeypatch, DELETE, [typed])
    levels.check()
    assert confirm_app.DONE == []


@pytest.mark.parametrize(
    ("bug", "typed"),
    [
        ("loose_verify", "delete db-1"),
        ("loose_verify", " DELETE db-1 "),
        ("prefix_verify", "DELETE"),
    ],
)
def test_a_loose_phrase_comparison_is_caught(monkeypatch, bug, typed):
    levels = _run(monkeypatch, DELETE, [typed], bugs={bug})
    assert confirm_app.DONE == ["deleted db-1"]
    with pytest.raises(CheckFailed) as failed:
        levels.check()
    (found,) = failed.value.violations
    assert found.check == "near_miss_accepted"
    assert found.message == (
        f"perform_deletion(resource_id='db-1') ran although {typed!r} was typed and the phrase is "
        "'DELETE db-1': the app compares loosely. Expected an exact, case-sensitive match "
        "(`response == phrase`)."
    )


@pytest.mark.parametrize(
    ("typed", "ran"),
    [("Y", True), ("yes", True), (" YES ", True), ("", False), ("n", False), ("yep", False)],
)
def test_confirm_variants_on_the_correct_app(monkeypatch, typed, ran):
    levels = _run(monkeypatch, RESTART, [keys(typed, at="Proceed? (y/n): ")])
    levels.check()
    assert (["restarted api"] if ran else []) == confirm_app.DONE


def test_an_empty_answer_taken_as_yes_is_caught(monkeypatch):
    levels = _run(monkeypatch, RESTART, [""], bugs={"empty_yes"})
    (found,) = levels.violations()
    assert found.check == "confirm_accepted_non_yes"
    assert "ran on the answer '', which is not a yes ('y', 'yes')" in found.message


def test_info_where_it_should_ask_is_caught(monkeypatch):
    levels = _run(monkeypatch, DELETE, [], bugs={"info_delete"})
    (found,) = levels.violations()
    assert found.check == "confirmation_not_asked"
    assert found.message.startswith(
        "perform_deletion(resource_id='db-1') ran at level VERIFY without asking"
    )


def test_guard_arguments_are_checked():
    levels = Confirmations(Terminal([]))
    with pytest.raises(InvalidArgument, match="phrase= exactly for level 'verify'"):
        levels.guard(confirm_app.perform_deletion, "verify")
    with pytest.raises(InvalidArgument, match="is not a level"):
        levels.guard(confirm_app.perform_deletion, "maybe")
    with pytest.raises(InvalidArgument, match="takes the Terminal"):
        Confirmations(["y"])  # type: ignore[arg-type]


def test_a_verify_prompt_hiding_the_phrase_and_details_is_caught(monkeypatch):
    levels = _run(monkeypatch, DELETE, ["DELETE db-1"], bugs={"terse_verify"})
    assert [(v.check, v.message) for v in levels.violations()] == [
        (
            "phrase_not_shown",
            "The VERIFY prompt for perform_deletion(resource_id='db-1') never showed the phrase "
            "'DELETE db-1' to type.",
        ),
        (
            "details_not_shown",
            "The VERIFY prompt for perform_deletion never showed resource_id='db-1'.",
        ),
    ]
