"""The webhook receiver: a real HTTP server on 127.0.0.1 recording the app's notifications."""

from __future__ import annotations

import pytest

from hitl_sim import CheckFailed, approve, call, say
from hitl_sim.catalog.apps.agents import DELETED, file_agent
from hitl_sim.catalog.apps.http_app import create_app
from hitl_sim.errors import InvalidArgument
from hitl_sim.frontends.http import HttpReviewer
from hitl_sim.frontends.tap import AppTap
from hitl_sim.frontends.webhook import WebhookReceiver

FIELDS = ("type", "thread_id", "interrupt_id", "data", "timestamp")


@pytest.fixture(autouse=True)
def _clean():
    DELETED.clear()


def _flow(bugs=frozenset()):
    agent = file_agent(
        [
            [call("delete_file", path="/srv/a"), call("read_file", path="/srv/b")],
            say("Done."),
        ]
    )
    with WebhookReceiver(fields=FIELDS) as hook, AppTap(agent) as tap:
        app = create_app(tap, bugs=bugs, webhook=hook.url)
        http = HttpReviewer(tap, [approve()], app=app)
        http.request("POST", "/runs", {"thread_id": "t1", "message": "clean up"})
        run = http.review("t1")
    return hook, run


def test_one_notification_per_interrupt_on_the_frozen_clock():
    hook, run = _flow()
    hook.check(run)
    (sent,) = hook.notifications
    assert sent.path == "/hook"
    assert sent.body["type"] == "approval_needed"
    assert sent.body["timestamp"] == "2030-01-01T09:00:00+00:00"
    assert sent.body["data"]["action_requests"][0]["args"] == {"path": "/srv/a"}
    assert sent.at.isoformat() == "2030-01-01T09:00:00+00:00"


@pytest.mark.parametrize(
    ("bug", "check", "message"),
    [
        ("notify_twice", "notified_twice", "produced 2 notifications; expected exactly one."),
        ("notify_all", "notified_without_interrupt", "A notification matches no interrupt"),
        ("wall_clock", "notification_time_off", "is stamped '2030-01-01T09:00:01+00:00'"),
    ],
)
def test_broken_notifiers_are_caught(bug, check, message):
    hook, run = _flow(frozenset({bug}))
    with pytest.raises(CheckFailed) as failed:
        hook.check(run)
    (found,) = failed.value.violations
    assert found.check == check
    assert message in found.message


def test_a_missing_notification_and_missing_fields_are_caught():
    agent = file_agent([call("delete_file", path="/srv/a"), say("Done.")])
    with WebhookReceiver(fields=FIELDS) as hook, AppTap(agent) as tap:
        http = HttpReviewer(tap, [approve()], app=create_app(tap))  # no webhook configured
        http.request("POST", "/runs", {"thread_id": "t1", "message": "clean up"})
        run = http.review("t1")
        import httpx

        httpx.post(hook.url, json={"type": "approval_needed", "data": run.interrupts[0].value})
    found = hook.violations(run)
    assert [v.check for v in found] == ["notification_fields_missing"]
    assert "lacks 'thread_id', 'interrupt_id', 'timestamp'" in found[0].message
    with WebhookReceiver() as empty:
        (missing,) = empty.violations(run)
    assert missing.check == "notification_missing"
    assert "nobody was told to review delete_file(path='/srv/a')" in missing.message


def test_the_url_is_known_only_while_serving():
    with pytest.raises(InvalidArgument, match="use `with WebhookReceiver"):
        _ = WebhookReceiver().url
