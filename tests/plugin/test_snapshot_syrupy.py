"""`assert run == snapshot` with syrupy: the conftest recipe, --snapshot-update, readable diffs."""

from __future__ import annotations

from textwrap import dedent

import pytest

# plugins the inner runs do not need (each costs seconds to load)
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:cacheprovider")

RECIPE = """
import pytest
from hitl_sim.reporting.snapshots import run_matcher


@pytest.fixture
def snapshot(snapshot):
    return snapshot.with_defaults(matcher=run_matcher())
"""

FLOW = """
from datetime import timedelta

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import ScriptedChatModel, call, edit, reject, say, simulate
from hitl_sim.reporting import snapshot_text


@tool
def send_email(to: str, body: str) -> str:
    \"\"\"Send an email.\"\"\"
    return f"sent to {{to}}"


@tool
def delete_file(path: str) -> str:
    \"\"\"Delete a file.\"\"\"
    return f"deleted {{path}}"


def cleanup():
    model = ScriptedChatModel([
        [call("delete_file", path="/srv/a"), call("send_email", to="ops", body={body!r})],
        say("done"),
    ])
    agent = create_agent(
        model,
        tools=[send_email, delete_file],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={{"send_email": True,
                                                            "delete_file": True}})],
        checkpointer=InMemorySaver(),
    )
    return simulate(agent, "Delete /srv/a and email ops", reviewer=[
        reject("backup first", by="ops-lead", after=timedelta(hours=2)),
        edit(to={to!r}, by="ops-lead"),
    ])


def test_cleanup(snapshot):
    assert cleanup() == snapshot


def test_cleanup_messages(snapshot):
    assert snapshot_text(cleanup(), include=("messages",)) == snapshot
"""


@pytest.fixture(autouse=True)
def _inner_runs_are_not_xdist_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """When this suite runs under xdist, syrupy would read the inherited PYTEST_XDIST_WORKER and
    treat each in-process inner session as a worker (no snapshot report)."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)


def write_flow(pytester: pytest.Pytester, *, to="team", body="hi") -> None:
    pytester.makeconftest(RECIPE)
    pytester.makepyfile(test_flow=dedent(FLOW.format(to=to, body=body)))


def stored(pytester: pytest.Pytester) -> str:
    return (pytester.path / "__snapshots__" / "test_flow.ambr").read_text()


def test_update_stores_a_readable_snapshot_that_later_runs_match(pytester: pytest.Pytester):
    write_flow(pytester)
    created = pytester.runpytest("--snapshot-update", *QUIET)
    created.assert_outcomes(passed=2)
    created.stdout.fnmatch_lines(["*2 snapshots generated*"])
    text = stored(pytester)
    assert "  status: finished\n" in text
    assert "    decision: reject\n    by: ops-lead\n    latency_seconds: 7200\n" in text
    assert "  thread: thread-1\n" in text
    assert "hitl-sim-" not in text  # no raw thread id
    again = pytester.runpytest(*QUIET)
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(["*2 snapshots passed*"])


def test_a_changed_decision_fails_with_a_readable_diff(pytester: pytest.Pytester):
    write_flow(pytester)
    pytester.runpytest("--snapshot-update", *QUIET).assert_outcomes(passed=2)
    write_flow(pytester, to="ceo")
    result = pytester.runpytest("-vv", "-k", "test_cleanup and not messages", *QUIET)
    result.assert_outcomes(failed=1, deselected=1)
    shown = result.stdout.lines
    assert "E       assert [+ received] == [- snapshot]" in shown
    at = shown.index("E         -   args: {body: hi, to: team}")
    assert shown[at - 1 : at + 2] == [
        "E             latency_seconds: 0",  # the edit decision's event
        "E         -   args: {body: hi, to: team}",
        "E         +   args: {body: hi, to: ceo}",
    ]
    pytester.runpytest("--snapshot-update", *QUIET).assert_outcomes(passed=2)  # accept the change
    assert "to: ceo" in stored(pytester)


def test_a_changed_tool_argument_fails_with_a_readable_diff(pytester: pytest.Pytester):
    write_flow(pytester)
    pytester.runpytest("--snapshot-update", *QUIET).assert_outcomes(passed=2)
    write_flow(pytester, body="hello")
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_cleanup_messages*",
            "*-     args: {body: hi, to: ops}*",
            "*+     args: {body: hello, to: ops}*",
        ]
    )


def test_snapshots_written_in_process_match_under_xdist(pytester: pytest.Pytester):
    write_flow(pytester)
    pytester.runpytest("--snapshot-update", *QUIET).assert_outcomes(passed=2)
    before = stored(pytester)
    result = pytester.runpytest_subprocess("-n", "2", *QUIET)
    result.assert_outcomes(passed=2)
    assert stored(pytester) == before


def test_the_frozen_clock_stays_inside_the_run(pytester: pytest.Pytester):
    write_flow(pytester)
    pytester.makepyfile(
        test_clock="""
        import time
        from datetime import datetime

        from test_flow import cleanup


        def test_clock():
            before = time.time()
            run = cleanup()
            assert run.audit[-1].at == "2030-01-01T11:00:00Z"
            assert datetime.now().year < 2030
            assert 0 <= time.time() - before < 600
        """
    )
    result = pytester.runpytest("test_clock.py", "--junitxml=report.xml", "--durations=0", *QUIET)
    result.assert_outcomes(passed=1)
    report = (pytester.path / "report.xml").read_text()
    seconds = float(report.split('time="')[1].split('"')[0])
    assert 0 <= seconds < 600  # pytest's own clock never saw 2030
    assert "2030" not in report
