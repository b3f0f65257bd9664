"""Developer and CI sessions.

In the current environment (`pip install -e .[dev]`):
- lint, typing: ruff and mypy --strict.
- tests: the whole suite under branch coverage (subprocesses measured too), combined, reported.
- xdist: the whole suite in two worker processes, in random order (seed in the header).

Each in a new virtualenv made by uv, to prove both ends of the ranges `pyproject.toml` declares:
- tests_lowest: every direct dependency at the lowest version its bound allows.
- tests_latest: everything at the newest version the registry serves. A difference from
  `.ci/latest-green.txt` (the set of the last green run) is printed first, so a red stage names
  the new upstream releases it ran on.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typing", "tests"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check, and the import-linter contracts (pyproject.toml): the layers,
    the independent capabilities, and pytest imported by the plugin alone."""
    paths = ["hitl_sim", "tests", "benchmarks", "noxfile.py", "conftest.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)
    session.run("lint-imports", "--no-cache")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package, and on tests/typing (misuse a type checker must catch)."""
    session.run("mypy", "hitl_sim")
    # what a user's type checker must catch: each `type: ignore` there marks a misuse
    session.run("mypy", "--warn-unused-ignores", "tests/typing")


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
    session.run("python", "-m", "pytest", "-q", "tests/fuzzing", *session.posargs)


LATEST_GREEN = Path(".ci/latest-green.txt")
"""The versions `tests_latest` resolved in its last green run (`nox -s tests_latest -- --record`
rewrites it). Also a constraints file for a reproducible checkout:
`pip install -e ".[dev]" -c .ci/latest-green.txt`."""


@nox.session(venv_backend="uv")
def tests_lowest(session: nox.Session) -> None:
    """Lint and the whole suite on the lowest versions the bounds allow (direct dependencies).

    mypy is not run here: the package is typed against the newest stubs (typing session)."""
    session.install("--resolution", "lowest-direct", "-e", ".[dev]")
    _resolved(session)
    lint(session)
    _suite(session, "lowest versions the bounds allow")


@nox.session(venv_backend="uv")
def tests_latest(session: nox.Session) -> None:
    """The whole suite on the newest versions the registry serves. `-- --record` keeps them."""
    record = "--record" in session.posargs
    session.install("--upgrade", "-e", ".[dev]")
    resolved = _resolved(session)
    news = _newer_than_last_green(resolved)
    if news:
        session.log("Changed since the last green run (.ci/latest-green.txt): " + ", ".join(news))
    hint = (
        f"Changed since the last green run (.ci/latest-green.txt): {', '.join(news)}. If one "
        "of them broke hitl-sim, fix the code or bound that release out in pyproject.toml."
    )
    # pytester's inner runs in real subprocesses here (in-process in the other sessions), so no
    # import-order workaround can hide what a real user's pytest run would do
    _suite(session, "newest registry versions", "--runpytest=subprocess", hint=hint if news else "")
    if record:
        LATEST_GREEN.write_text("\n".join(resolved) + "\n")
        session.log(f"Recorded {len(resolved)} versions in {LATEST_GREEN}")


def _resolved(session: nox.Session) -> list[str]:
    """The installed distributions as `name==version`, printed and returned (hitl-sim left out)."""
    frozen = session.run("python", "-m", "uv", "pip", "freeze", "--exclude-editable", silent=True)
    lines = sorted((w for w in str(frozen).split() if "==" in w), key=str.lower)
    session.log("Resolved: " + " ".join(lines))
    return lines


def _newer_than_last_green(resolved: list[str]) -> list[str]:
    """`name old -> new` (or `name new`) for each version not in the last green run's record."""
    if not LATEST_GREEN.exists():
        return [f"no record of a green run in {LATEST_GREEN}"]
    known = dict(line.split("==", 1) for line in LATEST_GREEN.read_text().split() if "==" in line)
    changed = []
    for name, version in (line.split("==", 1) for line in resolved):
        if known.get(name) != version:
            changed.append(f"{name} {known.get(name, '(new)')} -> {version}")
    return changed


def _suite(session: nox.Session, what: str, *extra: str, hint: str = "") -> None:
    """The whole suite in two processes in random order; a failure says on which versions."""
    session.env.pop("COVERAGE_PROCESS_START", None)
    try:
        session.run("python", "-m", "pytest", "-n", "2", "-p", "tests.xdist_pass", "-q", *extra)
    except CommandFailed:
        session.error(f"The suite failed on the {what}. {hint}".strip())
