"""The pytest plugin: the only module of hitl_sim that imports pytest.

Heavy dependencies (langgraph, langchain, syrupy, hypothesis, freezegun) are imported lazily,
inside fixtures and hooks, so an installed hitl-sim costs nothing in sessions that do not use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from hitl_sim.checkpointers import CheckpointStore


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hitl_sim(**options): defaults for the hitl_sim fixture in this test."
    )
    config.addinivalue_line(
        "markers",
        "hitl_checkpointer(*kinds): checkpointer(s) for hitl_checkpointer fixtures: memory, "
        "sqlite, postgres; several kinds parametrize the test.",
    )
    _check_checkpointer_option(config)


# ---- durable runs: checkpointer matrix (owned by the durability work, issue 7) ------------------
# One `pytest_addoption` for the whole plugin lives here: other sections add their options in it.


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hitl-sim")
    group.addoption(
        "--hitl-checkpointer",
        default=None,
        help="checkpointer for hitl_checkpointer fixtures and scenario files without one: "
        "memory (default), sqlite or postgres (needs HITL_SIM_POSTGRES_URL).",
    )
    parser.addini("hitl_sim_checkpointer", "default for --hitl-checkpointer", default="memory")


def _configured_checkpointer(config: pytest.Config) -> str:
    value = config.getoption("hitl_checkpointer", None) or config.getini("hitl_sim_checkpointer")
    return str(value)


def _check_checkpointer_option(config: pytest.Config) -> None:
    from hitl_sim.checkpointers import KINDS

    value = _configured_checkpointer(config)
    if value not in KINDS:
        raise pytest.UsageError(
            f"--hitl-checkpointer={value!r} is not a valid checkpointer. "
            f"Valid checkpointers: {', '.join(KINDS)}."
        )


def selected_checkpointer(config: pytest.Config, requested: str | None = None) -> str:
    """The checkpointer kind to use: `requested` (a marker, a scenario file) else the run's
    `--hitl-checkpointer` / `hitl_sim_checkpointer` ini (default "memory")."""
    from hitl_sim.checkpointers import check_kind

    return check_kind(requested or _configured_checkpointer(config))


@contextlib.contextmanager
def checkpoint_store_or_skip(kind: str, directory: Path) -> Iterator[CheckpointStore]:
    """`checkpoint_store(kind, directory=...)`, skipping the test when kind is postgres and no
    server is configured (`HITL_SIM_POSTGRES_URL` unset). For scenario items and fixtures."""
    from hitl_sim.checkpointers import POSTGRES_URL_ENV, check_kind, checkpoint_store, postgres_url

    if check_kind(kind) == "postgres" and postgres_url() is None:
        pytest.skip(f"postgres checkpointer: no PostgreSQL server configured ({POSTGRES_URL_ENV})")
    with checkpoint_store(check_kind(kind), directory=directory) as store:
        yield store


def _checkpointer_marker_kinds(node: pytest.Item) -> tuple[str, ...]:
    from hitl_sim.checkpointers import check_kind

    marker = node.get_closest_marker("hitl_checkpointer")
    return tuple(check_kind(kind) for kind in marker.args) if marker else ()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    kinds = _checkpointer_marker_kinds(metafunc.definition)
    if len(kinds) > 1 and "hitl_checkpointer_kind" in metafunc.fixturenames:
        metafunc.parametrize("hitl_checkpointer_kind", kinds, ids=kinds)


@pytest.fixture
def hitl_checkpointer_kind(request: pytest.FixtureRequest) -> str:
    """The checkpointer kind for this test: the `hitl_checkpointer(...)` marker, else the run's
    `--hitl-checkpointer`. A marker with several kinds parametrizes the test over them."""
    kinds = (
        _checkpointer_marker_kinds(request.node) if isinstance(request.node, pytest.Item) else ()
    )
    return selected_checkpointer(request.config, kinds[0] if kinds else None)


@pytest.fixture
def hitl_checkpoint_store(
    hitl_checkpointer_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CheckpointStore]:
    """A fresh checkpoint store of the selected kind (sqlite: a file in a temp dir; postgres: a
    schema of its own, dropped afterwards). Open savers on it with `store.open()`."""
    with checkpoint_store_or_skip(
        hitl_checkpointer_kind, tmp_path_factory.mktemp("checkpoints")
    ) as store:
        yield store


@pytest.fixture
def hitl_checkpointer(hitl_checkpoint_store: CheckpointStore) -> Iterator[BaseCheckpointSaver[Any]]:
    """A checkpointer of the selected kind on a fresh store, closed after the test."""
    with hitl_checkpoint_store.open() as saver:
        yield saver


# ---- end of durable runs section ---------------------------------------------------------------
