"""`pytest --hitl-sim-report DIR`: one report of the session's tests and scenario files, the
same with pytest-xdist, fail closed (a skip is not a pass, a teardown error is an error)."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tests.reporting import runs

TESTS = dedent(
    """
    import pytest
    from langgraph.checkpoint.memory import InMemorySaver

    from hitl_sim import Reviewer, ScriptedChatModel, call, reject, say, simulate
    from hitl_sim.catalog.broken_agents import executes_rejected_calls
    from tests.agents import delete_file


    def broken():
        model = ScriptedChatModel([call("delete_file", path="/srv/db"), say("Kept it.")])
        gates = {"delete_file": True}
        agent = executes_rejected_calls(model, [delete_file], InMemorySaver(), gates)
        return simulate(agent, "Tidy up", Reviewer([reject("keep the database", by="ann")]))


    def test_rejected_delete_never_runs():
        run = broken()
        assert run.executed_names == [], "the rejected delete ran"


    def test_nothing_to_see():
        assert 1 + 1 == 2


    @pytest.mark.skip(reason="needs a PostgreSQL server")
    def test_durable():
        pass


    @pytest.fixture
    def leaky():
        yield
        raise RuntimeError("teardown broke")


    def test_teardown_breaks(leaky):
        pass
    """
)


@pytest.fixture
def session(pytester):
    pytester.makepyfile(test_flows=TESTS)
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "broken_fork.yaml").write_text(runs.BROKEN_SCENARIO)
    return pytester


def statuses(page: str) -> list[tuple[str, str]]:
    import re

    found = re.findall(r'<section class="item (\w+)" id="item-\d+" data-status="\1"', page)
    ids = re.findall(r'<h2><span class="badge \w+">\w+</span>([^<]+)</h2>', page)
    return list(zip(ids, found, strict=True))


def test_the_session_report_holds_every_test_with_its_diagram(session):
    result = session.runpytest("--hitl-sim-report", "out", "-p", "no:randomly")

    result.assert_outcomes(passed=2, failed=2, skipped=1, errors=1)
    result.stdout.fnmatch_lines([f"hitl-sim report: {session.path}/out/report.html"])
    page = (session.path / "out" / "report.html").read_text()
    assert statuses(page) == [
        ("scenarios/broken_fork.yaml::broken_fork", "FAIL"),
        ("test_flows.py::test_durable", "SKIP"),
        ("test_flows.py::test_nothing_to_see", "PASS"),
        ("test_flows.py::test_rejected_delete_never_runs", "FAIL"),
        ("test_flows.py::test_teardown_breaks", "ERROR"),
    ]
    assert "<title>hitl-sim report: FAILED</title>" in page
    assert "VIOLATION [rejected_call_ran]" in page  # the test's own run, drawn
    assert "test_flows.py:18</code> AssertionError: the rejected delete ran" in page
    line = runs.BROKEN_SCENARIO.splitlines().index("  not_executed: [delete_file]") + 1
    assert f"scenarios/broken_fork.yaml:{line}</code> run: not_executed:" in page
    assert "needs a PostgreSQL server" in page
    assert "RuntimeError: teardown broke" in page
    summary = (session.path / "out" / "summary.md").read_text()
    assert summary.startswith(
        "## ❌ hitl-sim report: FAILED\n\n1 passed, 2 failed, 1 errors, 1 skipped"
    )
    diagrams = sorted(p.name for p in (session.path / "out" / "diagrams").iterdir())
    assert diagrams == [
        "scenarios-broken_fork.yaml-broken_fork-run1.mmd",
        "scenarios-broken_fork.yaml-broken_fork-run1.svg",
        "test_flows.py-test_rejected_delete_never_runs-run1.mmd",
        "test_flows.py-test_rejected_delete_never_runs-run1.svg",
    ]


def test_the_report_is_the_same_under_pytest_xdist(session):
    session.runpytest("--hitl-sim-report", "one", "-p", "no:randomly")
    result = session.runpytest_subprocess("--hitl-sim-report", "two", "-n", "2")

    result.assert_outcomes(passed=2, failed=2, skipped=1, errors=1)
    one, two = session.path / "one", session.path / "two"
    assert (two / "report.html").read_bytes() == (one / "report.html").read_bytes()
    assert (two / "summary.md").read_bytes() == (one / "summary.md").read_bytes()


def test_without_the_option_no_report_is_written(session):
    session.runpytest("-p", "no:randomly")

    assert not (session.path / "out").exists()
    assert not list(session.path.rglob("report.html"))
