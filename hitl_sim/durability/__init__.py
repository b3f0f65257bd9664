"""Durable runs: real checkpointers, restarts between resumes, crashes inside one.

Owns the checkpointer stores (memory, SQLite, PostgreSQL: `checkpointers`), the ledger of what
ran across processes (`ledger`), runs restarted between resumes in-process or in new processes
(`restart`), and crash reports for a process killed during a resume (`crash`). It drives runs
through `hitl_sim.driving` and may import the records; never the checks, scenarios or plugin.
"""

from __future__ import annotations

from hitl_sim.durability.checkpointers import (
    CheckpointStore,
    aopen_checkpointer,
    checkpoint_store,
    open_checkpointer,
)
from hitl_sim.durability.crash import CrashReport, crash_during_resume
from hitl_sim.durability.ledger import Ledger
from hitl_sim.durability.restart import (
    clock_for_resume,
    outcome_differences,
    simulate_with_restarts,
)

__all__ = [
    "CheckpointStore",
    "CrashReport",
    "Ledger",
    "aopen_checkpointer",
    "checkpoint_store",
    "clock_for_resume",
    "crash_during_resume",
    "open_checkpointer",
    "outcome_differences",
    "simulate_with_restarts",
]
