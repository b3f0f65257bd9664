"""The HTML report in a real headless browser (Debian's Chromium): it loads with no console
message at all, its script runs under its own Content-Security-Policy, the filters work, and a
screenshot of a failing scenario shows its sequence diagram with the violation in red."""

from __future__ import annotations

import re
import shutil

import pytest

from hitl_sim.reporting.html import write_html
from hitl_sim.reporting.item import Failure, ReportItem
from tests.reporting import runs
from tests.reporting.browser import CHROMIUM, dump_dom, png_pixels, screenshot

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium; "
    ".ci/run does) to test the HTML report in a real browser",
)

VIOLATION_RED = (0xCF, 0x22, 0x2E)


@pytest.fixture(scope="module")
def report(tmp_path_factory, broken_item, passing_item):
    hostile = ReportItem(
        "hostile.yaml",
        "FAIL",
        tags=("hostile",),
        failures=(Failure(runs.HOSTILE, "hostile.yaml:1"),),
        runs=(runs.hostile_run(),),
    )
    folder = tmp_path_factory.mktemp("report")
    return write_html(folder / "report.html", [broken_item, passing_item, hostile])


def test_chromium_is_the_real_one():
    assert shutil.which(str(CHROMIUM))
    found = dump_dom("data:text/html,<p>ok</p>")
    assert "<p>ok</p>" in found.dom


def test_the_console_reader_sees_errors(tmp_path):
    """The positive control: a page that errs is seen erring (so 'no messages' means none)."""
    page = tmp_path / "bad.html"
    page.write_text("<p>x</p><script>console.error('boom'); missing();</script>")

    found = dump_dom(page.as_uri())

    assert any("boom" in line for line in found.console), found.stderr[-2000:]
    assert any("missing is not defined" in line for line in found.console)


def test_the_report_loads_with_no_console_message_and_its_script_runs(report):
    found = dump_dom(report.as_uri())

    assert found.console == [], found.console
    assert '<body data-ready="yes">' in found.dom  # the script ran: the CSP hash is right
    assert "3 of 3 shown" in found.dom
    assert "<img" not in found.dom  # the hostile text stayed text in the live DOM
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in found.dom


def test_a_link_with_a_status_filter_opens_filtered(report):
    found = dump_dom(report.as_uri() + "#status=FAIL&tag=broken")

    assert found.console == []
    sections = re.findall(r'<section class="item (\w+)"[^>]*?( hidden="")?>', found.dom)
    assert sections == [("FAIL", ""), ("PASS", ' hidden=""'), ("FAIL", ' hidden=""')]
    assert "1 of 3 shown" in found.dom


def test_a_screenshot_of_a_failing_scenario_shows_its_diagram(report, tmp_path):
    png = tmp_path / "failing.png"

    found = screenshot(report.as_uri() + "#status=FAIL&tag=broken", png)

    assert found.console == []
    width, height, pixels = png_pixels(png)
    assert (width, height) == (1400, 1600)
    assert png.stat().st_size > 30_000  # a page of text and drawing, not a blank image
    colors = set(pixels)
    assert len(colors) > 200  # anti-aliased text and shapes
    red = sum(
        1 for p in pixels if all(abs(a - b) <= 8 for a, b in zip(p, VIOLATION_RED, strict=True))
    )
    assert red > 2_000, f"only {red} pixels of the violation red: the diagram is not in view"
    shutil.copy(png, report.parent / "failing.png")  # for a person to look at
