from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hitl_sim.decisions import answer, approve, edit, reject, respond, unchecked
from hitl_sim.errors import InvalidArgument
from hitl_sim.interrupts import ActionRequest

SEND = ActionRequest("send_email", {"to": "bob", "body": "hi"}, None, ("approve", "edit"))


def test_edit_keeps_the_calls_other_arguments():
    assert edit(to="team@example.com").payload_for(SEND) == {
        "type": "edit",
        "edited_action": {"name": "send_email", "args": {"to": "team@example.com", "body": "hi"}},
    }


def test_edit_redirect_uses_exactly_the_given_arguments():
    assert edit("delete_file", {"path": "/a"}).payload_for(SEND) == {
        "type": "edit",
        "edited_action": {"name": "delete_file", "args": {"path": "/a"}},
    }


def test_reject_and_respond_payloads():
    assert reject().payload_for(SEND) == {"type": "reject"}
    assert reject("no").payload_for(SEND) == {"type": "reject", "message": "no"}
    assert respond("later").payload_for(SEND) == {"type": "respond", "message": "later"}
    assert approve().payload_for(SEND) == {"type": "approve"}
    assert answer({"approved": True}).payload_for(None) == {"approved": True}
    assert unchecked({"type": "maybe"}).payload_for(SEND) == {"type": "maybe"}


def test_identity_and_latency():
    decision = approve(by="manager", after=timedelta(hours=2))
    assert (decision.by, decision.after) == ("manager", timedelta(hours=2))
    assert reject("x", after=90).after == timedelta(seconds=90)
    assert decision.describe() == "approve(by='manager', after=2:00:00)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: approve(after="soon"), "after='soon' is not a latency."),
        (lambda: edit(1, 2, 3), "edit(1, 2, 3) is not an edit."),
        (lambda: edit({"a": 1}, b=2), "edit() got arguments both as a mapping and as keywords"),
        (lambda: edit(), "edit() with no arguments changes nothing"),
        (lambda: edit(by="ops"), "edit() with no arguments changes nothing, so"),
        (lambda: respond(None), "respond() takes the reply text as a str, got None."),
    ],
)
def test_bad_arguments_say_what_was_expected(call, message):
    with pytest.raises(InvalidArgument, match="^" + re.escape(message)):
        call()


def test_an_edit_to_itself_on_purpose_is_an_edit():
    assert (edit({}).type, edit({}).args) == ("edit", {})
