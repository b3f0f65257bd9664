"""Values are checked where the user writes them: latencies, timeouts, clock starts and decision
fields. A value of the wrong type is an `InvalidArgument` (a `TypeError`); one of the right type
out of range is an `InvalidValue` (an `InvalidArgument` and a `ValueError`) naming the value and
the range allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import (
    Reviewer,
    answer,
    approve,
    edit,
    reject,
    respond,
    simulate,
    unchecked,
    update,
)
from hitl_sim.decisions import MAX_LATENCY
from hitl_sim.driving.clock import start_time
from hitl_sim.errors import HitlSimError, InvalidArgument, InvalidValue, excerpt
from hitl_sim.models.chat import ScriptedChatModel, call, say

BUILDERS = [
    pytest.param(approve, id="approve"),
    pytest.param(lambda **kw: edit(to="x", **kw), id="edit"),
    pytest.param(lambda **kw: reject("no", **kw), id="reject"),
    pytest.param(lambda **kw: respond("later", **kw), id="respond"),
    pytest.param(lambda **kw: answer(True, **kw), id="answer"),
    pytest.param(lambda **kw: unchecked({"type": "maybe"}, **kw), id="unchecked"),
    pytest.param(lambda **kw: update({"approved": True}, **kw), id="update"),
]


def message_of(call_, error=InvalidValue):
    with pytest.raises(error) as caught:
        call_()
    return str(caught.value)


def test_invalid_value_is_an_invalid_argument_and_a_value_error():
    assert issubclass(InvalidValue, InvalidArgument)
    assert issubclass(InvalidValue, ValueError)
    assert issubclass(InvalidValue, TypeError)
    assert issubclass(InvalidValue, HitlSimError)


# --- latencies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "shown"),
    [
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (-1, "-1"),
        (-0.001, "-0.001"),
        (timedelta(seconds=-1), "datetime.timedelta(days=-1, seconds=86399)"),
        (timedelta(days=366), "datetime.timedelta(days=366)"),
        (365 * 86400 + 1, "31536001"),
        pytest.param(10**400, "<an integer of about 401 digits>", id="10**400"),
        pytest.param(10**5000, "<an integer of about 5,001 digits>", id="10**5000"),
    ],
)
@pytest.mark.parametrize("builder", BUILDERS)
def test_a_latency_out_of_range(builder, after, shown):
    assert message_of(lambda: builder(after=after)) == (
        f"after={shown} is out of range. A latency is from 0 seconds to 365 days, "
        "e.g. after=timedelta(hours=2)."
    )


@pytest.mark.parametrize("after", [0, 0.0, 1.5, timedelta(0), MAX_LATENCY, 365 * 86400])
def test_latencies_in_range(after):
    assert approve(after=after).after == (
        after if isinstance(after, timedelta) else timedelta(seconds=after)
    )


@pytest.mark.parametrize("after", ["2h", True, [5]])
def test_a_latency_of_the_wrong_type(after):
    assert message_of(lambda: approve(after=after), InvalidArgument) == (
        f"after={after!r} is not a latency. Expected a datetime.timedelta or a number of "
        "seconds, e.g. after=timedelta(hours=2)."
    )


# --- timeouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "shown"),
    [
        (timedelta(seconds=-1), "datetime.timedelta(days=-1, seconds=86399)"),
        (timedelta(days=400), "datetime.timedelta(days=400)"),
    ],
)
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda **kw: Reviewer([approve()], **kw), id="list"),
        pytest.param(lambda **kw: Reviewer.always(approve(), **kw), id="always"),
        pytest.param(lambda **kw: Reviewer.unavailable(**kw), id="unavailable"),
        pytest.param(lambda **kw: Reviewer.chain(manager=approve(), **kw), id="chain"),
    ],
)
def test_a_timeout_out_of_range(make, timeout, shown):
    assert message_of(lambda: make(timeout=timeout, on_timeout=reject("late"))) == (
        f"timeout={shown} is out of range. A timeout is from 0 seconds to 365 days, "
        "e.g. timeout=timedelta(hours=2)."
    )


def test_timeouts_in_range():
    Reviewer([approve()], timeout=timedelta(0), on_timeout=reject("late"))
    Reviewer([approve()], timeout=MAX_LATENCY, on_timeout=reject("late"))


# --- decision fields --------------------------------------------------------------------------


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_reviewer_id_that_is_not_a_string(builder):
    assert message_of(lambda: builder(by=5), InvalidArgument) == (
        "by=5 is not a reviewer id. Expected a str, e.g. by='ann'."
    )


@pytest.mark.parametrize("builder", BUILDERS)
def test_an_empty_reviewer_id(builder):
    assert message_of(lambda: builder(by="")) == (
        "by='' is an empty reviewer id. Give a name, e.g. by='ann', or None."
    )


def test_a_reviewers_default_id_is_checked_too():
    assert message_of(lambda: Reviewer([approve()], by=["ann"]), InvalidArgument) == (
        "by=['ann'] is not a reviewer id. Expected a str, e.g. by='ann'."
    )


def test_a_reject_reason_that_is_not_a_string():
    assert message_of(lambda: reject(42), InvalidArgument) == (
        "reject() takes the reason as a str or None, got 42."
    )


def test_argument_and_state_names_are_strings():
    assert message_of(lambda: edit({1: "x"}), InvalidArgument) == (
        "edit() takes names as str keys, got 1 in {1: 'x'}."
    )
    assert message_of(lambda: edit("rm", {None: "x"}), InvalidArgument) == (
        "edit() takes names as str keys, got None in {None: 'x'}."
    )
    assert message_of(lambda: update({("a",): 1}), InvalidArgument) == (
        "update() takes names as str keys, got ('a',) in {('a',): 1}."
    )


def test_update_takes_a_mapping():
    assert message_of(lambda: update(["approved"]), InvalidArgument) == (
        "update() takes the state values as a mapping, got ['approved']."
    )


def test_a_redirect_names_a_tool():
    assert message_of(lambda: edit("", {"path": "/x"})) == (
        "edit('', ...) redirects to a tool with an empty name. Name the tool."
    )


def test_messages_quote_a_short_excerpt_of_a_huge_value():
    message = message_of(lambda: respond(["x" * 10_000_000]), InvalidArgument)
    assert len(message) < 300
    assert message.startswith("respond() takes the reply text as a str, got ['xxxx")


# --- clock starts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "shown"),
    [
        ("1969-12-31T23:59:59+00:00", "'1969-12-31T23:59:59+00:00'"),
        ("3000-01-01T00:00:00Z", "'3000-01-01T00:00:00Z'"),
        (datetime(1, 1, 1), "datetime.datetime(1, 1, 1, 0, 0)"),
        (
            datetime(9999, 12, 31, tzinfo=UTC),
            "datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.timezone.utc)",
        ),
    ],
)
def test_a_clock_start_out_of_range(start, shown):
    assert message_of(lambda: start_time(start)) == (
        f"clock={shown} is out of range. A frozen clock starts from 1970-01-01T00:00:00+00:00 up "
        "to (not including) 3000-01-01T00:00:00+00:00, e.g. clock='2030-01-01T09:00:00+00:00'."
    )


def test_a_clock_start_that_is_not_iso_8601():
    assert message_of(lambda: start_time("next tuesday")) == (
        "clock='next tuesday' is not an ISO 8601 date-time. Expected e.g. "
        "clock='2030-01-01T09:00:00+00:00' or a datetime."
    )


def test_clock_starts_in_range():
    assert start_time("1970-01-01T00:00:00+00:00") == datetime(1970, 1, 1, tzinfo=UTC)
    assert start_time(datetime(2999, 12, 31, 23, 59)) == datetime(2999, 12, 31, 23, 59, tzinfo=UTC)


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    return f"deleted {path}"


def agent():
    return create_agent(
        ScriptedChatModel([call("delete_file", path="/tmp/x"), say("Done.")]),
        tools=[delete_file],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"delete_file": True})],
        checkpointer=InMemorySaver(),
    )


def test_simulate_checks_its_clock_before_running():
    assert message_of(lambda: simulate(agent(), "go", [approve()], clock="soon")) == (
        "clock='soon' is not an ISO 8601 date-time. Expected e.g. "
        "clock='2030-01-01T09:00:00+00:00' or a datetime."
    )
    assert message_of(lambda: simulate(agent(), "go", [approve()], clock=datetime(1900, 1, 1)))


def test_a_year_of_latency_runs_on_the_frozen_clock():
    run = simulate(agent(), "go", [approve(after=MAX_LATENCY)])
    assert run.status == "finished"
    assert run.decisions[0].at == datetime(2031, 1, 1, 9, 0, tzinfo=UTC)


# --- excerpts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("aprove", "'aprove'"),
        ({"b": 1, "a": 2}, "{'b': 1, 'a': 2}"),
        (list(range(12)), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...]"),
        ([[[[[1]]]]], "[[[[[...]]]]]"),
        pytest.param(10**5000, "<an integer of about 5,001 digits>", id="10**5000"),
    ],
)
def test_excerpt_is_repr_cut_short(value, shown):
    assert excerpt(value) == shown


def test_excerpt_is_bounded_however_big_the_value():
    assert len(excerpt({str(i): "x" * 1000 for i in range(1000)})) <= 200
    assert len(excerpt("y" * 10_000_000, limit=50)) <= 50
