"""A report folder, what `--hitl-sim-report DIR` and CI artifacts hold: the HTML report, the
Markdown summary, and the diagram of every run of every item that did not pass (as SVG and as
Mermaid text), with names that do not depend on the order the items finished in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hitl_sim.reporting.html import write_html
from hitl_sim.reporting.item import ReportItem
from hitl_sim.reporting.markdown import write_markdown

__all__ = ["write_report_dir"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(ident: str) -> str:
    return _UNSAFE.sub("-", ident).strip("-.")[:80] or "item"


def write_report_dir(
    directory: str | Path, items: Sequence[ReportItem], *, title: str = "hitl-sim report"
) -> dict[str, Path]:
    """Write `report.html`, `summary.md` and `diagrams/<item>-run<k>.svg|.mmd` (failed, errored
    and skipped items only) into `directory`; returns what was written, by name. Items are
    written sorted by id, so the same results give the same files in any completion order."""
    folder = Path(directory)
    ordered = sorted(items, key=lambda item: item.id)
    written = {
        "report.html": write_html(folder / "report.html", ordered, title=title),
        "summary.md": write_markdown(folder / "summary.md", ordered, append=False, title=title),
    }
    for item in ordered:
        if item.status == "PASS":
            continue
        for number, view in enumerate(item.run_views):
            stem = f"diagrams/{_slug(item.id)}-run{number + 1}"
            for suffix, text in ((".svg", view.svg), (".mmd", view.mermaid)):
                path = folder / f"{stem}{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                written[f"{stem}{suffix}"] = path
    return written
