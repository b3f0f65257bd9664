"""The plugin's `--help` and `--markers` text, pinned: what a user reads before writing a test.

Run with COLUMNS=80 so pytest wraps the help the same way everywhere."""

from __future__ import annotations

import pytest


@pytest.fixture
def help_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "80")

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*args)

    return run


def test_help_shows_the_option_group_and_the_ini_keys(help_run):
    result = help_run("--help")

    result.stdout.fnmatch_lines(
        [
            "hitl-sim:",
            "  --hitl-sim-report=DIR",
            "                        write an HTML report (report.html), a Markdown summary",
            "                        (summary.md) and the sequence diagrams of the runs of",
            "                        every test that did not pass into DIR.",
            "  --hitl-checkpointer=HITL_CHECKPOINTER",
            "                        checkpointer for hitl_checkpointer fixtures and scenario",
            "                        files without one: memory (default), sqlite or postgres",
            "                        (needs HITL_SIM_POSTGRES_URL).",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "  hitl_sim_checkpointer (string):",
            "                        default for --hitl-checkpointer",
            "  hitl_sim_allow_real_models (bool):",
            "                        let real provider models run under the hitl_sim fixture",
            "                        and in scenario files (default: blocked, so a test never",
            "                        reaches the network)",
            "  hitl_sim_redact (linelist):",
            "                        keys whose values every hitl-sim output masks, besides",
            "                        the defaults (hitl_sim.normalise.DEFAULT_REDACTED); one",
            "                        a line",
            "  hitl_sim_scenarios (paths):",
            "                        directories (or files) whose .yaml files are scenario",
            "                        files (default: scenarios)",
        ],
        consecutive=True,
    )


def test_markers_show_their_signatures(help_run):
    result = help_run("--markers")

    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.hitl_sim(*, check=True, skip_checks=(), reviewer=None, gated=None, "
            "mode='invoke', max_resumes=25, clock=True, expect_pending=False, models=None, "
            "allow_real_models=False, expect_error=None, context=None): defaults for the "
            "hitl_sim fixture in this test (nearest scope wins); a marked test gets the fixture "
            "automatically.",
            "",
            "@pytest.mark.hitl_checkpointer(*kinds): checkpointer(s) for hitl_checkpointer "
            "fixtures: memory, sqlite, postgres; several kinds parametrize the test.",
        ],
        consecutive=True,
    )
