"""Rendering runs and results for people and CI: the audit log (`audit_log`) and snapshots
(`snapshots`), a run as a sequence diagram (`diagram`: Mermaid text and a self-contained SVG),
one report item per scenario or test (`item`), a self-contained HTML report (`html`), a Markdown
summary for `$GITHUB_STEP_SUMMARY` (`markdown`), the JUnit failure message (`junit`), ANSI
colour and a progress line for a terminal (`color`, `progress`), and a report folder of all of
them (`bundle`). It reads what already happened and never makes anything happen:
it may import only the record modules `hitl_sim.run`, `hitl_sim.timeline`,
`hitl_sim.interrupts`, `hitl_sim.decisions`, `hitl_sim.normalise` and `hitl_sim.errors` (and each
other), never the driver, the scenario runner or pytest, so the command line, the pytest plugin
and a plain script can all use them.
"""

from __future__ import annotations

from hitl_sim.reporting.audit_log import AuditEvent, AuditLog
from hitl_sim.reporting.snapshots import assert_snapshot_file, run_matcher, snapshot_text

__all__ = ["AuditEvent", "AuditLog", "assert_snapshot_file", "run_matcher", "snapshot_text"]
