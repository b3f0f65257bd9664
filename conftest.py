"""Suite-wide settings: UTC clock, pytester for plugin tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ["TZ"] = "UTC"
time.tzset()

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent


@pytest.fixture(autouse=True)
def _checkout_importable_in_pytester_subprocesses(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inner test files import the suite's example agents (`tests.agents`); a pytester run in a
    subprocess (`--runpytest=subprocess`, the plugin's second pass) starts in a temp folder, so
    the checkout goes on its PYTHONPATH as it is on sys.path in-process."""
    if "pytester" in request.fixturenames:
        paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
