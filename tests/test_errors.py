"""The error reference (docs/errors.md) covers every error class, and every error points to it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import hitl_sim
from hitl_sim.errors import ERRORS_DOC, HitlSimError, ThreadError, UnknownName

REFERENCE = (Path(__file__).parents[1] / ERRORS_DOC).read_text()
OPTIONAL = ("hitl_sim.pytest_plugin", "hitl_sim.fuzzing.strategies")


def every_error_class() -> set[type[HitlSimError]]:
    for module in pkgutil.walk_packages(hitl_sim.__path__, "hitl_sim."):
        if not module.name.startswith(OPTIONAL):
            importlib.import_module(module.name)
    found: set[type[HitlSimError]] = set()
    todo = [HitlSimError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return {cls for cls in found if cls.__module__.startswith("hitl_sim")}


def test_every_error_class_has_a_section():
    sections = set(re.findall(r"^## (\w+)$", REFERENCE, re.M))
    names = {cls.__name__ for cls in every_error_class() if not cls.__name__.startswith("_")}
    assert names - sections == set()
    assert sections - names == set()


@pytest.mark.parametrize("error", [ThreadError("x"), UnknownName("y")])
def test_an_error_points_to_its_section_without_changing_its_message(error):
    anchor = type(error).__name__.lower()
    assert error.__notes__ == [f"See docs/errors.md#{anchor} (hitl-sim error reference)."]
    assert str(error) in ("x", "y")
    assert f"## {type(error).__name__}\n" in REFERENCE
