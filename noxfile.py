"""Developer and CI sessions. They run in the current environment (`pip install -e .[dev]`).

- lint, typing: ruff and mypy --strict.
- tests: the whole suite under branch coverage (subprocesses measured too), combined, reported.
- xdist: the whole suite in two worker processes, in random order (seed in the header).
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typing", "tests"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    paths = ["hitl_sim", "tests", "benchmarks", "noxfile.py", "conftest.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.run("mypy", "hitl_sim")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite under branch coverage, with the report. Exit 5 (no tests) is not a pass."""
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", "-q")
    session.run("coverage", "report")


@nox.session
def xdist(session: nox.Session) -> None:
    """The whole suite in two processes, tests in random order, as parallel CI runs it."""
    session.run("python", "-m", "pytest", "-n", "2", "-p", "tests.xdist_pass", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The property suite with a large Hypothesis budget (nightly). HITL_SIM_FUZZ_EXAMPLES=N."""
    session.env["HITL_SIM_FUZZ"] = "1"
    session.env["HITL_SIM_FUZZ_EXAMPLES"] = os.environ.get("HITL_SIM_FUZZ_EXAMPLES", "1000")
    session.run("python", "-m", "pytest", "-q", "tests/property", *session.posargs)
