from __future__ import annotations

import pytest

from hitl_sim.checking.checks import violations
from hitl_sim.reporting.item import from_result
from hitl_sim.scenarios.loader import where_in_file
from tests.reporting import runs


@pytest.fixture(scope="session")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("scenarios")


@pytest.fixture(scope="session")
def broken_result(folder):
    return runs.scenario_result(folder, "broken_fork", runs.BROKEN_SCENARIO)


@pytest.fixture(scope="session")
def passing_result(folder):
    return runs.scenario_result(folder, "one_email", runs.PASSING_SCENARIO)


@pytest.fixture(scope="session")
def broken_item(broken_result):
    return from_result(broken_result, locate=where_in_file, judge=violations)


@pytest.fixture(scope="session")
def passing_item(passing_result):
    return from_result(passing_result, locate=where_in_file, judge=violations)
