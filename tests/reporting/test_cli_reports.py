"""`hitl-sim run` with the reports: --html, --markdown, --color (NO_COLOR), and -n N processes
giving the same table, JUnit XML and reports, in the same order, as one process."""

from __future__ import annotations

import io
import os
import re
import sys
import xml.etree.ElementTree as ET

import pytest

from hitl_sim.cli import main
from tests.reporting import runs
from tests.scenarios import APPROVED

CRASHING_FACTORY = """\
def make(model, checkpointer):
    raise RuntimeError("the factory broke")
"""


def run_cli(*argv):
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def untimed(text: str) -> str:
    return re.sub(r"\d+\.\d+s\b", "T", text)


@pytest.fixture
def scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a_approved.yaml").write_text(APPROVED)
    (folder / "b_broken.yaml").write_text(runs.BROKEN_SCENARIO)
    (folder / "c_wrong.yaml").write_text(APPROVED.replace("[send_email]", "[delete_file]"))
    (folder / "d_bad.yaml").write_text("description: x\n")  # malformed: an ERROR row
    (tmp_path / "reports_crashing_agents.py").write_text(CRASHING_FACTORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)  # worker processes import the factory too
    (folder / "e_crash.yaml").write_text(
        "description: x\nagent: {kind: factory, factory: 'reports_crashing_agents:make'}\n"
        "model: [{say: hi}]\n"
    )
    yield folder
    sys.modules.pop("reports_crashing_agents", None)  # each test imports its own copy


def test_html_and_markdown_reports_of_a_run(scenarios, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")

    status, out = run_cli(
        "run", "scenarios", "--html", "out/report.html", "--markdown", str(summary)
    )

    assert status == 2  # an ERROR row
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<title>hitl-sim report: FAILED</title>" in page
    assert "1 passed, 2 failed, 2 errors, 0 skipped (5 in all)" in page
    assert "VIOLATION [rejected_call_ran]" in page  # the broken agent's diagram
    line = runs.BROKEN_SCENARIO.splitlines().index("  not_executed: [delete_file]") + 1
    assert f"scenarios/b_broken.yaml:{line}</code>" in page
    assert "RuntimeError: the factory broke" in page
    text = summary.read_text()
    assert text.startswith("# earlier step\n## ❌ hitl-sim report: FAILED\n")
    assert text.count("```mermaid") == 2  # the two failures' runs
    assert "\x1b[" not in out  # not a terminal: no colour


def test_the_junit_message_is_the_first_failed_expectation(scenarios, tmp_path):
    run_cli("run", "scenarios", "--junit-xml", "junit.xml")

    cases = {c.get("name"): c for c in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    (failure,) = cases["b_broken"].iter("failure")
    line = runs.BROKEN_SCENARIO.splitlines().index("  not_executed: [delete_file]") + 1
    assert failure.get("message") == (
        f"scenarios/b_broken.yaml:{line}: run: not_executed: 'delete_file' ran, but the "
        "scenario says it must never run (executed: delete_file(path='/srv/db')). "
        "(+1 more failed expectation)"
    )
    assert "[rejected_call_ran]" in failure.text and "Run timeline:" in failure.text
    (error,) = cases["e_crash"].iter("error")
    assert error.get("message").startswith("RuntimeError: the factory broke (raised in make")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("mode", "no_color", "colored"),
    [("auto", None, True), ("auto", "1", False), ("always", "1", False), ("never", None, False)],
)
def test_colour_on_a_terminal_follows_the_mode_and_no_color(
    scenarios, monkeypatch, mode, no_color, colored
):
    for name in ("b_broken", "c_wrong", "d_bad", "e_crash"):
        (scenarios / f"{name}.yaml").unlink()
    (scenarios / "c_wrong.yaml").write_text(APPROVED.replace("[send_email]", "[delete_file]"))
    monkeypatch.delenv("TERM", raising=False)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    out = Tty()

    main(["run", "scenarios", "--color", mode], out=out)

    text = out.getvalue()
    if colored:
        assert "scenarios/a_approved.yaml  \x1b[32mPASS\x1b[0m    " in text
        assert "scenarios/c_wrong.yaml     \x1b[31;1mFAIL\x1b[0m    " in text
        assert "===== \x1b[31;1mFAIL\x1b[0m: scenarios/c_wrong.yaml =====" in text
    else:
        assert "\x1b[" not in text
        assert "scenarios/a_approved.yaml  PASS     " in text


def test_parallel_processes_give_the_same_output_in_the_same_order(scenarios, tmp_path):
    one = run_cli("run", "scenarios", "--junit-xml", "one.xml", "--html", "one.html")
    two = run_cli("run", "scenarios", "-n", "2", "--junit-xml", "two.xml", "--html", "two.html")

    assert one[0] == two[0] == 2
    assert untimed(two[1]) == untimed(one[1])
    rows = [line.split()[0] for line in one[1].splitlines()[2:7]]
    assert rows == [  # the malformed file is reported first, then the file order
        "scenarios/d_bad.yaml",
        "scenarios/a_approved.yaml",
        "scenarios/b_broken.yaml",
        "scenarios/c_wrong.yaml",
        "scenarios/e_crash.yaml",
    ]
    assert untimed_xml(tmp_path / "one.xml") == untimed_xml(tmp_path / "two.xml")
    assert (tmp_path / "one.html").read_bytes() == (tmp_path / "two.html").read_bytes()


def untimed_xml(path):
    return re.sub(r'time="[\d.]+"', 'time="T"', path.read_text())


@pytest.mark.parametrize("given", ["0", "-1", "many"])
def test_a_bad_process_count_is_a_usage_error(scenarios, capsys, given):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "scenarios", "-n", given])
    assert exit_.value.code == 2
    assert f"-n takes a number of processes (1 or more) or auto, got {given!r}" in (
        capsys.readouterr().err
    )


def test_auto_is_one_process_per_cpu(scenarios):
    (scenarios / "d_bad.yaml").unlink()
    status, out = run_cli("run", "scenarios/a_approved.yaml", "-n", "auto")
    assert status == 0 and "1 passed, 0 failed, 0 errors" in out
