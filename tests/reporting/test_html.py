"""The HTML report: self-contained, escaped, masked, deterministic, and fail closed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hitl_sim.checking.checks import violations
from hitl_sim.reporting.html import html_report, verdict, write_html
from hitl_sim.reporting.item import Failure, ReportItem, from_result
from hitl_sim.scenarios.loader import where_in_file
from tests.agents.secrets import SECRETS, secret_run
from tests.reporting import runs


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of every <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def parsed(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_the_report_of_a_failing_and_a_passing_scenario(broken_item, passing_item):
    page = html_report([broken_item, passing_item])
    tags = parsed(page)
    text = "".join(tags.text)

    assert "<title>hitl-sim report: FAILED</title>" in page
    assert "1 passed, 1 failed, 0 errors, 0 skipped (2 in all)" in text
    sections = [a for t, a in tags.tags if t == "section"]
    assert [(a["data-status"], a["data-tags"]) for a in sections] == [
        ("FAIL", "broken demo"),
        ("PASS", "smoke"),
    ]
    assert "Failed expectations" in text
    line = runs.BROKEN_SCENARIO.splitlines().index("  not_executed: [delete_file]") + 1
    assert f"broken_fork.yaml:{line} run: not_executed: 'delete_file' ran" in text
    assert "VIOLATION [rejected_call_ran]" in text  # the diagram marks it, with its evidence
    assert "evidence: ran: delete_file(path='/srv/db')" in text
    assert "audit log of thread-1" in text
    assert "Run timeline:" in text
    assert sum(1 for t, _ in tags.tags if t == "svg") == 2
    options = [a["value"] for t, a in tags.tags if t == "option"]
    assert options == ["", "broken", "demo", "smoke"]


def test_nothing_is_fetched_at_view_time_and_only_our_script_may_run(broken_item):
    page = html_report([broken_item])
    tags = parsed(page)

    assert [t for t, _ in tags.tags if t in ("link", "img", "iframe", "object", "embed")] == []
    for _, attrs in tags.tags:
        for name, value in attrs.items():
            assert not (name in ("src", "href") and value and not value.startswith("#"))
            assert not name.startswith("on")  # no inline handlers
    assert len(tags.scripts) == 1
    [policy] = [
        a["content"] for t, a in tags.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy.startswith("default-src 'none';")
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]{44}';", policy)
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_hostile_tool_arguments_are_text_not_markup():
    run = runs.hostile_run()
    item = ReportItem(
        runs.HOSTILE,
        "FAIL",
        description=runs.HOSTILE,
        tags=(runs.HOSTILE,),
        failures=(Failure(runs.HOSTILE, runs.HOSTILE),),
        runs=(run,),
        details=runs.HOSTILE,
        snapshot_diffs=("+" + runs.HOSTILE,),
    )
    page = html_report([item], title=runs.HOSTILE)
    tags = parsed(page)

    assert page.count("</script>") == 1  # the report's own
    assert "<img" not in page
    assert [t for t, _ in tags.tags].count("script") == 1
    assert [t for t, _ in tags.tags if t == "img"] == []
    assert all(not name.startswith("on") for _, attrs in tags.tags for name in attrs)
    text = "".join(tags.text)
    assert text.count(runs.HOSTILE) >= 8  # shown, as text, everywhere it was given
    assert "shell(command='</script><img src=x onerror=alert(1)>')" in text


def test_every_secret_the_runs_saw_is_masked_everywhere():
    run = secret_run()
    item = ReportItem(
        "secrets.yaml",
        "FAIL",
        failures=(Failure(f"the model said client_secret={SECRETS[3]}", "secrets.yaml:3"),),
        runs=(run,),
        details=f"api key {SECRETS[1]} and pin {SECRETS[0]}",
    )
    page = html_report([item])

    for secret in SECRETS:
        assert secret not in page
    assert "password=***" in page


def test_the_same_results_give_the_same_bytes(folder):
    def report():
        broken = runs.scenario_result(folder, "broken_fork", runs.BROKEN_SCENARIO)
        fine = runs.scenario_result(folder, "one_email", runs.PASSING_SCENARIO)
        items = [from_result(r, locate=where_in_file, judge=violations) for r in (broken, fine)]
        return html_report(items)

    first, second = report(), report()

    assert first == second
    assert str(folder) not in first  # no path of this machine
    assert not re.search(r"\d+\.\d{2,}\s?s\b", first)  # no wall-clock duration


def test_write_html_writes_utf8_bytes_and_makes_folders(tmp_path, broken_item):
    target = write_html(tmp_path / "deep" / "report.html", [broken_item])

    assert target.read_bytes() == html_report([broken_item]).encode("utf-8")


def test_the_verdict_is_fail_closed():
    passed = ReportItem("a", "PASS")
    skipped = ReportItem("b", "SKIP")

    assert verdict([passed, skipped]) == "PASSED"
    assert verdict([skipped]) == "NOTHING PASSED"
    assert verdict([]) == "NOTHING PASSED"
    assert verdict([passed, ReportItem("c", "ERROR")]) == "FAILED"
    assert verdict([passed, ReportItem("d", "PASS", failures=(Failure("x"),))]) == "FAILED"
    assert verdict([passed, ReportItem("e", None)]) == "FAILED"  # type: ignore[arg-type]
    page = html_report([skipped])
    assert "<title>hitl-sim report: NOTHING PASSED</title>" in page
    assert 'data-status="SKIP"' in page and 'data-status="PASS"' not in page


def test_an_error_row_without_a_run_shows_its_details_open():
    item = ReportItem("s.yaml", "ERROR", details="RuntimeError: boom (raised in factory)")
    page = html_report([item])

    assert "<details open><summary>Whole report</summary>" in page
    assert "RuntimeError: boom (raised in factory)" in page
