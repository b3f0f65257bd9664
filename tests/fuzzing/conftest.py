"""Hypothesis budgets: small by default (CI), large with HITL_SIM_FUZZ=1 (`nox -s fuzz`)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PHASES = [p for p in Phase if p is not Phase.explain]

settings.register_profile(
    "hitl-ci",
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=PHASES,
)
settings.register_profile(
    "hitl-fuzz",
    max_examples=int(os.environ.get("HITL_SIM_FUZZ_EXAMPLES", "1000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=PHASES,
)
settings.load_profile("hitl-fuzz" if os.environ.get("HITL_SIM_FUZZ") else "hitl-ci")
