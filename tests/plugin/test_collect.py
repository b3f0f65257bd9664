"""Scenario files collected by the pytest plugin: ids, `-k`, failures, malformed files, config."""

from __future__ import annotations

import textwrap

import pytest

import tests.scenarios

APPROVED = tests.scenarios.APPROVED + "  final_message: Sent.\n"

MODES = APPROVED.replace("tags: [smoke]\n", "") + textwrap.dedent(
    """\
    scenarios:
      invoked: {description: invoke}
      streamed: {description: stream, run: {mode: stream}}
    """
)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # pytest-benchmark warns (an error here) when it sees xdist, as in a worker of `pytest -n 2`
    return pytester.runpytest("-p", "no:benchmark", *args)


MY_AGENTS = """
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware


def support_agent(model, tools, checkpointer, gate="send_email"):
    middleware = HumanInTheLoopMiddleware(interrupt_on={gate: True})
    return create_agent(model, tools=tools, middleware=[middleware], checkpointer=checkpointer)
"""

OWN_AGENT = APPROVED.replace(
    "  kind: create_agent\n",
    "  kind: factory\n  factory: myagents:support_agent\n  options: {gate: send_email}\n",
).replace("  interrupt_on:\n    send_email: true\n", "")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\npythonpath = .\n")
    scenarios = pytester.mkdir("scenarios")
    (scenarios / "approved.yaml").write_text(APPROVED)
    (scenarios / "modes.yaml").write_text(MODES)
    return pytester


def test_each_scenario_is_an_item_with_a_readable_id_and_other_yaml_is_left_alone(project):
    project.mkdir("config")
    (project.path / "config" / "ci.yaml").write_text("jobs: {}\n")
    result = run(project, "scenarios", "config", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "scenarios/approved.yaml::approved",
            "scenarios/modes.yaml::invoked",
            "scenarios/modes.yaml::streamed",
            "",
            "3 tests collected*",
        ],
        consecutive=True,
    )


def test_k_selects_by_name_or_by_tag(project):
    result = run(project, "scenarios", "-v", "-k", "streamed or smoke")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        ["*scenarios/approved.yaml::approved PASSED*", "*scenarios/modes.yaml::streamed PASSED*"]
    )


def test_the_ini_names_other_scenario_directories_and_a_bare_run_collects_them(
    pytester: pytest.Pytester,
):
    pytester.makeini("[pytest]\nhitl_sim_scenarios = flows\n")
    pytester.mkdir("flows")
    (pytester.path / "flows" / "approved.yaml").write_text(APPROVED)
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "ignored.yaml").write_text("not: a scenario\n")
    run(pytester, "flows", "scenarios").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\ntestpaths = tests\nhitl_sim_scenarios = flows\n")
    pytester.mkdir("tests")
    pytester.makepyfile(test_unit="def test_unit():\n    pass\n")
    (pytester.path / "test_unit.py").rename(pytester.path / "tests" / "test_unit.py")
    result = run(pytester, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*flows/approved.yaml::approved PASSED*"])


def test_scenarios_run_on_built_and_own_agents_and_a_failure_shows_the_timeline(project):
    (project.path / "scenarios" / "wrong.yaml").write_text(
        APPROVED.replace("final_message: Sent.", "final_message: Sent twice.")
    )
    project.makepyfile(myagents=MY_AGENTS)
    (project.path / "scenarios" / "own_agent.yaml").write_text(OWN_AGENT)
    result = run(project, "scenarios")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Scenario *wrong.yaml::wrong: The reviewer approves the email.",
            "1 expectation(s) failed:",
            "- run: final_message: expected 'Sent twice.', got 'Sent.'.",
            "",
            "Run timeline:",
            "run on thread *: finished",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        ["*decision for #1 send_email(to='bob@example.com', body='hi'): approve()"]
    )
    result.stdout.fnmatch_lines(["FAILED scenarios/wrong.yaml::wrong*"])


def test_a_malformed_file_is_a_collection_error_naming_file_line_key_and_fix(project):
    (project.path / "scenarios" / "broken.yaml").write_text(
        APPROVED.replace("reviewer: [approve]", "reviewer: [aprove]")
    )
    result = run(project, "scenarios")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting scenarios/broken.yaml*",
            "*broken.yaml: 1 problem(s) in scenario file:",
            "- *broken.yaml:14: reviewer?0?: a decision is `approve`, `reject`, or a mapping like "
            "{reject: reason}, got 'aprove'",
            "  Fix: change `reviewer?0?` as described above (see docs/scenarios.md).",
        ],
        consecutive=True,
    )
