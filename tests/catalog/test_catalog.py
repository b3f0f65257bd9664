"""The built-in catalog (`scenarios/`) runs green, scenario by scenario.

The catalog lives outside `testpaths`, so the plugin does not collect it in this suite; this
module runs each scenario once through `run_scenario` (`pytest scenarios/` collects the same files
as items through the plugin).
"""

from __future__ import annotations

import importlib.util

import pytest

from hitl_sim.catalog import catalog_dir
from hitl_sim.errors import Unsupported
from hitl_sim.scenarios.loader import find_scenario_files, load_scenarios
from hitl_sim.scenarios.runner import run_scenario

NO_AUTO_MODE = pytest.mark.skip(
    reason="scenario tagged langchain-1.5: AutoModeMiddleware needs langchain >= 1.5"
)


def _marks(scenario):
    """Scenarios tagged `langchain-1.5` skip where langchain has no AutoModeMiddleware."""
    missing = importlib.util.find_spec("langchain.agents.middleware.auto_mode") is None
    return [NO_AUTO_MODE] if missing and "langchain-1.5" in scenario.tags else []


CATALOG = [
    pytest.param(
        scenario,
        id=f"{path.stem}::{scenario.name}" if path.stem != scenario.name else path.stem,
        marks=_marks(scenario),
    )
    for path in find_scenario_files([catalog_dir()])
    for scenario in load_scenarios(path)
]


def test_the_catalog_holds_at_least_forty_scenario_files():
    assert len(find_scenario_files([catalog_dir()])) >= 40


@pytest.mark.parametrize("scenario", CATALOG)
def test_catalog_scenario_passes(scenario):
    try:
        result = run_scenario(scenario)
    except Unsupported as missing:  # e.g. a front end without the `frontends` extra: a skip
        pytest.skip(str(missing))
    assert result.passed, result.report()
