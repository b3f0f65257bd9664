"""`HitlSim`: the object behind the `hitl_sim` pytest fixture, usable without pytest too.

It builds scripted models and reviewers, runs graphs with the test's defaults (`HitlSimOptions`,
which the `@pytest.mark.hitl_sim(...)` marker fills), keeps every run, and at the end checks the
runs nobody checked explicitly. Outside pytest (e.g. inside a Hypothesis `@given` test, where
function-scoped fixtures do not fit), use it as a context manager:

    with HitlSim(gated={"send_email": True}) as sim:
        run = sim.simulate(agent, "hi", [approve()])
    # leaving the block raised CheckFailed if any run broke a safety check

While it is active (the fixture's lifetime, the `with` block), the runs the module functions
`hitl_sim.simulate`, `asimulate`, `resume`, `aresume`, `recover` and `arecover` return are kept
and checked at the end too (`hitl_sim.driving._observers`), each once, in its final state. They
keep their own options: of the test's defaults only the checking ones apply to them (`check`,
`skip_checks`, `expect_error`). Runs made by hitl-sim's own helpers (scenario files, the fuzz
bench, the durability helpers) are not kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Unpack

from hitl_sim.driving._observers import observing_runs
from hitl_sim.driving.options import (
    MAX_RESUMES,
    Graph,
    GraphInput,
    ReviewerArg,
    SimulateOptions,
)
from hitl_sim.errors import CheckFailed, InvalidArgument

if TYPE_CHECKING:
    from hitl_sim.models.chat import ScriptedChatModel
    from hitl_sim.run import Run

__all__ = ["HitlSim", "HitlSimOptions"]

_DEFAULT: Any = object()
"""`expect_error` not passed: the test-wide default applies."""

MODEL_CHECK = "unused_model_turns"
"""The teardown check on models built with `HitlSim.model(...)` (name for `skip_checks`)."""


@dataclass(frozen=True, kw_only=True)
class HitlSimOptions:
    """Defaults for every run made through one `HitlSim` (the marker's keyword arguments)."""

    check: bool = True
    """Check every run at the end (teardown) unless the test called `run.check()` itself."""
    skip_checks: Collection[str] = ()
    """Checks to leave out at the end, e.g. `("unused_decisions",)`; see `hitl_sim.checking`."""
    reviewer: Any = None
    """The reviewer for `simulate` calls that pass none."""
    gated: Any = None
    """Tools the test declares gated, merged with the agent's own HITL config."""
    mode: Literal["invoke", "stream"] = "invoke"
    max_resumes: int = MAX_RESUMES
    clock: datetime | str | bool | None = True
    """The frozen clock's start (True: 2030-01-01T09:00Z; False: real time)."""
    expect_pending: bool = False
    models: Any = None
    """A fake model, or model string -> fake, that model strings resolve to for the whole test
    (`hitl_sim.override_models`); real provider models are blocked meanwhile. A zero-argument
    callable is called once per test, so a module-wide marker gives each test a fresh script."""
    allow_real_models: bool = False
    """Let real provider models run. By default they are blocked for the whole test: a model
    built from a string (or deepagents' default) fails when called, naming the string, and any
    other real chat or completion model raises `RealModelBlocked` instead of calling out."""
    expect_error: type[BaseException] | tuple[type[BaseException], ...] | None = None
    """The exception type(s) every run (that passes none itself) must fail with. A run whose
    graph raised fails the test unless it was expected or the test read `run.error`."""
    context: Any = None
    """The run context (`runtime.context`) for every run that passes none itself: a dict of the
    graph's context schema's fields, or an instance of it (`simulate(context=...)`)."""

    def __post_init__(self) -> None:
        from hitl_sim.checking.checks import CHECKS

        _expected_errors(self.expect_error)

        known = (*CHECKS, MODEL_CHECK)
        if isinstance(self.skip_checks, str) or any(n not in known for n in self.skip_checks):
            raise InvalidArgument(
                f"skip_checks={self.skip_checks!r} names an unknown check. Expected a list of "
                f"check names out of: {', '.join(known)}."
            )
        if self.mode not in ("invoke", "stream"):
            raise InvalidArgument(
                f"mode={self.mode!r} is not a run mode. Expected 'invoke' or 'stream'."
            )

    @classmethod
    def signature(cls) -> str:
        """`hitl_sim(*, check=True, ...)`: how the marker is documented."""
        shown = ", ".join(f"{f.name}={f.default!r}" for f in fields(cls))
        return f"hitl_sim(*, {shown})"


class HitlSim:
    """Build models and reviewers, run graphs, and check what ran. See the module docs."""

    def __init__(self, options: HitlSimOptions | None = None, **overrides: Any) -> None:
        if options is None:
            options = HitlSimOptions(**overrides)
        elif overrides:
            options = HitlSimOptions(**{**_as_dict(options), **overrides})
        self.options = options
        self.runs: list[Run] = []
        self.models: list[ScriptedChatModel] = []
        self._stack: ExitStack | None = None
        self._expect_error: dict[int, tuple[type[BaseException], ...]] = {}
        self._plain: set[int] = set()
        """The runs a module function made (not `simulate` here), by id."""
        self._real_model_calls: list[str] = []

    # -- building ---------------------------------------------------------------------------------

    def model(self, turns: Any, /, **kwargs: Any) -> ScriptedChatModel:
        """A `ScriptedChatModel`; turns it still holds at the end fail the test
        (`skip_checks=("unused_model_turns",)` to allow that)."""
        from hitl_sim.models.chat import ScriptedChatModel

        model = ScriptedChatModel(turns, **kwargs)
        self.models.append(model)
        return model

    # -- running ----------------------------------------------------------------------------------

    def _defaults(self, reviewer: Any, given: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        o = self.options
        defaults = {
            "gated": o.gated,
            "mode": o.mode,
            "max_resumes": o.max_resumes,
            "clock": o.clock,
            "expect_pending": o.expect_pending,
            "context": o.context,
        }
        return (o.reviewer if reviewer is None else reviewer), {**defaults, **given}

    def simulate(
        self,
        graph: Graph,
        input: GraphInput,
        reviewer: ReviewerArg = None,
        *,
        expect_error: Any = _DEFAULT,
        **options: Unpack[SimulateOptions],
    ) -> Run:
        """`hitl_sim.simulate` with this test's defaults; the run is checked at the end.

        `expect_error=KeyError` (a type or a tuple of types): the run must fail with it; without
        it, a run whose graph raised fails the test unless the test reads `run.error`."""
        from hitl_sim.driving.api import simulate

        expected = self._expected(expect_error)
        reviewer, given = self._defaults(reviewer, dict(options))
        with self._blocked_models():
            run = simulate(graph, input, reviewer, **given)
        return self._keep(run, expected)

    async def asimulate(
        self,
        graph: Graph,
        input: GraphInput,
        reviewer: ReviewerArg = None,
        *,
        expect_error: Any = _DEFAULT,
        **options: Unpack[SimulateOptions],
    ) -> Run:
        """`hitl_sim.asimulate` with this test's defaults; the run is checked at the end."""
        from hitl_sim.driving.api import asimulate

        expected = self._expected(expect_error)
        reviewer, given = self._defaults(reviewer, dict(options))
        with self._blocked_models():
            run = await asimulate(graph, input, reviewer, **given)
        return self._keep(run, expected)

    def _expected(self, given: Any) -> tuple[type[BaseException], ...]:
        return _expected_errors(self.options.expect_error if given is _DEFAULT else given)

    def _keep(self, run: Run, expected: tuple[type[BaseException], ...]) -> Run:
        self.runs.append(run)
        self._expect_error[id(run)] = expected
        return run

    def _observe(self, run: Run) -> None:
        """A run a module function returned while this `HitlSim` was active: kept once (a
        resumed or recovered run is the same object), with the test-wide `expect_error`."""
        if id(run) not in self._expect_error:
            self._plain.add(id(run))
            self._keep(run, self._expected(_DEFAULT))

    # -- the end ----------------------------------------------------------------------------------

    def start(self) -> HitlSim:
        """Keep the runs the module functions make from now on (see the module docs), and enter
        the test-wide model override / real-model block, if the options ask for one."""
        self._stack = ExitStack()
        self._stack.enter_context(observing_runs(self._observe))
        models = self.options.models
        if callable(models):
            models = models()
        if models is not None:
            from hitl_sim.models.chat import ScriptedChatModel
            from hitl_sim.models.override import override_models

            given = models.values() if isinstance(models, Mapping) else [models]
            self.models.extend(m for m in given if isinstance(m, ScriptedChatModel))
            self._stack.enter_context(override_models(models))
        elif not self.options.allow_real_models:
            from hitl_sim.models._real import refuse_model_strings
            from hitl_sim.models.override import block_real_models

            self._stack.enter_context(refuse_model_strings(self._real_model_calls.append))
            self._stack.enter_context(block_real_models())
        return self

    @contextmanager
    def _blocked_models(self) -> Iterator[None]:
        """A blocked real model whose error reaches the test is reported there (with the
        fixture's way to allow it); one the agent swallowed is reported at the end."""
        from hitl_sim.errors import RealModelBlocked

        try:
            yield
        except RealModelBlocked as blocked:
            self._real_model_calls.clear()
            from hitl_sim.models._real import ALLOW_HINT, StringModelBlocked

            if not isinstance(blocked, StringModelBlocked) and not self.options.allow_real_models:
                blocked.add_note(ALLOW_HINT)
            raise

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def verdict(self) -> str | None:
        """What the end-of-test check found (None: nothing): runs that failed unexpectedly (always
        checked), then violations of every run not checked explicitly, and unused turns of models
        built with `model(...)`."""
        failed = self._failed_runs()
        checks = self._check_verdict()
        found = f"{failed}\n\n{checks}" if failed and checks else failed or checks
        if found is None:
            return None
        for run in self.runs[-500:]:  # masked here too: outside pytest nothing else masks it
            found = run.redactor().text(found)
        return found

    def _failed_runs(self) -> str | None:
        """Runs that failed although the test did not say so, and runs that did not fail with
        the error they were expected to."""
        reports: list[str] = []
        total = len(self.runs)
        for number, run in enumerate(self.runs, 1):
            report = _failure_report(
                run,
                f"Run {number} of {total}",
                self._expect_error.get(id(run), ()),
                plain=id(run) in self._plain,
            )
            if report is not None:
                reports.append(report)
        for message in dict.fromkeys(self._real_model_calls):
            reports.append(
                "A real model was called and blocked, but its RealModelBlocked error never "
                "reached the test (the agent, a middleware or the test caught it), so the run "
                f"went on without the model's answer:\n{message}"
            )
        if not reports:
            return None
        return "hitl_sim end-of-test check failed: a run did not end as the test said.\n\n" + (
            "\n\n".join(reports)
        )

    def _check_verdict(self) -> str | None:
        if not self.options.check:
            return None
        from hitl_sim.checking.checks import failure_message, violations

        skip = {name: False for name in self.options.skip_checks if name != MODEL_CHECK}
        reports: list[str] = []
        for number, run in enumerate(self.runs, 1):
            if run.checked:
                continue
            found = violations(run, **skip)
            if found:
                reports.append(f"run {number} of {len(self.runs)}: {failure_message(run, found)}")
        if MODEL_CHECK not in self.options.skip_checks and all(
            run.status == "finished" for run in self.runs
        ):
            for model in self.models:
                try:
                    model.assert_consumed()
                except AssertionError as unused:
                    reports.append(f"[{MODEL_CHECK}] {unused}")
        if not reports:
            return None
        return (
            "hitl_sim end-of-test check failed. Switch it off with "
            "@pytest.mark.hitl_sim(check=False), or leave checks out with skip_checks=(...).\n\n"
            + "\n\n".join(reports)
        )

    def __enter__(self) -> HitlSim:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if kind is None:
            found = self.verdict()
            if found is not None:
                raise CheckFailed(found)


def _expected_errors(given: Any) -> tuple[type[BaseException], ...]:
    """`expect_error=` as a tuple of exception types (() for None)."""
    if given is None:
        return ()
    types = given if isinstance(given, tuple) else (given,)
    if not types or not all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        raise InvalidArgument(
            f"expect_error={given!r} is not an exception type. Expected an exception class or a "
            "tuple of them, e.g. expect_error=KeyError, or None."
        )
    return types


def _names(types: tuple[type[BaseException], ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def _expect_hint(name: str, plain: bool = False) -> str:
    if plain:  # the module functions take no expect_error=
        return (
            f"@pytest.mark.hitl_sim(expect_error={name}) (for every run of the test), or make "
            f"the run with the fixture's hitl_sim.simulate(..., expect_error={name})"
        )
    return (
        f"hitl_sim.simulate(..., expect_error={name}) (or "
        f"@pytest.mark.hitl_sim(expect_error={name}) for every run of the test)"
    )


def _failure_report(
    run: Run, label: str, expected: tuple[type[BaseException], ...], plain: bool = False
) -> str | None:
    """Why `run` did not end as the test said (None: it did). `plain`: a module function
    (`hitl_sim.simulate`, `resume`, ...) made it, not `HitlSim.simulate`."""
    error = run._error
    made = ", made by a module function" if plain else ""
    where = f"{label} (thread {run.thread_id!r}{made})"
    if error is None:
        if not expected:
            return None
        return (
            f"{where} ended {run.status}, but the test expected it to fail with "
            f"{_names(expected)} (expect_error=...).\n"
            "Fix: drop expect_error= if the run is meant to succeed, or find out why the graph "
            "did not raise.\n\n" + run.timeline()
        )
    if expected and isinstance(error.exception, expected):
        return None
    if not expected and run.error_inspected:
        return None
    raised = f"{error.type}: {error.message}" if error.message else error.type
    node = f"node {error.node!r}" if error.node is not None else "the graph"
    origin = _origin(error.exception)
    head = f"{where} failed at resume {error.resume}: {node} raised {raised}{origin}."
    if expected:
        return (
            f"{head}\nThe test expected {_names(expected)} (expect_error=...), not "
            f"{error.type}.\nFix: expect the error the graph raises, "
            f"{_expect_hint(error.type, plain)}, or fix the graph.\n\n" + run.timeline()
        )
    return (
        f"{head}\nThe test did not say it expects an error, and did not look at run.error.\n"
        "Fix: fix the graph, or if this failure is what the test is about, say so: "
        f"{_expect_hint(error.type, plain)}, or assert on run.error in the test.\n\n"
        + run.timeline()
    )


def _origin(exception: BaseException) -> str:
    """` (at path:line in fn)`: where the exception was raised, when its traceback tells."""
    import os
    import traceback

    frames = traceback.extract_tb(exception.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    path = os.path.relpath(last.filename) if os.path.isabs(last.filename) else last.filename
    if path.startswith(".."):
        path = last.filename
    return f" (at {path}:{last.lineno} in {last.name})"


def _as_dict(options: HitlSimOptions) -> dict[str, Any]:
    return {f.name: getattr(options, f.name) for f in fields(options)}
