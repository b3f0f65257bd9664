"""The HTTP reviewer against the seeds' REST approval API: in-process (ASGITransport) and on a
real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest

from hitl_sim import CheckFailed, approve, call, reject, say
from hitl_sim.catalog.apps.agents import DELETED, file_agent, slow_agent
from hitl_sim.catalog.apps.http_app import create_app
from hitl_sim.errors import InvalidArgument
from hitl_sim.frontends.http import HttpReviewer
from hitl_sim.frontends.server import serve
from hitl_sim.frontends.tap import AppTap


@pytest.fixture(autouse=True)
def _clean():
    DELETED.clear()


def _two_reviews():
    return file_agent(
        [
            call("delete_file", path="/srv/a"),
            call("delete_file", path="/srv/b"),
            say("Deleted /srv/a, kept /srv/b."),
        ]
    )


def _start(http, thread_id="t1"):
    answer = http.request("POST", "/runs", {"thread_id": thread_id, "message": "clean up"})
    assert answer.json() == {"status": "pending"}


def test_a_correct_api_in_process():
    with AppTap(_two_reviews()) as tap:
        http = HttpReviewer(tap, [approve(), reject("keep b")], app=create_app(tap))
        _start(http)
        run = http.review("t1")
    http.check()
    assert run.status == "finished"
    assert run.executed_names == ["delete_file"]
    assert [d.payload["type"] for d in run.decisions] == ["approve", "reject"]
    assert [(e.method, e.path, e.status) for e in http.exchanges] == [
        ("POST", "/runs", 200),
        ("GET", "/pending/t1", 200),
        ("POST", "/approve", 200),
        ("GET", "/pending/t1", 200),
        ("POST", "/approve", 200),
        ("GET", "/pending/t1", 200),
    ]
    assert http.exchanges[-1].answer == {"pending": False}
    assert DELETED == ["/srv/a"]


def test_a_correct_api_on_a_real_server():
    with AppTap(_two_reviews()) as tap, serve(create_app(tap)) as url:
        assert url.startswith("http://127.0.0.1:")
        http = HttpReviewer(tap, [approve(), approve()], base_url=url)
        _start(http)
        run = http.review("t1")
    http.check()
    assert run.executed_names == ["delete_file", "delete_file"]
    assert DELETED == ["/srv/a", "/srv/b"]


def test_an_endpoint_that_resumes_the_wrong_thread_is_caught():
    with AppTap(
        file_agent(
            [call("delete_file", path="/srv/a"), call("delete_file", path="/srv/z"), say("ok")]
        )
    ) as tap:
        http = HttpReviewer(
            tap, [reject("no")], app=create_app(tap, bugs=frozenset({"wrong_thread"}))
        )
        _start(http, "t1")
        _start(http, "t2")
        http.review("t1")
    with pytest.raises(CheckFailed) as failed:
        http.check()
    checks = [v.check for v in failed.value.violations]
    assert checks[0] == "resumed_other_thread"
    assert failed.value.violations[0].message == (
        "A decision for thread 't1' resumed thread(s) 't2' instead."
    )


def test_a_pending_page_showing_a_stale_payload_is_caught():
    with AppTap(_two_reviews()) as tap:
        http = HttpReviewer(
            tap, [approve(), approve()], app=create_app(tap, bugs=frozenset({"stale_pending"}))
        )
        _start(http)
        http.review("t1")
    found = [v for v in http.violations() if v.check.startswith("pending_")]
    assert [v.check for v in found] == ["pending_shows_other", "pending_after_finish"]
    assert "shows another payload than interrupt #2" in found[0].message
    assert any("'/srv/b'" in line for line in found[0].evidence)
    assert found[1].message == (
        "GET /pending/t1 shows an approval pending on thread 't1', which has nothing pending."
    )


def test_a_pending_page_that_hides_the_interrupt_is_caught():
    with AppTap(_agent_once()) as tap:
        http = HttpReviewer(tap, [approve()], app=create_app(tap, bugs=frozenset({"hide_pending"})))
        _start(http)
        run = http.review("t1")
    assert run.status == "pending"
    (found, *rest) = http.violations()
    assert found.check == "pending_not_shown"
    assert found.message == (
        "GET /pending/t1 answered 200 and shows nothing pending, while interrupt #1 (batched, "
        "node 'HumanInTheLoopMiddleware.after_model') waits on thread 't1': the human never "
        "sees it."
    )
    assert [v.check for v in rest] == ["unanswered_interrupts"]


def test_a_valid_decision_refused_by_the_api_is_caught():
    from hitl_sim import edit

    with AppTap(_agent_once()) as tap:
        app = create_app(tap, bugs=frozenset({"approve_only"}))
        http = HttpReviewer(tap, [edit(path="/tmp/a")], app=app)
        _start(http)
        http.review("t1")
    found = http.violations()[0]
    assert found.check == "decision_refused"
    assert found.message.startswith(
        "POST /approve answered 422 to a valid decision for interrupt #1"
    )


def test_exchanges_are_kept_with_secrets_masked():
    agent = file_agent(
        [call("send_email", to="ops@example.com", body="hi", api_key="sk-live-123456"), say("ok")]
    )
    with AppTap(agent) as tap:
        http = HttpReviewer(tap, [approve()], app=create_app(tap))
        _start(http)
        http.review("t1")
    http.check()
    shown = http.exchanges[1].answer["data"]["action_requests"][0]
    assert shown["args"] == {"to": "ops@example.com", "body": "hi", "api_key": "***"}
    assert "sk-live-123456" not in repr(http.exchanges)


def test_error_paths_of_a_correct_api():
    with AppTap(_agent_once()) as tap:
        http = HttpReviewer(tap, [approve()], app=create_app(tap))
        assert http.get_pending("nope").status_code == 404
        assert http.post_decision("nope", [{"type": "approve"}]).status_code == 404
        _start(http)
        http.review("t1")
        again = http.post_decision("t1", [{"type": "approve"}])  # nothing pending any more
        assert again.status_code == 409
        assert again.json() == {"detail": "nothing is pending on thread 't1'"}
    http.check()
    assert DELETED == ["/srv/a"]


def _agent_once():
    return file_agent([call("delete_file", path="/srv/a"), say("Deleted.")])


def test_error_paths_of_the_seeds_api_are_caught():
    agent = file_agent([say("Hello?"), call("delete_file", path="/srv/a"), say("Deleted.")])
    with AppTap(agent) as tap:  # the resume of an unknown thread starts a run: turn 1
        http = HttpReviewer(tap, [approve()], app=create_app(tap, bugs=frozenset({"no_checks"})))
        http.post_decision("nope", [{"type": "approve"}])
        _start(http)
        http.review("t1")
        http.post_decision("t1", [{"type": "approve"}])
    found = [(v.check, v.message.split(":")[0]) for v in http.violations()]
    assert found[:2] == [
        ("resume_nothing_pending", "The app resumed thread 'nope', which has no checkpoints"),
        ("resume_nothing_pending", "The app resumed thread 't1', which has nothing pending"),
    ]


def test_a_stale_decision_after_a_restart(tmp_path):
    """The service restarts (a new app and graph on the same SQLite file) between the review
    and a decision that was already applied; a correct app refuses it by interrupt id."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = str(tmp_path / "checkpoints.db")
    with (
        SqliteSaver.from_conn_string(path) as saver,
        AppTap(
            file_agent(
                [
                    call("delete_file", path="/srv/a"),
                    say("Deleted."),
                    call("delete_file", path="/srv/b"),
                ],
                checkpointer=saver,
            )
        ) as tap,
    ):
        http = HttpReviewer(tap, [approve()], app=create_app(tap))
        _start(http)
        old = tap.run("t1").pending[0]
        http.review("t1")
        http.request("POST", "/runs", {"thread_id": "t1", "message": "and /srv/b"})
    with (
        SqliteSaver.from_conn_string(path) as saver,
        AppTap(file_agent([say("unused")], checkpointer=saver)) as tap,
    ):
        http = HttpReviewer(tap, [], app=create_app(tap))
        stale = http.post_decision("t1", [{"type": "approve"}], old)
        assert stale.status_code == 409
        assert stale.json()["detail"] == f"stale decision for interrupt {old.id!r}"
    assert DELETED == ["/srv/a"]


@pytest.mark.parametrize(("bugs", "caught"), [(frozenset(), False), (frozenset({"no_lock"}), True)])
def test_concurrent_decisions_for_one_thread(bugs, caught):
    started, release = threading.Event(), threading.Event()
    with AppTap(slow_agent(started, release)) as tap:
        http = HttpReviewer(tap, [], app=create_app(tap, bugs=bugs))
        _start(http)
        threading.Timer(0.5, release.set).start()
        answers = http.post_decisions_together("t1", [[{"type": "approve"}], [{"type": "approve"}]])
    statuses = sorted(a.status_code for a in answers)
    checks = [v.check for v in http.violations()]
    if caught:
        assert statuses == [200, 200]
        assert "concurrent_resumes" in checks
    else:
        assert statuses == [200, 409]
        assert checks == []
        assert DELETED == ["/srv/a"]


def test_app_or_base_url_not_both():
    with AppTap(_agent_once()) as tap, pytest.raises(InvalidArgument, match="not both"):
        HttpReviewer(tap, [], app=create_app(tap), base_url="http://127.0.0.1:1")


def test_polling_an_app_that_runs_in_the_background_on_a_real_server():
    with AppTap(_agent_once()) as tap, serve(create_app(tap, background=True)) as url:
        http = HttpReviewer(tap, [approve()], base_url=url)
        started = http.request("POST", "/runs", {"thread_id": "t1", "message": "clean up"})
        assert started.status_code == 202
        assert http.wait_for_pending("t1").json()["pending"] is True
        run = http.review("t1")
    http.check()
    assert run.executed_names == ["delete_file"]


def test_waiting_for_a_review_that_never_comes_times_out():
    from hitl_sim.frontends.http import PendingTimeout

    with AppTap(file_agent([say("Nothing to do.")])) as tap:
        http = HttpReviewer(tap, [], app=create_app(tap))
        http.request("POST", "/runs", {"thread_id": "t1", "message": "hi"})
        with pytest.raises(
            PendingTimeout,
            match=r"showed nothing pending for 0.2s \(last answer 200: \{'pending': False\}\)",
        ):
            http.wait_for_pending("t1", timeout=0.2)
