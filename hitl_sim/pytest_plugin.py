"""The pytest plugin: the only module of hitl_sim that imports pytest.

Heavy dependencies (langgraph, langchain, syrupy, hypothesis, freezegun) are imported lazily,
inside fixtures and hooks, so an installed hitl-sim costs nothing in sessions that do not use it.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hitl_sim(**options): defaults for the hitl_sim fixture in this test."
    )
