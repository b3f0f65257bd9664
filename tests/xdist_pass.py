"""The parallel CI pass: `pytest -n 2 -p tests.xdist_pass`.

- Random order: shuffles the test modules, then the tests inside each module, from one seed
  printed in the header; `--random-order-seed=N` replays an order. Every xdist worker gets the
  controller's seed, so all workers collect the same order (xdist requires it).
- pytester's inner sessions run as they would outside xdist: the worker's
  `PYTEST_XDIST_WORKER` is hidden from them (pytest-benchmark, pre-installed on the CI machine,
  would otherwise warn in every inner session, and warnings are errors here).

Loaded only with `-p`, never by pytester's inner runs.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--random-order-seed", type=int, default=None, help="replay a test order")


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.option.random_order_seed = workerinput["random_order_seed"]
    elif config.option.random_order_seed is None:
        config.option.random_order_seed = random.randrange(2**32)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistSeed())


class _XdistSeed:
    def pytest_configure_node(self, node) -> None:  # type: ignore[no-untyped-def]
        node.workerinput["random_order_seed"] = node.config.option.random_order_seed


@pytest.fixture(autouse=True)
def _inner_sessions_outside_xdist(request: pytest.FixtureRequest) -> None:
    if "pytester" in request.fixturenames:
        request.getfixturevalue("monkeypatch").delenv("PYTEST_XDIST_WORKER", raising=False)


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.option.random_order_seed
    return f"random order: seed {seed} (replay: -p tests.xdist_pass --random-order-seed={seed})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shuffle = random.Random(config.option.random_order_seed).shuffle
    modules: dict[object, list[pytest.Item]] = defaultdict(list)
    for item in items:
        modules[item.path].append(item)
    groups = list(modules.values())
    shuffle(groups)
    for group in groups:
        shuffle(group)
    items[:] = [item for group in groups for item in group]
