"""The pytest plugin: the only module of hitl_sim that imports pytest.

Heavy dependencies (langgraph, langchain, syrupy, hypothesis, freezegun) are imported lazily,
inside fixtures and hooks, so an installed hitl-sim costs nothing in sessions that do not use it.
"""

from __future__ import annotations

import contextlib
import copy
import operator
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from hitl_sim.durability.checkpointers import CheckpointStore
    from hitl_sim.harness import HitlSim, HitlSimOptions


def pytest_configure(config: pytest.Config) -> None:
    from hitl_sim.harness import HitlSimOptions

    config.addinivalue_line(
        "markers",
        f"{HitlSimOptions.signature()}: defaults for the hitl_sim fixture in this test (nearest "
        "scope wins); a marked test gets the fixture automatically.",
    )
    if not config.pluginmanager.has_plugin("hitl-sim-fixture"):
        config.pluginmanager.register(_FixturePlugin(), "hitl-sim-fixture")
    config.addinivalue_line(
        "markers",
        "hitl_checkpointer(*kinds): checkpointer(s) for hitl_checkpointer fixtures: memory, "
        "sqlite, postgres; several kinds parametrize the test.",
    )
    _check_checkpointer_option(config)
    _configure_redaction(config)
    _configure_report(config)


# ---- the hitl_sim fixture and marker (owned by the reviewer/checks work, issue 3) --------------
# A test marked `@pytest.mark.hitl_sim(...)` gets the fixture; its runs are checked at teardown.

_CALL_FAILED = pytest.StashKey[bool]()


class _FixturePlugin:
    """Hooks of the fixture section (a registered object, so hook names never clash)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            fixturenames = getattr(item, "fixturenames", None)
            if (
                isinstance(fixturenames, list)
                and item.get_closest_marker("hitl_sim") is not None
                and "hitl_sim" not in fixturenames
            ):
                fixturenames.insert(0, "hitl_sim")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call":
            item.stash[_CALL_FAILED] = report.failed
        return report


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    """The `hitl_sim` marker's keyword arguments, the nearest scope winning."""
    __tracebackhide__ = True
    merged: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers("hitl_sim"))):
        if marker.args:
            raise TypeError(
                f"@pytest.mark.hitl_sim takes keyword arguments only, got positional "
                f"{marker.args!r}. Signature: " + _options_signature()
            )
        merged.update(marker.kwargs)
    return merged


def _real_models_allowed(config: pytest.Config) -> bool:
    return bool(config.getini("hitl_sim_allow_real_models"))


def _options_signature() -> str:
    from hitl_sim.harness import HitlSimOptions

    return HitlSimOptions.signature()


def _options(given: dict[str, Any]) -> HitlSimOptions:
    __tracebackhide__ = True
    from hitl_sim.harness import HitlSimOptions

    unknown = sorted(set(given) - set(HitlSimOptions.__dataclass_fields__))
    if unknown:
        raise TypeError(
            f"@pytest.mark.hitl_sim got unknown option{'s' * (len(unknown) != 1)} "
            f"{', '.join(map(repr, unknown))}. Signature: {_options_signature()}"
        )
    if given.get("reviewer") is not None:  # a marker is shared: give each test a fresh script
        given = {**given, "reviewer": copy.deepcopy(given["reviewer"])}
    return HitlSimOptions(**given)


@pytest.fixture(name="hitl_sim")
def hitl_sim_fixture(request: pytest.FixtureRequest) -> Iterator[HitlSim]:
    """A `HitlSim`: build models and reviewers, `simulate(...)` with the marker's defaults, and
    have every run checked at teardown (`@pytest.mark.hitl_sim(check=False)` to switch off): its
    own, and those the test makes with `hitl_sim.simulate` / `resume` / `recover` (and their
    async twins) imported from the package while the fixture is active."""
    __tracebackhide__ = operator.methodcaller("errisinstance", TypeError)
    from hitl_sim.harness import HitlSim

    node = request.node
    given = _marker_options(node) if isinstance(node, pytest.Item) else {}
    given.setdefault("allow_real_models", _real_models_allowed(request.config))
    sim = HitlSim(_options(given))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
    if isinstance(node, pytest.Item) and node.stash.get(_CALL_FAILED, False):
        return  # the test already failed: its own failure is the story
    verdict = sim.verdict()
    if verdict is not None:
        pytest.fail(verdict, pytrace=False)


# ---- redaction (issue 13): the secrets of every run a test made are masked in its report -----

_RUNS = pytest.StashKey[Any]()


def _configure_redaction(config: pytest.Config) -> None:
    from hitl_sim.normalise import DEFAULT_REDACTED, redacting

    extra = [str(key).strip() for key in config.getini("hitl_sim_redact") if str(key).strip()]
    if extra:
        stack = contextlib.ExitStack()
        stack.enter_context(redacting(DEFAULT_REDACTED | set(extra)))
        config.add_cleanup(stack.close)
    if not config.pluginmanager.has_plugin("hitl-sim-redact"):
        config.pluginmanager.register(_RedactPlugin(), "hitl-sim-redact")


class _RedactPlugin:
    """Masks, in a failed test's report (terminal, JUnit XML, xdist), every secret the test's
    runs saw: the user's own assertion output and captured prints included."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        from hitl_sim.run import collect_runs

        with collect_runs() as runs:
            item.stash[_RUNS] = runs
            try:
                return (yield)
            finally:
                del item.stash[_RUNS]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        runs = item.stash.get(_RUNS, None)
        if runs and report.failed:
            redactors = [run.redactor() for run in runs[-_MAX_RUNS:]]

            def mask(text: str) -> str:
                for redactor in redactors:
                    text = redactor.text(text)
                return text

            shown = report.longreprtext
            if mask(shown) != shown:
                report.longrepr = mask(shown)
            report.sections = [(title, mask(content)) for title, content in report.sections]
        return report


_MAX_RUNS = 500
"""The most recent runs of a test whose secrets its report masks (a fuzz test makes many)."""


# ---- reports (issue 16): --hitl-sim-report DIR -------------------------------------------------
# Each test's report item is drawn and masked where the test ran (a pytest-xdist worker too) and
# rides on its TestReport as plain data; the controller writes the folder at the end.

_REPORT_ATTRIBUTE = "hitl_sim_report"
_REPORT_RUNS = 3
"""The most recent runs of a test drawn in the report (a fuzz test makes thousands)."""
_WORST = {"PASS": 0, "SKIP": 1, "FAIL": 2, "ERROR": 3}
_NOT_TAGS = frozenset({"parametrize", "usefixtures", "filterwarnings", "skip", "skipif", "xfail"})


def _configure_report(config: pytest.Config) -> None:
    folder = config.getoption("hitl_sim_report", None)
    if folder and not config.pluginmanager.has_plugin("hitl-sim-report"):
        target = config.invocation_params.dir / str(folder)
        config.pluginmanager.register(_ReportPlugin(target), "hitl-sim-report")


class _ReportPlugin:
    """Collects one report item per test (the worst of its setup, call and teardown) and writes
    `hitl_sim.reporting.bundle.write_report_dir` at the end of the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" or report.failed or report.skipped:
            setattr(report, _REPORT_ATTRIBUTE, _report_item(item, call, report))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, _REPORT_ATTRIBUTE, None)
        if not isinstance(data, dict):
            return
        known = self.items.get(report.nodeid)
        if known is None or _WORST.get(data["status"], 3) > _WORST.get(known["status"], 3):
            self.items[report.nodeid] = data

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # a pytest-xdist worker: the controller writes the folder
        from hitl_sim.reporting.bundle import write_report_dir
        from hitl_sim.reporting.item import ReportItem

        write_report_dir(self.folder, [ReportItem.from_dict(d) for d in self.items.values()])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not hasattr(terminalreporter.config, "workerinput"):
            terminalreporter.write_line(f"hitl-sim report: {self.folder / 'report.html'}")


def _report_item(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> dict[str, Any]:
    """The item of one phase of one test, as plain data (see `ReportItem.to_dict`)."""
    from hitl_sim.errors import ScenarioFailed
    from hitl_sim.reporting.item import from_result, from_test

    failure = call.excinfo.value if call.excinfo is not None else None
    if isinstance(failure, ScenarioFailed):
        from hitl_sim.scenarios.loader import where_in_file

        return from_result(failure.result, id=item.nodeid, locate=where_in_file).to_dict()
    status = "error" if report.failed and report.when != "call" else report.outcome
    path, line, _ = item.reportinfo()
    where = f"{path}:{line + 1}" if isinstance(line, int) else str(path)
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "lineno", None):
        where = f"{crash.path}:{crash.lineno}"  # the line that failed
    if report.skipped and isinstance(report.longrepr, tuple):
        message = details = str(report.longrepr[2])
    else:
        message = str(getattr(crash, "message", "") or "")
        details = report.longreprtext
    scenario = getattr(item, "scenario", None)
    markers = sorted({m.name for m in item.iter_markers()} - _NOT_TAGS)
    runs = list(item.stash.get(_RUNS, None) or ())[-_REPORT_RUNS:]
    return from_test(
        item.nodeid,
        status,
        where=where,
        message=message,
        details=details,
        runs=runs,
        tags=tuple(getattr(scenario, "tags", ()) or markers),
        description=str(getattr(scenario, "description", "") or ""),
    ).to_dict()


# ---- durable runs: checkpointer matrix (owned by the durability work, issue 7) ------------------
# One `pytest_addoption` for the whole plugin lives here: other sections add their options in it.


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hitl-sim")
    group.addoption(
        "--hitl-sim-report",
        default=None,
        metavar="DIR",
        help="write an HTML report (report.html), a Markdown summary (summary.md) and the "
        "sequence diagrams of the runs of every test that did not pass into DIR.",
    )
    group.addoption(
        "--hitl-checkpointer",
        default=None,
        help="checkpointer for hitl_checkpointer fixtures and scenario files without one: "
        "memory (default), sqlite or postgres (needs HITL_SIM_POSTGRES_URL).",
    )
    parser.addini("hitl_sim_checkpointer", "default for --hitl-checkpointer", default="memory")
    parser.addini(
        "hitl_sim_allow_real_models",
        "let real provider models run under the hitl_sim fixture and in scenario files "
        "(default: blocked, so a test never reaches the network)",
        type="bool",
        default=False,
    )
    parser.addini(
        "hitl_sim_redact",
        "keys whose values every hitl-sim output masks, besides the defaults "
        "(hitl_sim.normalise.DEFAULT_REDACTED); one a line",
        type="linelist",
        default=[],
    )
    parser.addini(
        "hitl_sim_scenarios",
        "directories (or files) whose .yaml files are scenario files (default: scenarios)",
        type="paths",
        default=[],
    )


def _configured_checkpointer(config: pytest.Config) -> str:
    value = config.getoption("hitl_checkpointer", None) or config.getini("hitl_sim_checkpointer")
    return str(value)


def _check_checkpointer_option(config: pytest.Config) -> None:
    from hitl_sim.durability.checkpointers import KINDS

    value = _configured_checkpointer(config)
    if value not in KINDS:
        raise pytest.UsageError(
            f"--hitl-checkpointer={value!r} is not a valid checkpointer. "
            f"Valid checkpointers: {', '.join(KINDS)}."
        )


def selected_checkpointer(config: pytest.Config, requested: str | None = None) -> str:
    """The checkpointer kind to use: `requested` (a marker, a scenario file) else the run's
    `--hitl-checkpointer` / `hitl_sim_checkpointer` ini (default "memory")."""
    from hitl_sim.durability.checkpointers import check_kind

    return check_kind(requested or _configured_checkpointer(config))


@contextlib.contextmanager
def checkpoint_store_or_skip(kind: str, directory: Path) -> Iterator[CheckpointStore]:
    """`checkpoint_store(kind, directory=...)`, skipping the test when kind is postgres and no
    server is configured (`HITL_SIM_POSTGRES_URL` unset). For scenario items and fixtures."""
    from hitl_sim.durability.checkpointers import (
        POSTGRES_URL_ENV,
        check_kind,
        checkpoint_store,
        postgres_url,
    )

    if check_kind(kind) == "postgres" and postgres_url() is None:
        pytest.skip(f"postgres checkpointer: no PostgreSQL server configured ({POSTGRES_URL_ENV})")
    with checkpoint_store(check_kind(kind), directory=directory) as store:
        yield store


def _checkpointer_marker_kinds(node: pytest.Item) -> tuple[str, ...]:
    from hitl_sim.durability.checkpointers import check_kind

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


# ---- scenario files (owned by the scenarios work, issue 4) -------------------------------------
# YAML files under the scenario directories (ini `hitl_sim_scenarios`, default `scenarios` in the
# rootdir) become test items, one per scenario: `pytest scenarios/ -k per_call`. A malformed file
# is a collection error naming the file, line, key, what was expected and the fix.

_SCENARIO_DIRS = pytest.StashKey[tuple[Path, ...]]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or "__snapshots__" in file_path.parts:
        return None
    if not any(file_path.is_relative_to(folder) for folder in _scenario_dirs(parent.config)):
        return None
    collector: pytest.Collector = ScenarioFile.from_parent(parent, path=file_path)
    return collector


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run given no paths (testpaths or the current directory) also collects the scenario
    directories the ini names in `hitl_sim_scenarios`."""
    config = session.config
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return
    for folder in config.getini("hitl_sim_scenarios"):
        if Path(folder).exists() and str(folder) not in config.args:
            config.args.append(str(folder))


def _scenario_dirs(config: pytest.Config) -> tuple[Path, ...]:
    if _SCENARIO_DIRS not in config.stash:
        configured = [Path(p).resolve() for p in config.getini("hitl_sim_scenarios")]
        config.stash[_SCENARIO_DIRS] = tuple(configured) or ((config.rootpath / "scenarios"),)
    return config.stash[_SCENARIO_DIRS]


class ScenarioFile(pytest.File):
    """A scenario file: one item per scenario it holds."""

    def collect(self) -> Iterator[pytest.Item]:
        from hitl_sim.scenarios.loader import load_scenarios

        for scenario in load_scenarios(self.path):
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        from hitl_sim.errors import ScenarioError

        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    """One scenario, run with `hitl_sim.scenarios.runner.run_scenario`."""

    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.extra_keyword_matches.update(scenario.tags)

    def runtest(self) -> None:
        from hitl_sim.errors import CheckpointerUnavailable, Unsupported
        from hitl_sim.scenarios.runner import run_scenario

        calls: list[str] = []
        try:
            with self._real_models_blocked(calls):
                result = run_scenario(
                    self.scenario,
                    update_snapshots=bool(getattr(self.config.option, "update_snapshots", False)),
                    checkpointer=selected_checkpointer(self.config),
                )
        except (CheckpointerUnavailable, Unsupported) as exc:
            pytest.skip(str(exc))
        if calls and not any(
            message in failure for failure in result.failures for message in calls
        ):
            result.failures.extend(f"the run called a blocked real model: {m}" for m in calls)
        if not result.passed:
            from hitl_sim.errors import ScenarioFailed

            raise ScenarioFailed(result)

    @contextlib.contextmanager
    def _real_models_blocked(self, calls: list[str]) -> Iterator[None]:
        """Real models are blocked unless the ini allows them; a model the agent builds from a
        string fails when called, naming the string (and the factory, for `kind: factory`)."""
        if _real_models_allowed(self.config):
            yield
            return
        from hitl_sim.models._real import refuse_model_strings
        from hitl_sim.models.override import block_real_models

        factory = getattr(self.scenario.agent, "factory", None)
        origin = f"The scenario factory {factory!r}" if isinstance(factory, str) else ""
        with refuse_model_strings(calls.append, origin=origin), block_real_models():
            yield

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from hitl_sim.errors import ScenarioError, ScenarioFailed

        if isinstance(excinfo.value, ScenarioFailed | ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


# ---- end of scenario files section -------------------------------------------------------------


# ---- front ends (issue 15): a webhook receiver, a scripted terminal, a real server for an app ----

if TYPE_CHECKING:
    from collections.abc import Callable

    from hitl_sim.frontends.terminal import Terminal
    from hitl_sim.frontends.webhook import WebhookReceiver


@pytest.fixture(name="hitl_webhook")
def hitl_webhook_fixture() -> Iterator[WebhookReceiver]:
    """A started `WebhookReceiver` on 127.0.0.1 (`hitl_webhook.url`), stopped at teardown:
    `hitl_webhook.check(run)` holds what the app sent against the run's interrupts (set
    `hitl_webhook.fields` to the fields the app promises)."""
    from hitl_sim.frontends.webhook import WebhookReceiver

    with WebhookReceiver() as hook:
        yield hook


@pytest.fixture(name="hitl_terminal")
def hitl_terminal_fixture() -> Iterator[Callable[..., Terminal]]:
    """`hitl_terminal(script)`: a `Terminal` whose keyboard is `script` (`keys(...)` or strings),
    answering every `input()` from then to the end of the test. Keystrokes left unused fail the
    test at teardown; a prompt with none left raises `ScriptExhausted` where it is asked."""
    from hitl_sim.errors import InvalidArgument, UnusedScript
    from hitl_sim.frontends.terminal import Terminal

    opened: list[Terminal] = []

    def open_terminal(script: Any, **options: Any) -> Terminal:
        if opened:
            raise InvalidArgument(
                "hitl_terminal() was already called in this test: one keyboard answers every "
                "input(). Put all the keystrokes in one script."
            )
        terminal = Terminal(script, **options)
        opened.append(terminal.__enter__())
        return terminal

    yield open_terminal
    for terminal in opened:
        try:
            terminal.__exit__(None, None, None)  # restores input() and stdout, then checks
        except UnusedScript as unused:
            pytest.fail(str(unused), pytrace=False)


@pytest.fixture(name="hitl_server")
def hitl_server_fixture() -> Iterator[Callable[[Any], str]]:
    """`hitl_server(app)`: serve an ASGI app with uvicorn on a free port of 127.0.0.1 and return
    its base URL; every server started is stopped at teardown (needs `hitl-sim[frontends]`)."""
    from hitl_sim.frontends.server import serve

    with contextlib.ExitStack() as servers:

        def start(app: Any) -> str:
            return servers.enter_context(serve(app))

        yield start


# ---- end of front ends section -----------------------------------------------------------------
