"""The pure pieces: reading an app's resume value, and keystroke scripts (every invalid
argument in one place)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hitl_sim.errors import InvalidArgument, InvalidValue
from hitl_sim.frontends.answers import read_answers
from hitl_sim.frontends.keys import keys, script_of
from hitl_sim.interrupts import ActionRequest, PendingInterrupt

ACTION = ActionRequest("delete_file", {"path": "/srv/a"}, None, ("approve", "reject"))
BATCHED = PendingInterrupt("i1", "batched", {}, "hitl", (ACTION, ACTION), seq=1)
PER_CALL = PendingInterrupt("i2", "per_call", {}, "hitl", (ACTION,), seq=2)


def test_a_well_formed_batched_answer():
    answers = read_answers({"decisions": [{"type": "approve"}, {"type": "reject"}]}, [BATCHED])
    assert answers.problems == ()
    assert answers.per_interrupt == ((BATCHED, ({"type": "approve"}, {"type": "reject"})),)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            {"decisions": [{"type": "approve"}]},
            "has 2 action request(s); the app sent 1 decision(s)",
        ),
        (
            {"decisions": ["approve", {"type": "approve"}]},
            "the decision for delete_file is 'approve', not a dict",
        ),
        (
            {"decisions": [{"type": "ok"}, {"type": "approve"}]},
            "has type 'ok'; the middleware knows",
        ),
        (
            {"decisions": [{"type": "edit"}, {"type": "approve"}]},
            "is 'edit'; allowed: approve, reject",
        ),
        ({"approved": True}, "takes {'decisions': [...]}"),
    ],
)
def test_every_misfit_is_named(value, problem):
    (found,) = read_answers(value, [BATCHED]).problems
    assert problem in found


def test_per_call_and_keyed_answers():
    assert read_answers({"type": "approve"}, [PER_CALL]).problems == ()
    keyed = read_answers(
        {"i1": {"decisions": [{"type": "approve"}] * 2}, "i2": {"type": "reject"}},
        [BATCHED, PER_CALL],
    )
    assert keyed.problems == ()
    assert [i.id for i, _ in keyed.per_interrupt] == ["i1", "i2"]
    (found,) = read_answers({"type": "approve"}, [BATCHED, PER_CALL]).problems
    assert found.startswith("2 interrupts are pending; a resume must map each interrupt id")
    assert read_answers({"type": "approve"}, []).problems == ("nothing is pending on the thread",)


def test_an_edit_needs_its_edited_action():
    edit = ActionRequest("delete_file", {"path": "/srv/a"}, None, ("edit",))
    pending = PendingInterrupt("i3", "per_call", {}, "hitl", (edit,), seq=3)
    (found,) = read_answers({"type": "edit", "args": {"path": "/x"}}, [pending]).problems
    assert "has no edited_action" in found


def test_keys():
    typed = keys("a", at="[a]pprove", after=timedelta(minutes=5))
    assert typed.matches("[a]pprove / [r]eject: ") and not typed.matches("Proceed?")
    assert typed.describe() == "keys('a' at '[a]pprove')"
    assert keys("hunter2", secret=True).describe() == "keys('***')"
    assert keys("x", at=re.compile(r"\(y/n\)")).matches("Proceed? (y/n)")
    assert script_of(["a", typed], "here") == [keys("a"), typed]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: keys(1), InvalidArgument, "keys() types a str, got 1 (int)"),
        (lambda: keys("a\nb"), InvalidValue, "holds a line break; one Keys answers one prompt"),
        (lambda: keys("a", at=3), InvalidArgument, "takes a str or a compiled regex"),
        (lambda: keys("a", at=""), InvalidValue, "matches every prompt"),
        (lambda: keys("a", after=-1), InvalidValue, "is negative"),
        (lambda: script_of("abc", "Terminal()"), InvalidArgument, "takes a list of keystrokes"),
        (lambda: script_of([3], "Terminal()"), InvalidArgument, "got 3 in its script"),
    ],
)
def test_invalid_scripts(make, error, message):
    with pytest.raises(error) as failed:
        make()
    assert message in str(failed.value)
