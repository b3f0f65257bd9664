"""Scripted human reviewers: who answers an interrupt, when and how.

Owns `Reviewer` (scripts, policies, rules, functions; latency, timeouts and escalation on the
frozen clock), the `Responder` protocol the driver calls, `when(...)` matchers, and the check that
an answer would be accepted by LangGraph before it is sent (`validation`). It may import the
record modules (`hitl_sim.decisions`, `.interrupts`, `.run`, `.errors`); never the driver.
"""

from __future__ import annotations

from hitl_sim.reviewing.reviewer import Responder, Reviewer, when

__all__ = [
    "Responder",
    "Reviewer",
    "when",
]
