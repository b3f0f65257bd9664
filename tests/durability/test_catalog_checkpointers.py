"""The built-in catalog on real persistence: every scenario that leaves the checkpointer to the
run passes on SQLite (a file per scenario) and on PostgreSQL (a schema per scenario; skipped
without `HITL_SIM_POSTGRES_URL`). tests/scenarios runs the same catalog on memory."""

from __future__ import annotations

import importlib.util

import pytest

from hitl_sim.catalog import catalog_dir
from hitl_sim.scenarios.loader import find_scenario_files, load_scenarios
from hitl_sim.scenarios.runner import run_scenario

NO_AUTO_MODE = pytest.mark.skip(
    reason="scenario tagged langchain-1.5: AutoModeMiddleware needs langchain >= 1.5"
)


def _marks(scenario):
    """Scenarios tagged `langchain-1.5` skip where langchain has no AutoModeMiddleware."""
    missing = importlib.util.find_spec("langchain.agents.middleware.auto_mode") is None
    return [NO_AUTO_MODE] if missing and "langchain-1.5" in scenario.tags else []


FOLLOWS_THE_RUN = [
    pytest.param(scenario, id=f"{path.stem}::{scenario.name}", marks=_marks(scenario))
    for path in find_scenario_files([catalog_dir()])
    for scenario in load_scenarios(path)
    if scenario.agent.checkpointer is None
]


def test_most_of_the_catalog_follows_the_runs_checkpointer():
    assert len(FOLLOWS_THE_RUN) >= 40


@pytest.mark.hitl_checkpointer("sqlite", "postgres")
@pytest.mark.parametrize("scenario", FOLLOWS_THE_RUN)
def test_catalog_scenario_passes_on(hitl_checkpointer_kind, scenario):
    if hitl_checkpointer_kind == "postgres":
        pytest.importorskip("psycopg")
    from hitl_sim.durability.checkpointers import POSTGRES_URL_ENV, postgres_url

    if hitl_checkpointer_kind == "postgres" and postgres_url() is None:
        pytest.skip(f"postgres checkpointer: no PostgreSQL server configured ({POSTGRES_URL_ENV})")
    result = run_scenario(scenario, checkpointer=hitl_checkpointer_kind)
    assert result.passed, result.report()
