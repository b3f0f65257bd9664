"""The `hitl-sim` command: run (table, failures, exit status, JUnit XML) and list."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from hitl_sim.cli import main
from tests.scenarios import APPROVED


def run_cli(*argv):
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, re.sub(r"\d+\.\d\ds", "T", out.getvalue())


@pytest.fixture
def scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "approved.yaml").write_text(APPROVED)
    return folder


def test_run_prints_a_table_and_exits_zero(scenarios):
    status, out = run_cli("run", "scenarios")
    assert status == 0
    assert out == (
        "scenario                 result  time\n"
        "-----------------------  ------  ------\n"
        "scenarios/approved.yaml  PASS     T\n"
        "\n"
        "1 passed, 0 failed, 0 errors in T\n"
    )


def test_a_failure_prints_its_report_and_exits_one(scenarios):
    (scenarios / "wrong.yaml").write_text(APPROVED.replace("[send_email]", "[delete_file]"))
    status, out = run_cli("run", "scenarios")
    assert status == 1
    assert "scenarios/wrong.yaml     FAIL     T\n" in out
    assert "============================== FAIL: scenarios/wrong.yaml" in out
    assert (
        "- run: executed: expected [delete_file], got [send_email(to='bob@example.com', "
        "body='hi')].\n  missing: delete_file\n  unexpected: send_email(to='bob@example.com', "
        "body='hi')\n"
    ) in out
    assert "Run timeline:\nrun on thread" in out
    assert out.endswith("1 passed, 1 failed, 0 errors in T\n")


def test_a_malformed_file_is_an_error_row_and_the_others_still_run(scenarios, tmp_path):
    (scenarios / "bad.yaml").write_text("description: x\n")
    report = tmp_path / "junit.xml"
    status, out = run_cli("run", "scenarios", "--junit-xml", str(report))
    assert status == 2
    assert "scenarios/bad.yaml       ERROR    T\n" in out
    assert "scenarios/approved.yaml  PASS     T\n" in out
    assert (
        "============================== ERROR: scenarios/bad.yaml ==============================\n"
        "error: scenarios/bad.yaml: 1 problem(s) in scenario file:\n"
        "- scenarios/bad.yaml:1: agent: required key missing.\n"
    ) in out
    assert out.endswith("1 passed, 0 failed, 1 errors in T\n")
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("errors")) == ("2", "1")


def test_list_names_a_malformed_file_and_exits_two(scenarios):
    (scenarios / "bad.yaml").write_text("description: x\n")
    status, out = run_cli("list", "scenarios")
    assert status == 2
    assert "scenarios/approved.yaml\n" in out
    assert "error: scenarios/bad.yaml: 1 problem(s) in scenario file:\n" in out


CRASHING_FACTORY = """\
def make(model, checkpointer):
    raise RuntimeError("the factory broke")
"""


def test_a_factory_that_raises_is_an_error_row_naming_where(scenarios, tmp_path, monkeypatch):
    (tmp_path / "crashing_agents.py").write_text(CRASHING_FACTORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    (scenarios / "crash.yaml").write_text(
        "description: x\nagent: {kind: factory, factory: 'crashing_agents:make'}\n"
        "model: [{say: hi}]\n"
    )
    report = tmp_path / "junit.xml"
    status, out = run_cli("run", "scenarios", "--junit-xml", str(report))
    assert status == 2
    assert "scenarios/crash.yaml     ERROR    T\n" in out
    assert "scenarios/approved.yaml  PASS     T\n" in out
    assert (
        "RuntimeError: the factory broke (raised in make at "
        f"{tmp_path / 'crashing_agents.py'}:2)\n"
        "Scenario scenarios/crash.yaml could not run: code it calls (its agent factory, a tool "
        "or a node) raised before the run could finish or record the error."
    ) in out
    assert "Traceback" not in out
    (error,) = ET.parse(report).getroot().iter("error")
    assert error.get("message").startswith("RuntimeError: the factory broke (raised in make")


def test_the_junit_xml_is_well_formed_for_any_text(scenarios, tmp_path):
    bell = APPROVED.replace('returns: "sent to {to}"', 'returns: "sent\\x07\\x1b[31m to {to}"')
    (scenarios / "bell.yaml").write_text(bell.replace("[send_email]", "[delete_file]"))
    report = tmp_path / "junit.xml"
    status, _ = run_cli("run", "scenarios", "--junit-xml", str(report))
    assert status == 1
    (failure,) = ET.parse(report).getroot().iter("failure")
    assert "sent\\x07\\x1b[31m to bob@example.com" in failure.text


def test_a_scenario_that_cannot_be_built_is_an_error_row(scenarios):
    (scenarios / "nofactory.yaml").write_text(
        "description: x\nagent: {kind: factory, factory: 'no_such_module:make'}\n"
    )
    status, out = run_cli("run", "scenarios")
    assert status == 2
    assert "scenarios/nofactory.yaml  ERROR    T\n" in out
    assert "ScenarioError: scenarios/nofactory.yaml::nofactory: cannot import module " in out


def test_k_selects_and_nothing_selected_is_a_failure(scenarios):
    (scenarios / "other.yaml").write_text(APPROVED.replace("[smoke]", "[slow]"))
    status, out = run_cli("run", "scenarios", "-k", "smoke")
    assert status == 0
    assert "scenarios/approved.yaml" in out and "other.yaml" not in out
    status, out = run_cli("run", "scenarios", "-k", "nothing-matches")
    assert status == 1
    assert out.endswith("0 passed, 0 failed, 0 errors in T\n")


def test_junit_xml(scenarios, tmp_path):
    (scenarios / "wrong.yaml").write_text(APPROVED.replace("[send_email]", "[delete_file]"))
    report = tmp_path / "reports" / "junit.xml"
    run_cli("run", "scenarios", "--junit-xml", str(report))
    suite = ET.parse(report).getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        "testsuite",
        "2",
        "1",
        "0",
    )
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert sorted(cases) == ["approved", "wrong"]
    (failure,) = cases["wrong"].iter("failure")
    line = APPROVED.splitlines().index("  executed: [send_email]") + 1
    assert failure.get("message") == (  # the first failed expectation, with its file and line
        f"scenarios/wrong.yaml:{line}: run: executed: expected [delete_file], got "
        "[send_email(to='bob@example.com', body='hi')]. missing: delete_file unexpected: "
        "send_email(to='bob@example.com', body='hi')"
    )
    assert failure.text.startswith("1 expectation(s) failed:\n- scenarios/wrong.yaml:")
    assert "Run timeline:" in failure.text


def test_list_shows_ids_and_descriptions(scenarios):
    status, out = run_cli("list", "scenarios")
    assert (status, out) == (
        0,
        "scenarios/approved.yaml\n    The reviewer approves the email.\n1 scenario(s)\n",
    )


def test_the_default_is_the_built_in_catalog():
    status, out = run_cli("list")
    assert status == 0
    assert "scenarios/batched_mixed_decisions.yaml\n" in out
    assert int(out.splitlines()[-1].split()[0]) >= 40


def test_the_console_script_runs_the_catalog_selection(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hitl_sim.cli", "run", "-k", "style_simple"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scenarios/style_simple_approval.yaml::approved" in done.stdout
    assert "2 passed, 0 failed, 0 errors" in done.stdout


def test_other_checkpointers_and_a_missing_path(scenarios):
    status, out = run_cli("run", "scenarios", "--checkpointer", "sqlite")
    assert (status, out.splitlines()[-1]) == (0, "1 passed, 0 failed, 0 errors in T")
    status, out = run_cli("run", "nowhere")
    assert (status, out) == (
        2,
        "error: nowhere: no such scenario file or directory.\n"
        "Give scenario files (.yaml) or directories that hold them.\n",
    )


UNSUPPORTED_FACTORY = """\
from hitl_sim.errors import Unsupported


def make(model, checkpointer):
    raise Unsupported("needs langchain >= 1.5 (AutoModeMiddleware)")
"""


def test_a_scenario_the_installed_libraries_cannot_run_is_skipped_not_passed(
    scenarios, tmp_path, monkeypatch
):
    (tmp_path / "new_agents.py").write_text(UNSUPPORTED_FACTORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    (scenarios / "newer.yaml").write_text(
        "description: x\nagent: {kind: factory, factory: 'new_agents:make'}\nmodel: [{say: hi}]\n"
    )
    report = tmp_path / "junit.xml"
    status, out = run_cli("run", "scenarios", "--junit-xml", str(report))
    assert status == 0
    assert "scenarios/newer.yaml     SKIP     T\n" in out
    assert "SKIP: scenarios/newer.yaml" in out and "needs langchain >= 1.5" in out
    assert out.endswith("1 passed, 0 failed, 0 errors, 1 skipped in T\n")
    (skipped,) = ET.parse(report).getroot().iter("skipped")
    assert skipped.get("message") == "needs langchain >= 1.5 (AutoModeMiddleware)"

    status, out = run_cli("run", "scenarios", "-k", "newer")
    assert status == 1
    assert out.endswith("0 passed, 0 failed, 0 errors, 1 skipped in T\n")
