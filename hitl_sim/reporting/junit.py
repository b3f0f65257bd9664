"""What a JUnit `<failure>`/`<error>`/`<skipped>` element says: the message CI shows as the
headline is the first failed expectation with the scenario file's line, and the body is the
whole report (every failed expectation, then each run's timeline)."""

from __future__ import annotations

from hitl_sim.reporting.item import ReportItem

__all__ = ["MESSAGE_WIDTH", "junit_body", "junit_message", "junit_tag"]

MESSAGE_WIDTH = 300
"""The longest message (one line; CI tools show it as the headline)."""


def junit_tag(item: ReportItem) -> str | None:
    """The JUnit element of the item's outcome: failure, error, skipped, or None for a pass."""
    return {"FAIL": "failure", "ERROR": "error", "SKIP": "skipped"}.get(item.status)


def junit_message(item: ReportItem) -> str:
    """One line: the first failed expectation (`path:line: key: what happened`), else the first
    line of the error or skip reason; empty for a pass."""
    if item.status == "PASS":
        return ""
    if item.failures:
        text = str(item.failures[0])
        more = len(item.failures) - 1
        suffix = f" (+{more} more failed expectation{'s' * (more != 1)})" if more else ""
    else:
        text = next((line for line in item.details.splitlines() if line.strip()), "")
        text = text or item.status_note or f"{item.status} with no details"
        suffix = ""
    line = " ".join(item.mask(text).split())
    room = MESSAGE_WIDTH - len(suffix)
    if len(line) > room:
        line = line[: room - 3] + "..."
    return line + suffix


def junit_body(item: ReportItem) -> str:
    """The whole report of the item, masked; empty for a pass."""
    if item.status == "PASS":
        return ""
    lines = []
    if item.status_note:
        lines.append(f"status {item.status}: {item.status_note}")
    if item.failures:
        lines.append(f"{len(item.failures)} expectation(s) failed:")
        lines.extend(f"- {failure}" for failure in item.failures)
        lines.append("")
    lines.append(item.details)
    return item.mask("\n".join(lines)).rstrip() + "\n"
