"""Scenario files: the declarative format, its hardened loader, and running them.

Owns the schema (`schema`), the safe YAML loader with its limits (`safe_yaml`) and the file
loader with file:line errors (`loader`), building tools, models, agents and reviewers from a
file (`build`), comparing a run with `expect:` (`expect`), and running a scenario (`runner`).
It may import every engine capability below it (driving, checking, reporting, durability);
never the plugin or the CLI.
"""

from __future__ import annotations

from hitl_sim.scenarios.loader import load_scenario, load_scenarios
from hitl_sim.scenarios.runner import ScenarioResult, run_scenario
from hitl_sim.scenarios.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioResult",
    "load_scenario",
    "load_scenarios",
    "run_scenario",
]
