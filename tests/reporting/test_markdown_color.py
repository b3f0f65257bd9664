"""The Markdown summary ($GITHUB_STEP_SUMMARY) and terminal colour (NO_COLOR, isatty)."""

from __future__ import annotations

import io

import pytest

from hitl_sim.errors import InvalidValue
from hitl_sim.reporting.color import Colors, wants_color
from hitl_sim.reporting.diagram import mermaid
from hitl_sim.reporting.item import Failure, ReportItem
from hitl_sim.reporting.markdown import markdown_summary, write_markdown
from tests.reporting import runs


def test_the_summary_lists_what_did_not_pass_with_the_diagram_of_each_failure(
    broken_item, passing_item, folder
):
    skipped = ReportItem("needs_pg.yaml", "SKIP", details="needs a PostgreSQL server")
    text = markdown_summary([broken_item, passing_item, skipped])

    assert text.startswith(
        "## ❌ hitl-sim report: FAILED\n\n1 passed, 1 failed, 0 errors, 1 skipped\n"
    )
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0] == "| status | scenario | first failed expectation |"
    assert table[1].startswith(
        "| ❌ FAIL | &lt;tmp&gt;/scenarios0/broken\\_fork.yaml::broken\\_fork | "
    )
    assert "broken\\_fork.yaml:23: run: not\\_executed: 'delete\\_file' ran" in table[1]
    assert table[2] == "| ⏭️ SKIP | needs\\_pg.yaml | needs a PostgreSQL server |"
    assert len(table) == 3  # the pass is counted, not listed
    fence = "```mermaid\n" + mermaid(broken_item.runs[0], broken_item.violations[0]) + "```"
    assert fence in text
    assert "VIOLATION [rejected\\_call\\_ran]" not in text  # inside the fence it is not escaped
    assert "VIOLATION [rejected_call_ran]" in text
    assert text.count("```mermaid") == 1  # only failures and errors get a diagram


def test_a_summary_with_nothing_passed_does_not_say_passed():
    text = markdown_summary([ReportItem("a.yaml", "SKIP", details="no postgres")])

    assert text.startswith("## ❌ hitl-sim report: NOTHING PASSED\n")


def test_hostile_text_cannot_break_the_table_or_inject_html():
    item = ReportItem(
        "x|y",
        "FAIL",
        description=runs.HOSTILE,
        failures=(Failure("| cell <b>bold</b> ``` fence", "x.yaml:2"),),
        runs=(runs.hostile_run(),),
    )
    text = markdown_summary([item])

    assert "<img" not in text and "<b>" not in text and "</script>" not in text
    row = next(line for line in text.splitlines() if line.startswith("| ❌"))
    assert row.count("|") - row.count("\\|") == 4  # three cells, whatever the text held
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text  # a paragraph of text


def test_a_long_summary_stops_and_says_so():
    many = [ReportItem(f"s{i}.yaml", "FAIL", failures=(Failure("x"),)) for i in range(5)]

    text = markdown_summary(many, max_detailed=2)

    assert text.count("### ") == 2
    assert "... and 3 more failed item(s); see the HTML report." in text


def test_write_markdown_appends_as_the_step_summary_expects(tmp_path, passing_item):
    path = tmp_path / "summary.md"
    path.write_text("# earlier step\n")

    write_markdown(path, [passing_item])

    assert path.read_text() == "# earlier step\n" + markdown_summary([passing_item])
    write_markdown(path, [passing_item], append=False)
    assert path.read_text() == markdown_summary([passing_item])


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "mode", "environ", "colored"),
    [
        (Tty(), "auto", {}, True),
        (io.StringIO(), "auto", {}, False),  # a pipe or file
        (Tty(), "auto", {"NO_COLOR": "1"}, False),
        (Tty(), "always", {"NO_COLOR": "1"}, False),  # NO_COLOR wins even over always
        (Tty(), "auto", {"NO_COLOR": ""}, True),  # empty means unset (no-color.org)
        (io.StringIO(), "always", {}, True),
        (Tty(), "never", {}, False),
        (Tty(), "auto", {"TERM": "dumb"}, False),
        (None, "auto", {}, False),
    ],
)
def test_colour_follows_the_mode_the_terminal_and_no_color(stream, mode, environ, colored):
    assert wants_color(stream, mode, environ) is colored
    painted = Colors.for_stream(stream, mode, environ).status("FAIL", 6)
    assert painted == ("\x1b[31;1mFAIL\x1b[0m  " if colored else "FAIL  ")


def test_colour_reads_the_real_environment(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "yes")
    assert not wants_color(Tty(), "always")
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.delenv("TERM", raising=False)
    assert wants_color(Tty(), "auto")


def test_a_closed_stream_is_not_a_terminal_and_a_bad_mode_is_refused():
    closed = io.StringIO()
    closed.close()
    assert not wants_color(closed, "auto", {})
    with pytest.raises(InvalidValue, match=r"color mode 'sometimes' is not one of auto, always"):
        wants_color(Tty(), "sometimes", {})
    assert Colors(True).paint("x", "no-such-style") == "x"


def test_progress_is_drawn_in_place_on_a_terminal_and_not_at_all_elsewhere():
    from hitl_sim.reporting.progress import Progress

    terminal, pipe = Tty(), io.StringIO()
    live = Progress.for_stream(terminal, 12, color="never")
    quiet = Progress.for_stream(pipe, 12, color="never")
    for progress in (live, quiet):
        progress.advance("scenarios/a.yaml", "PASS")
        progress.advance("scenarios/long_name.yaml", "FAIL")
        progress.advance("b.yaml", "PASS")
        progress.close()

    assert pipe.getvalue() == ""
    first = "[ 1/12] 0 failed, 0 errors  PASS scenarios/a.yaml"
    second = "[ 2/12] 1 failed, 0 errors  FAIL scenarios/long_name.yaml"
    third = "[ 3/12] 1 failed, 0 errors  PASS b.yaml"
    assert terminal.getvalue() == (
        f"\r{first}\r{second}\r{third}{' ' * (len(second) - len(third))}"  # the rest wiped
        f"\r{' ' * len(third)}\r"  # closing erases the line
    )
    assert quiet.counts == live.counts == {"PASS": 2, "FAIL": 1}
