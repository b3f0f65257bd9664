"""Many results as one self-contained HTML file: open it from a CI artifact, a mail, a laptop.

Everything is inline (CSS, one small script, every diagram as inline SVG); a Content-Security-
Policy forbids every fetch (`default-src 'none'`) and runs only that script (by its hash), so
nothing is loaded at view time and no text from a run can run as code even if it got through the
escaping. Every text is HTML-escaped and masked with the secrets its runs saw.

The page: a summary (counts per status and the overall verdict: a skip is never a pass, and a
report with no passed item does not say PASSED), filters by status and tag and a text search
(kept in the address's `#status=FAIL,ERROR&tag=smoke&q=...`, so a link opens filtered), then per
item its id, status, description and tags, the failed expectations with the scenario file's line,
and per run the sequence diagram, the timeline and the audit log, then snapshot diffs and the
whole text report. Same items, same bytes: no time, host, path of this machine or version.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from pathlib import Path

from hitl_sim.normalise import stable_text
from hitl_sim.reporting.item import STATUSES, ReportItem

__all__ = ["html_report", "summary_counts", "verdict", "write_html"]

_WORDS = {"FAIL": "failed", "ERROR": "errors", "SKIP": "skipped", "PASS": "passed"}


def summary_counts(items: Sequence[ReportItem]) -> dict[str, int]:
    """How many items have each status, worst first (FAIL, ERROR, SKIP, PASS)."""
    return {status: sum(item.status == status for item in items) for status in STATUSES}


def verdict(items: Sequence[ReportItem]) -> str:
    """FAILED when an item failed or errored, NOTHING PASSED when none passed (all skipped, or
    no items), else PASSED."""
    counts = summary_counts(items)
    if counts["FAIL"] or counts["ERROR"]:
        return "FAILED"
    if not counts["PASS"]:
        return "NOTHING PASSED"
    return "PASSED"


def summary_line(items: Sequence[ReportItem]) -> str:
    counts = summary_counts(items)
    return ", ".join(f"{counts[s]} {_WORDS[s]}" for s in ("PASS", "FAIL", "ERROR", "SKIP"))


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_SCRIPT = """
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("section.item"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=status]"));
  var tag = document.getElementById("tag");
  var search = document.getElementById("q");
  var shown = document.getElementById("shown");
  function state() {
    var wanted = boxes.filter(function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    return {status: wanted, tag: tag.value, q: search.value.toLowerCase()};
  }
  function apply() {
    var s = state();
    var count = 0;
    items.forEach(function (item) {
      var ok = s.status.indexOf(item.getAttribute("data-status")) >= 0;
      if (ok && s.tag) {
        ok = (" " + item.getAttribute("data-tags") + " ").indexOf(" " + s.tag + " ") >= 0;
      }
      if (ok && s.q) { ok = item.textContent.toLowerCase().indexOf(s.q) >= 0; }
      item.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + items.length + " shown";
  }
  function save() {
    var s = state();
    var parts = ["status=" + s.status.join(",")];
    if (s.tag) { parts.push("tag=" + encodeURIComponent(s.tag)); }
    if (search.value) { parts.push("q=" + encodeURIComponent(search.value)); }
    history.replaceState(null, "", "#" + parts.join("&"));
    apply();
  }
  function load() {
    var hash = location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at < 0) { return; }
      var key = pair.slice(0, at);
      var value = decodeURIComponent(pair.slice(at + 1));
      if (key === "status") {
        var wanted = value.split(",");
        boxes.forEach(function (b) { b.checked = wanted.indexOf(b.value) >= 0; });
      } else if (key === "tag") {
        tag.value = value;
      } else if (key === "q") {
        search.value = value;
      }
    });
    apply();
  }
  boxes.forEach(function (b) { b.addEventListener("change", save); });
  tag.addEventListener("change", save);
  search.addEventListener("input", save);
  load();
  document.body.setAttribute("data-ready", "yes");
})();
""".strip()

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; img-src data:; base-uri 'none'; form-action 'none'"
)

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
  color: #1f2328; background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid #d0d7de; padding: 16px 24px;
  position: sticky; top: 0; z-index: 1; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 0 0 6px; word-break: break-all; }
h3 { font-size: 14px; margin: 12px 0 4px; }
main { padding: 16px 24px; }
.verdict-FAILED, .verdict-NOTHING { color: #cf222e; }
.verdict-PASSED { color: #1a7f37; }
.badge { display: inline-block; min-width: 48px; text-align: center; border-radius: 4px;
  padding: 0 6px; margin-right: 8px; font: bold 12px/20px monospace; color: #fff; }
.badge.PASS { background: #1a7f37; } .badge.FAIL { background: #cf222e; }
.badge.ERROR { background: #8250df; } .badge.SKIP { background: #9a6700; }
nav label { margin-right: 12px; white-space: nowrap; }
nav select, nav input[type=search] { margin-right: 12px; }
section.item { background: #fff; border: 1px solid #d0d7de; border-radius: 6px;
  padding: 12px 16px; margin: 0 0 16px; }
section.item.FAIL, section.item.ERROR { border-left: 6px solid #cf222e; }
section.item.SKIP { border-left: 6px solid #9a6700; }
section.item.PASS { border-left: 6px solid #1a7f37; }
.tags span { display: inline-block; background: #ddf4ff; border-radius: 10px; padding: 0 8px;
  margin-right: 4px; font-size: 12px; }
.failures li { color: #82071e; margin: 2px 0; white-space: pre-wrap; }
.failures code { color: #57606a; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 8px;
  overflow: auto; font: 12px/1.4 monospace; white-space: pre; }
.diagram { overflow: auto; border: 1px solid #d0d7de; border-radius: 4px; background: #fff; }
.diff .add { color: #116329; background: #dafbe1; }
.diff .del { color: #82071e; background: #ffebe9; }
.note { color: #9a6700; }
summary { cursor: pointer; font-weight: 600; margin: 8px 0 4px; }
""".strip()


def html_report(items: Sequence[ReportItem], *, title: str = "hitl-sim report") -> str:
    """The whole report as one HTML document (a str)."""
    counts = summary_counts(items)
    overall = verdict(items)
    tags = sorted({tag for item in items for tag in item.tags})
    heading = f"{title}: {overall}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(heading)}</title>",
        f"<style>\n{_STYLE}\n</style>",
        "</head>",
        '<body data-ready="no">',
        "<header>",
        f'<h1>{_e(title)}: <span class="verdict-{overall.split()[0]}">{_e(overall)}</span></h1>',
        f'<p id="summary">{_e(summary_line(items))} ({len(items)} in all)</p>',
        '<nav id="filters">',
    ]
    for status in STATUSES:
        out.append(
            f'<label><input type="checkbox" name="status" value="{status}" checked> '
            f'<span class="badge {status}">{status}</span>{counts[status]}</label>'
        )
    out.append('<select id="tag" aria-label="tag"><option value="">every tag</option>')
    out.extend(f'<option value="{_e(tag)}">{_e(tag)}</option>' for tag in tags)
    out.append("</select>")
    out.append('<input type="search" id="q" placeholder="search" aria-label="search">')
    out.append(f'<span id="shown">{len(items)} of {len(items)} shown</span>')
    out.extend(["</nav>", "</header>", "<main>"])
    for index, item in enumerate(items, 1):
        out.extend(_item(index, item))
    if not items:
        out.append('<p class="note">No items: nothing ran, and nothing passed.</p>')
    out.extend(["</main>", f"<script>{_SCRIPT}</script>", "</body>", "</html>"])
    return "\n".join(out) + "\n"


def _item(index: int, item: ReportItem) -> list[str]:
    def text(value: str) -> str:
        return _e(stable_text(item.mask(value)))

    status = item.status
    out = [
        f'<section class="item {status}" id="item-{index}" data-status="{status}" '
        f'data-tags="{_e(" ".join(item.tags))}">',
        f'<h2><span class="badge {status}">{status}</span>{text(item.id)}</h2>',
    ]
    if item.status_note:
        out.append(f'<p class="note">{text(item.status_note)}</p>')
    if item.description:
        out.append(f'<p class="description">{text(item.description)}</p>')
    if item.tags:
        out.append(
            '<p class="tags">' + "".join(f"<span>{text(tag)}</span>" for tag in item.tags) + "</p>"
        )
    if item.failures:
        out.append('<div class="failures"><h3>Failed expectations</h3><ul>')
        for failure in item.failures:
            where = f"<code>{text(failure.where)}</code> " if failure.where else ""
            out.append(f"<li>{where}{text(failure.text)}</li>")
        out.append("</ul></div>")
    failing = status != "PASS"
    views = item.run_views
    for number, view in enumerate(views):
        label = "Run" if len(views) == 1 else f"Run {number + 1} of {len(views)}"
        out.append(f'<details class="run"{" open" if failing else ""}>')
        out.append(f"<summary>{label}: sequence diagram</summary>")
        out.append(f'<div class="diagram">\n{view.svg}</div>')
        out.append("</details>")
        out.append("<details><summary>" + label + ": timeline</summary>")
        out.append(f"<pre>{text(view.timeline)}</pre></details>")
        out.append("<details><summary>" + label + ": audit log</summary>")
        out.append(f"<pre>{text(view.audit)}</pre></details>")
    for diff in item.snapshot_diffs:
        out.append("<details open><summary>Snapshot diff</summary>")
        out.append(f'<pre class="diff">{_diff(item.mask(diff))}</pre></details>')
    if item.details:
        opened = " open" if status in ("ERROR", "SKIP") or (failing and not views) else ""
        out.append(f"<details{opened}><summary>Whole report</summary>")
        out.append(f"<pre>{text(item.details)}</pre></details>")
    out.append("</section>")
    return out


def _diff(text: str) -> str:
    lines = []
    for line in stable_text(text).splitlines():
        shown = _e(line)
        if line.startswith("+") and not line.startswith("+++"):
            lines.append(f'<span class="add">{shown}</span>')
        elif line.startswith("-") and not line.startswith("---"):
            lines.append(f'<span class="del">{shown}</span>')
        else:
            lines.append(shown)
    return "\n".join(lines)


def write_html(
    path: str | Path, items: Sequence[ReportItem], *, title: str = "hitl-sim report"
) -> Path:
    """Write `html_report(items)` to `path` (its folders are made); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(html_report(items, title=title).encode("utf-8"))
    return target
