"""hitl-sim: test and simulate human-in-the-loop approval flows."""

from __future__ import annotations

from hitl_sim.errors import (
    CheckFailed,
    HitlSimError,
    InvalidArgument,
    RealModelBlocked,
    ScenarioError,
    ScriptExhausted,
    ThreadError,
    UnexpectedInterrupt,
    UnusedScript,
)

__all__ = [
    "CheckFailed",
    "HitlSimError",
    "InvalidArgument",
    "RealModelBlocked",
    "ScenarioError",
    "ScriptExhausted",
    "ThreadError",
    "UnexpectedInterrupt",
    "UnusedScript",
]
