"""pytester restores sys.modules after each in-process run: what the inner tests import is
imported once here, so every run shares one copy of each class (a second copy breaks isinstance
checks) and does not import langchain again."""

from __future__ import annotations

from importlib import import_module

import hitl_sim

for _name in hitl_sim.__all__:
    getattr(hitl_sim, _name)

for _module in (
    "hitl_sim.catalog.broken_agents",
    "hitl_sim.durability.checkpointers",
    "hitl_sim.scenarios.build",
    "hitl_sim.scenarios.runner",
    "hitl_sim.reporting.snapshots",
    "langchain.agents",
    "langchain.agents.middleware",
    "langchain_core.tools",
    "langgraph.checkpoint.memory",
    "tests.agents",
):
    import_module(_module)
