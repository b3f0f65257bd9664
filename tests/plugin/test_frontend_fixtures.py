"""The front-end fixtures (`hitl_webhook`, `hitl_terminal`, `hitl_server`), run in pytester
sessions on a real webhook receiver, a real uvicorn server and the catalog's example apps."""

from __future__ import annotations

import pytest

CONFTEST = """
from hitl_sim import ScriptedChatModel, call, say
from hitl_sim.catalog.apps.agents import file_agent


def agent():
    return file_agent([call("delete_file", path="/srv/a"), say("Done.")])
"""

HEADER = """
import socket
from urllib.parse import urlsplit

import pytest
from conftest import agent
from hitl_sim import ScriptExhausted, approve
from hitl_sim.catalog.apps.cli_prompt import get_user_decision
from hitl_sim.catalog.apps.http_app import create_app
from hitl_sim.frontends.http import HttpReviewer
from hitl_sim.frontends.keys import keys
from hitl_sim.frontends.tap import AppTap

SEEN = {}  # what one test leaves for the next (pytester runs them in file order)


def refused(url):
    address = urlsplit(url)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address.hostname, address.port), timeout=2)
    return True
"""


@pytest.fixture
def tester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


WEBHOOK_TESTS = """
FIELDS = ("type", "thread_id", "interrupt_id", "data", "timestamp")


def _review(url, bugs=()):
    with AppTap(agent()) as tap:
        http = HttpReviewer(tap, [approve()], app=create_app(tap, bugs=bugs, webhook=url))
        http.request("POST", "/runs", {"thread_id": "t1", "message": "clean up"})
        return http.review("t1")


def test_one_notification(hitl_webhook):
    hitl_webhook.fields = FIELDS
    assert hitl_webhook.url.startswith("http://127.0.0.1:")
    run = _review(hitl_webhook.url)
    hitl_webhook.check(run)
    (sent,) = hitl_webhook.notifications
    assert sent.body["timestamp"] == "2030-01-01T09:00:00+00:00"


def test_notified_twice(hitl_webhook):
    run = _review(hitl_webhook.url, bugs={"notify_twice"})
    hitl_webhook.check(run)


def test_stopped_after_the_test(hitl_webhook):
    SEEN["hook"] = hitl_webhook


def test_the_receiver_was_stopped():
    assert refused(SEEN["hook"].url)
"""


def test_hitl_webhook_is_a_started_receiver_checking_what_the_app_sent(tester):
    tester.makepyfile(test_hooks=HEADER + WEBHOOK_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_hooks.py::test_one_notification PASSED*",
            "test_hooks.py::test_notified_twice FAILED*",
            "test_hooks.py::test_stopped_after_the_test PASSED*",
            "test_hooks.py::test_the_receiver_was_stopped PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*CheckFailed: The app's webhook notifications broke 1 check(s):",
            "*1. [[]notified_twice[]] interrupt #1 (batched, node "
            "'HumanInTheLoopMiddleware.after_model') on thread 't1' produced 2 notifications; "
            "expected exactly one.",
        ]
    )


TERMINAL_TESTS = """
def test_answers_input(hitl_terminal):
    terminal = hitl_terminal([keys("a", at="[a]pprove"), "keep it"])
    print("Delete /srv/a?")
    assert input("[a]pprove / [r]eject: ") == "a"
    assert input("Reason: ") == "keep it"
    screens = [p.screen for p in terminal.prompts]
    assert screens == ["Delete /srv/a?\\n[a]pprove / [r]eject: ", "Reason: "]


def test_the_apps_own_prompt(hitl_terminal):
    terminal = hitl_terminal([keys("a", at="[a]pprove / [e]dit / [r]eject")])
    value = {"action_requests": [{"name": "delete_file", "args": {"path": "/srv/a"}}]}
    assert get_user_decision(value) == {"decisions": [{"type": "approve"}]}
    assert "Tool: delete_file" in terminal.prompts[0].screen


def test_keys_left_over(hitl_terminal):
    hitl_terminal(["a", "never asked"])
    input("? ")


def test_runs_out(hitl_terminal):
    hitl_terminal([])
    with pytest.raises(ScriptExhausted, match="asked prompt 1 'Proceed\\\\? '"):
        input("Proceed? ")


def test_input_is_restored(hitl_terminal):
    import builtins

    original = builtins.input
    hitl_terminal(["y"])
    assert builtins.input is not original
    input()


def test_one_keyboard_per_test(hitl_terminal):
    hitl_terminal(["a"])
    input()
    hitl_terminal(["b"])
"""


def test_hitl_terminal_answers_input_and_fails_on_leftover_keystrokes(tester):
    tester.makepyfile(test_keys=HEADER + TERMINAL_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=5, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "test_keys.py::test_answers_input PASSED*",
            "test_keys.py::test_the_apps_own_prompt PASSED*",
            "test_keys.py::test_keys_left_over PASSED*",
            "test_keys.py::test_keys_left_over ERROR*",
            "test_keys.py::test_runs_out PASSED*",
            "test_keys.py::test_input_is_restored PASSED*",
            "test_keys.py::test_one_keyboard_per_test FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_keys_left_over*",
            "The program stopped asking with 1 keystroke(s) left unused:",
            "- keys('never asked')",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*InvalidArgument: hitl_terminal() was already called in this test: one keyboard *"]
    )
    assert "Traceback" not in result.stdout.str().split("ERROR at teardown")[1].split("____")[0]


SERVER_TESTS = """
def test_a_real_server(hitl_server):
    with AppTap(agent()) as tap:
        url = hitl_server(create_app(tap))
        assert url.startswith("http://127.0.0.1:")
        http = HttpReviewer(tap, [approve()], base_url=url)
        http.request("POST", "/runs", {"thread_id": "t1", "message": "clean up"})
        run = http.review("t1")
    http.check()
    assert run.executed_names == ["delete_file"]
    SEEN["url"] = url


def test_stopped_at_teardown():
    assert refused(SEEN["url"])
"""


def test_hitl_server_serves_an_app_on_loopback_until_teardown(tester):
    tester.makepyfile(test_server=HEADER + SERVER_TESTS)
    result = tester.runpytest("-v")
    result.assert_outcomes(passed=2)
