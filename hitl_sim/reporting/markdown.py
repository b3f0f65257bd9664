"""Results as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY`, a PR comment or a file.

The verdict and the counts, a table of every item that did not pass, then for each failure and
error its failed expectations (with the scenario file's line) and the Mermaid sequence diagram
of each of its runs (GitHub renders ```mermaid blocks). Text from runs is escaped (no HTML, no
table or fence breaking) and masked. Long summaries stop at `max_detailed` items and say so:
GitHub keeps at most 1 MiB of a step summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hitl_sim.normalise import stable_text
from hitl_sim.reporting.html import summary_line, verdict
from hitl_sim.reporting.item import ReportItem

__all__ = ["markdown_summary", "write_markdown"]

_ICON = {"PASS": "✅", "FAIL": "❌", "ERROR": "💥", "SKIP": "⏭️"}
_INLINE = re.compile(r"([\\`*_{}\[\]#|~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _inline(text: str) -> str:
    """`text` safe in a Markdown paragraph or table cell: one line, markup escaped (HTML's
    three as entities, so no tag can open)."""
    text = re.sub("[&<>]", lambda m: _ENTITIES[m.group(0)], " ".join(text.split()))
    return _INLINE.sub(r"\\\1", text)


def _fence(body: str, info: str = "text") -> str:
    """`body` in a code fence longer than any run of backticks inside it."""
    runs = [len(m) for m in re.findall(r"`+", body)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    return f"{ticks}{info}\n{body.rstrip()}\n{ticks}"


def markdown_summary(
    items: Sequence[ReportItem],
    *,
    title: str = "hitl-sim report",
    max_detailed: int = 20,
    diagrams: bool = True,
) -> str:
    """The Markdown summary of `items` (see the module docstring)."""
    overall = verdict(items)
    icon = "✅" if overall == "PASSED" else "❌"
    out = [f"## {icon} {_inline(title)}: {overall}", "", summary_line(items), ""]
    troubled = [item for item in items if item.status != "PASS"]
    if troubled:
        out += ["| status | scenario | first failed expectation |", "|---|---|---|"]
        for item in troubled:
            first = str(item.failures[0]) if item.failures else _first_line(item)
            out.append(
                f"| {_ICON[item.status]} {item.status} | {_inline(item.mask(item.id))} "
                f"| {_inline(stable_text(item.mask(first)))[:300]} |"
            )
        out.append("")
    detailed = [item for item in troubled if item.status in ("FAIL", "ERROR")]
    for item in detailed[:max_detailed]:
        out += [f"### {_ICON[item.status]} {_inline(item.mask(item.id))}", ""]
        if item.description:
            out += [_inline(item.mask(item.description)), ""]
        for failure in item.failures:
            out.append(f"- {_inline(stable_text(item.mask(str(failure))))}")
        if item.failures:
            out.append("")
        if not item.failures and item.details:
            out += [_fence(stable_text(item.mask(item.details))), ""]
        if diagrams:
            for view in item.run_views:
                out.append(_fence(view.mermaid, "mermaid"))
                out.append("")
    if len(detailed) > max_detailed:
        left = len(detailed) - max_detailed
        out += [f"... and {left} more failed item(s); see the HTML report.", ""]
    return "\n".join(out).rstrip() + "\n"


def _first_line(item: ReportItem) -> str:
    return next((line for line in item.details.splitlines() if line.strip()), item.status_note)


def write_markdown(
    path: str | Path,
    items: Sequence[ReportItem],
    *,
    append: bool = True,
    title: str = "hitl-sim report",
    max_detailed: int = 20,
    diagrams: bool = True,
) -> Path:
    """Write (by default append, as `$GITHUB_STEP_SUMMARY` expects) the summary to `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = markdown_summary(items, title=title, max_detailed=max_detailed, diagrams=diagrams)
    with target.open("a" if append else "w", encoding="utf-8") as stream:
        stream.write(text)
    return target
