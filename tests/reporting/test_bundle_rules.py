"""The report folder, `from_test` for pytest items, and the package's import rules."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from hitl_sim.reporting.bundle import write_report_dir
from hitl_sim.reporting.html import html_report
from hitl_sim.reporting.item import ReportItem, from_test
from hitl_sim.reporting.markdown import markdown_summary
from tests.agents.secrets import API_KEY, secret_run
from tests.reporting import runs

PACKAGE = Path(__file__).resolve().parents[2] / "hitl_sim" / "reporting"
OURS = ("__init__", "bundle", "color", "diagram", "html", "item", "junit", "markdown", "progress")
ALLOWED = {
    "hitl_sim.run",
    "hitl_sim.timeline",
    "hitl_sim.interrupts",
    "hitl_sim.decisions",
    "hitl_sim.normalise",
    "hitl_sim.errors",
}


def test_the_folder_holds_the_report_the_summary_and_each_failing_runs_diagram(
    tmp_path, broken_item, passing_item
):
    skipped = ReportItem("z_skipped.yaml", "SKIP", details="no postgres")
    written = write_report_dir(tmp_path, [passing_item, skipped, broken_item])

    names = sorted(written)
    assert names[2:] == ["report.html", "summary.md"]
    assert [re.sub(r"^diagrams/.*-scenarios\d+-", "diagrams/", n) for n in names[:2]] == [
        "diagrams/broken_fork.yaml-broken_fork-run1.mmd",
        "diagrams/broken_fork.yaml-broken_fork-run1.svg",
    ]  # only the failure has diagrams (the skip has no run, the pass needs none)
    ordered = sorted([passing_item, skipped, broken_item], key=lambda i: i.id)
    assert (tmp_path / "report.html").read_text() == html_report(ordered)
    assert (tmp_path / "summary.md").read_text() == markdown_summary(ordered)
    svg = next(p for name, p in written.items() if name.endswith(".svg")).read_text()
    assert "VIOLATION [rejected_call_ran]" in svg


def test_the_folder_is_the_same_whatever_order_the_items_finished_in(
    tmp_path, broken_item, passing_item
):
    one = write_report_dir(tmp_path / "a", [broken_item, passing_item])
    two = write_report_dir(tmp_path / "b", [passing_item, broken_item])

    assert sorted(one) == sorted(two)
    for name in one:
        assert one[name].read_bytes() == two[name].read_bytes()


def test_a_pytest_item_becomes_an_item_fail_closed():
    run = secret_run()
    failed = from_test(
        "tests/test_x.py::test_rotate",
        "failed",
        where="tests/test_x.py:12",
        message=f"AssertionError: key {API_KEY} ran",
        details=f"def test_rotate():\n>   assert ...\nE   AssertionError: key {API_KEY} ran",
        runs=[run],
    )
    assert failed.status == "FAIL"
    assert str(failed.failures[0]) == "tests/test_x.py:12: AssertionError: key *** ran"
    assert API_KEY not in failed.details

    assert from_test("t::a", "passed").status == "PASS"
    assert from_test("t::b", "skipped").status == "SKIP"
    unknown = from_test("t::c", None)
    assert (unknown.status, unknown.status_note) == (
        "ERROR",
        "given status 'None' is not PASS/FAIL/ERROR/SKIP: not judged",
    )
    silent = from_test("t::d", "failed")
    assert [f.text for f in silent.failures] == ["the test failed"]


def _hitl_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("hitl_sim", "pytest")}


def test_the_report_modules_import_only_the_record_modules_and_each_other():
    for name in OURS:
        imported = _hitl_imports(PACKAGE / f"{name}.py")
        foreign = {
            module
            for module in imported
            if module not in ALLOWED and not module.startswith("hitl_sim.reporting.")
        }
        assert foreign == set(), f"hitl_sim/reporting/{name}.py imports {sorted(foreign)}"


def test_rendering_a_report_from_a_plain_script_loads_no_pytest_and_no_driver(tmp_path):
    script = (
        "import sys\n"
        "from hitl_sim.reporting import bundle, color, diagram, html, item, junit\n"
        "from hitl_sim.reporting import markdown, progress\n"
        "page = html.html_report([item.ReportItem('a.yaml', 'SKIP', details='x')])\n"
        "assert 'NOTHING PASSED' in page\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('pytest', '_pytest',\n"
        "    'hitl_sim.driving', 'hitl_sim.scenarios', 'hitl_sim.checking')))\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"


def test_the_hostile_run_gives_the_same_folder_twice(tmp_path):
    item = ReportItem("hostile.yaml", "FAIL", runs=(runs.hostile_run(),))
    again = ReportItem("hostile.yaml", "FAIL", runs=(runs.hostile_run(),))

    one = write_report_dir(tmp_path / "a", [item])
    two = write_report_dir(tmp_path / "b", [again])
    assert {n: p.read_bytes() for n, p in one.items()} == {
        n: p.read_bytes() for n, p in two.items()
    }


def test_a_rendered_item_crosses_processes_and_reports_the_same(broken_item, passing_item):
    import json
    import pickle

    from hitl_sim.reporting.junit import junit_body, junit_message

    items = [broken_item, passing_item]
    shipped = [ReportItem.from_dict(json.loads(json.dumps(item.to_dict()))) for item in items]
    pickled = [pickle.loads(pickle.dumps(item.rendered())) for item in items]

    for copy in (shipped, pickled):
        assert all(item.runs == () for item in copy)
        assert html_report(copy) == html_report(items)
        assert markdown_summary(copy) == markdown_summary(items)
        assert [junit_message(i) for i in copy] == [junit_message(i) for i in items]
        assert [junit_body(i) for i in copy] == [junit_body(i) for i in items]


def test_rendering_masks_first_and_keeps_a_not_judged_status():
    run = secret_run()
    item = ReportItem(
        "rotate.yaml",
        "maybe",  # type: ignore[arg-type]
        description=f"rotates {API_KEY} by hand",
        details=f"api_key {API_KEY}",
        runs=(run,),
    )
    data = item.to_dict()

    assert API_KEY not in str(data)
    back = ReportItem.from_dict(data)
    assert (back.status, back.status_note) == (
        "ERROR",
        "given status 'maybe' is not PASS/FAIL/ERROR/SKIP: not judged",
    )
    assert ReportItem.from_dict({**data, "status": "PASSED!"}).status == "ERROR"
    assert "VIOLATION [unapproved_call]" in back.views[0].mermaid
    bare = item.rendered(draw=False)
    assert (bare.runs, bare.views, bare.details) == ((), (), "api_key ***")
