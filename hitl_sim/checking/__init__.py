"""The safety checks: what a finished `Run` proves, and the violations it shows.

Owns the checks behind `run.check()` (`checks`: `Violation`, `CHECKS`) and the cross-check of the
application's own audit trail against what really ran (`app_audit`). It reads records only: it
may import the record modules and `hitl_sim.reporting` (the audit log's describers); never the
driver.
"""

from __future__ import annotations

from hitl_sim.checking.app_audit import AppAudit, AuditMismatch, capture_log, cross_check
from hitl_sim.checking.checks import CHECKS, check, violations
from hitl_sim.checking.violation import Violation

__all__ = [
    "AppAudit",
    "AuditMismatch",
    "CHECKS",
    "Violation",
    "capture_log",
    "check",
    "cross_check",
    "violations",
]
