"""Fuzzing decision lists: a pure model of the HITL middleware and a configurable agent.

Owns the oracle (`oracle`: what `HumanInTheLoopMiddleware` should do with a plan and a list of
decisions, without running it), the fuzz agent built from a plan (`bench`), and the Hypothesis
strategies (`strategies`, imported on its own: it needs the `hypothesis` extra). It may import
the driver and the records; the strategies import the bench, never the reverse.
"""

from __future__ import annotations

from hitl_sim.fuzzing.bench import FuzzAgent, PlannedTurn, RunPlan
from hitl_sim.fuzzing.oracle import HitlConfig

__all__ = [
    "FuzzAgent",
    "HitlConfig",
    "PlannedTurn",
    "RunPlan",
]
