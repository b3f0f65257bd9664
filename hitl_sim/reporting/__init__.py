"""Rendering runs and results for people and CI: a sequence diagram of a run (Mermaid text and a
self-contained SVG), one self-contained HTML report of many scenario or test results, a Markdown
summary for `$GITHUB_STEP_SUMMARY`, the JUnit failure message, and ANSI colour for a terminal.
It reads what already happened and never makes anything happen: its modules import only the
record modules `hitl_sim.run`, `hitl_sim.timeline`, `hitl_sim.interrupts`, `hitl_sim.decisions`,
`hitl_sim.normalise` and `hitl_sim.errors` (and each other), never the driver, the scenario
runner or pytest, so the command line, the pytest plugin and a plain script can all use them.
"""

from __future__ import annotations

from hitl_sim.reporting.audit_log import AuditEvent, AuditLog
from hitl_sim.reporting.snapshots import assert_snapshot_file, run_matcher, snapshot_text

__all__ = ["AuditEvent", "AuditLog", "assert_snapshot_file", "run_matcher", "snapshot_text"]
