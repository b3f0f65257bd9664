"""Running a scenario and comparing what happened with what the file expects.

`run_scenario(scenario)` builds the model, agent and reviewer, simulates the run (then any `then:`
steps), and returns a `ScenarioResult` whose `failures` name each expectation that did not hold;
`result.report()` adds the run's timeline, which is what pytest and `hitl-sim run` show.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitl_sim.decisions import MIDDLEWARE_DECISIONS
from hitl_sim.errors import UnusedScript
from hitl_sim.scenarios.expect import compare, error_failures
from hitl_sim.scenarios.loader import load_scenario
from hitl_sim.scenarios.schema import ExpectSpec, FrontEndSpec, ReviewerSpec, Scenario, StepSpec

if TYPE_CHECKING:
    from hitl_sim.checking.violation import Violation
    from hitl_sim.frontends.prompts import Prompt
    from hitl_sim.models.chat import ScriptedChatModel
    from hitl_sim.normalise import Redactor
    from hitl_sim.run import Run


@dataclass
class ScenarioResult:
    """The outcome of one scenario: its run(s), and the expectations that failed."""

    scenario: Scenario
    runs: list[Run] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    frontend: list[Violation] = field(default_factory=list)
    """A front-end reviewer's violations (`expect.frontend_violations`)."""
    prompts: list[Prompt] | None = None
    """The prompts a keystroke front end answered (terminal, confirmation)."""
    masking: Redactor | None = None
    """A front end's secrets (e.g. keystrokes typed with `secret: true`), masked in the report."""

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def run(self) -> Run | None:
        """The last run (the first run's, or the last `then:` step's)."""
        return self.runs[-1] if self.runs else None

    def report(self) -> str:
        """The failed expectations, then the timeline of each run."""
        lines = [f"Scenario {self.scenario.where}: {self.scenario.description.strip()}"]
        if self.passed:
            lines.append("All expectations held.")
        else:
            lines.append(f"{len(self.failures)} expectation(s) failed:")
            lines.extend(f"- {failure}" for failure in self.failures)
        if self.prompts:
            lines.extend(["", "Prompts the human answered:"])
            lines.extend(f"  {prompt.describe()}" for prompt in self.prompts)
        if self.frontend:
            lines.extend(["", "Front-end violations:"])
            lines.extend(f"  {v}".replace("\n", "\n  ") for v in self.frontend)
        for index, run in enumerate(self.runs):
            title = "Run timeline:" if index == 0 else "Timeline of the run after a `then:` step:"
            lines.extend(["", title, run.timeline()])
        text = "\n".join(lines)
        for run in self.runs:  # every secret a run saw, masked (hitl_sim.normalise.Redactor)
            text = run.redactor().text(text)
        if self.masking is not None:
            text = self.masking.text(text)
        return text


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    update_snapshots: bool = False,
    checkpointer: str | None = None,
) -> ScenarioResult:
    """Run one scenario (a `Scenario`, or the path of a one-scenario file) and compare.

    `checkpointer` is the kind (memory, sqlite, postgres) for scenarios whose agent names none;
    default memory. `update_snapshots` writes `expect.snapshot` files instead of comparing.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    started = time.perf_counter()
    result = ScenarioResult(scenario)
    try:
        _run(scenario, result, update_snapshots, checkpointer or "memory")
    finally:
        result.seconds = time.perf_counter() - started
    return result


# A phase is one call into the driver: the first run, then each `then:` step. It returns a Run,
# or (async scenarios) an awaitable of one.
Phase = tuple[str, ExpectSpec, Callable[[Any, "Run | None"], Any]]


def _run(scenario: Scenario, result: ScenarioResult, update: bool, default_kind: str) -> None:
    from hitl_sim.durability.checkpointers import checkpoint_store
    from hitl_sim.scenarios.build import build_model

    kind = scenario.agent.checkpointer or default_kind
    model = build_model(scenario)
    phases = [] if scenario.front_end is not None else _phases(scenario)
    if scenario.front_end is not None:
        _through_front_end(scenario, model, kind, result)
    elif kind == "none":
        graph = _graph(scenario, model, None)
        if scenario.run.async_:
            asyncio.run(_adrive(graph, phases, result))
        else:
            _drive(graph, phases, result)
    else:
        with checkpoint_store(kind) as store:  # type: ignore[arg-type]
            if scenario.run.async_:
                asyncio.run(_adrive_on(store, scenario, model, phases, result))
            else:
                with store.open() as saver:
                    _drive(_graph(scenario, model, saver), phases, result)
    if result.runs and result.runs[-1].status == "finished":
        _script_used(model, result)
    if scenario.expect.snapshot and result.runs:
        _snapshot(scenario, result.runs[-1], update, result)


def _through_front_end(scenario: Scenario, model: Any, kind: str, result: ScenarioResult) -> None:
    """The run made through the app's own front end (`reviewer: {kind: ...}`), judged."""
    from hitl_sim.durability.checkpointers import checkpoint_store
    from hitl_sim.errors import ScenarioError, Unsupported
    from hitl_sim.scenarios.expect import frontend_failures, prompt_failures
    from hitl_sim.scenarios.front_ends import drive, drive_pty

    expect = scenario.expect
    with contextlib.ExitStack() as stack:
        try:
            if scenario.front_end == "pty":  # the program keeps its own checkpoints
                driven = drive_pty(scenario, model)
            else:
                saver = None
                if kind != "none":
                    store = stack.enter_context(checkpoint_store(kind))  # type: ignore[arg-type]
                    saver = stack.enter_context(store.open())
                graph = _graph(scenario, model, saver)
                _check_contexts(scenario, graph)
                _check_tool_names(scenario, graph)
                driven = drive(scenario, graph, _options(scenario))
        except (ScenarioError, Unsupported):
            raise
        except Exception as exc:  # as a driven run: ScriptExhausted, a thread error, ...
            _raised("run", expect, exc, result)
            return
    result.failures += driven.failures
    result.frontend, result.prompts = driven.violations, driven.prompts
    result.masking = driven.redactor
    if driven.run is not None:
        _ran("run", expect, driven.run, result)
    else:
        judged = sorted(expect.model_fields_set - {"frontend_violations", "prompts"})
        if judged:
            result.failures.append(
                f"run: the front end stopped the run ({driven.stopped}), so "
                f"{', '.join(judged)} cannot be judged. Expect only frontend_violations (and "
                "prompts) of a front end that cannot go on."
            )
    result.failures += frontend_failures(driven.violations, expect.frontend_violations)
    if expect.prompts is not None:
        result.failures += prompt_failures(driven.prompts or [], expect.prompts)


def _graph(scenario: Scenario, model: Any, saver: Any) -> Any:
    from hitl_sim.scenarios.build import build_agent

    return build_agent(scenario, model, saver)


async def _adrive_on(
    store: Any, scenario: Scenario, model: Any, phases: list[Phase], result: ScenarioResult
) -> None:
    async with store.aopen() as saver:
        await _adrive(_graph(scenario, model, saver), phases, result)


def _drive(graph: Any, phases: list[Phase], result: ScenarioResult) -> None:
    _check_contexts(result.scenario, graph)
    _check_tool_names(result.scenario, graph)
    previous: Run | None = None
    for index, (label, expect, action) in enumerate(phases):
        try:
            outcome = action(graph, previous)
        except Exception as exc:
            if not _raised(label, expect, exc, result):
                _not_run(phases[index + 1 :], label, result)
                return
            continue  # a refused step left the thread as it was: the next one continues it
        previous = _ran(label, expect, outcome, result)


async def _adrive(graph: Any, phases: list[Phase], result: ScenarioResult) -> None:
    _check_contexts(result.scenario, graph)
    _check_tool_names(result.scenario, graph)
    previous: Run | None = None
    for index, (label, expect, action) in enumerate(phases):
        try:
            outcome = action(graph, previous)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:
            if not _raised(label, expect, exc, result):
                _not_run(phases[index + 1 :], label, result)
                return
            continue
        previous = _ran(label, expect, outcome, result)


def _raised(label: str, expect: ExpectSpec, exc: Exception, result: ScenarioResult) -> bool:
    """Judge a step that raised; whether it raised as expected."""
    if expect.raises is None:
        result.failures.append(
            f"{label}: raised {type(exc).__name__}: {exc}\n  (expected no exception; "
            "if it is intended, add expect.raises: {type: ..., match: ...})"
        )
        return False
    failures = error_failures(expect.raises, exc)
    result.failures.extend(f"{label}: {f}" for f in failures)
    return not failures


def _not_run(later: list[Phase], label: str, result: ScenarioResult) -> None:
    """Steps after one that raised unexpectedly are not run: each is a failure, never a pass."""
    result.failures.extend(
        f"{step}: not run, because {label} raised unexpectedly" for step, _, _ in later
    )


def _ran(label: str, expect: ExpectSpec, run: Run, result: ScenarioResult) -> Run:
    if not result.runs or result.runs[-1] is not run:  # recover() continues the same Run
        result.runs.append(run)
    if expect.raises is not None:
        result.failures.append(
            f"{label}: expected {expect.raises.type} to be raised, but the run ended {run.status}."
        )
    result.failures.extend(f"{label}: {f}" for f in compare(run, expect))
    return run


def _phases(scenario: Scenario) -> list[Phase]:
    from hitl_sim.scenarios.build import build_reviewer

    options = _options(scenario)
    assert not isinstance(scenario.reviewer, FrontEndSpec)  # front ends: _through_front_end
    reviewer = build_reviewer(scenario.reviewer, scenario.where)
    phases: list[Phase] = [
        ("run", scenario.expect, functools.partial(_first, scenario, reviewer, options))
    ]
    for index, step in enumerate(scenario.then):
        step_reviewer = build_reviewer(step.reviewer, scenario.where)
        action = functools.partial(_step, scenario, step, step_reviewer, options)
        phases.append((f"then[{index}] ({step.action})", step.expect, action))
    return phases


def _options(scenario: Scenario) -> dict[str, Any]:
    spec = scenario.run
    options: dict[str, Any] = {
        "mode": spec.mode,
        "max_resumes": spec.max_resumes,
        "expect_pending": (
            _unavailable(scenario) if spec.expect_pending is None else spec.expect_pending
        ),
    }
    if spec.thread_id is not None:
        options["thread_id"] = spec.thread_id
    if spec.gated is not None:
        options["gated"] = (
            dict(spec.gated)
            if isinstance(spec.gated, Mapping)
            else dict.fromkeys(spec.gated, MIDDLEWARE_DECISIONS)
        )
    if spec.clock is not None:
        options["clock"] = spec.clock
    if spec.context is not None:
        options["context"] = spec.context
    return options


def _check_contexts(scenario: Scenario, graph: Any) -> None:
    """Refuse a `run.context` (or a step's `context`) that does not fit the agent's context
    schema, naming the file and line, before anything runs."""
    from hitl_sim.driving.context import ContextMismatch, check_context
    from hitl_sim.errors import ScenarioError
    from hitl_sim.scenarios.loader import where_in_file

    given: list[tuple[tuple[Any, ...], Any]] = [(("run", "context"), scenario.run.context)]
    for index, step in enumerate(scenario.then):
        if step.context is not None:
            given.append((("then", index, "context"), step.context))
    for keys, context in given:
        try:
            check_context(graph, context, "the scenario")
        except ContextMismatch as mismatch:
            raise ScenarioError(
                f"{where_in_file(scenario, keys)}: {_key_text(keys)}: {mismatch}".replace(
                    "Fix: drop the context,", "Fix: drop `context:`,"
                )
            ) from None


def _check_tool_names(scenario: Scenario, graph: Any) -> None:
    """Refuse tool names that can hold vacuously, naming the file, line and key, before
    anything runs: a `not_executed` name (of the run or a `then:` step) that is no tool of the
    agent never runs, and a `run.gated` name that is no tool gates nothing. Only when every
    tool of the graph is known before it runs (`graph_tools(graph).complete`); otherwise a
    finished run judges `not_executed` against the tools it saw (`expect.compare`) and records
    unknown `gated` names in `run.unmatched_gated`."""
    from hitl_sim.driving.gates import graph_tools
    from hitl_sim.errors import ScenarioError
    from hitl_sim.reviewing.validation import nearest
    from hitl_sim.scenarios.loader import where_in_file

    found = graph_tools(graph)
    if not found.complete:
        return
    tools = sorted(found.tools)
    named: list[tuple[tuple[Any, ...], str, str]] = []
    gated = scenario.run.gated or ()
    mapping = isinstance(gated, Mapping)
    for index, name in enumerate(gated):
        keys = ("run", "gated", name) if mapping else ("run", "gated", index)
        named.append((keys, name, "gates nothing, so the tool it meant runs unjudged"))
    lists: list[tuple[tuple[Any, ...], ExpectSpec]] = [(("expect",), scenario.expect)]
    lists += [(("then", i, "expect"), step.expect) for i, step in enumerate(scenario.then)]
    for prefix, expect in lists:
        for index, name in enumerate(expect.not_executed):
            keys = (*prefix, "not_executed", index)
            named.append(
                (keys, name, "never runs, so the expectation holds whatever the agent does")
            )
    problems = []
    for keys, name, why in named:
        if name in found.tools:
            continue
        match = nearest(name, tools)
        hint = f" Did you mean {match!r}?" if match is not None else ""
        problems.append(
            f"{where_in_file(scenario, keys)}: {_key_text(keys)}: {name!r} is no tool of the "
            f"agent: it {why}. The agent's tools: {', '.join(tools) or 'none'}.{hint}"
        )
    if problems:
        raise ScenarioError(
            "\n".join(problems)
            + "\nFix: name the agent's tools as the model calls them (the file's `tools:` keys, "
            "or for `kind: factory` the tools of the graph it builds)."
        )


def _key_text(keys: tuple[Any, ...]) -> str:
    text = ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in keys)
    return text.replace(".[", "[")


def _unavailable(scenario: Scenario) -> bool:
    return isinstance(scenario.reviewer, ReviewerSpec) and scenario.reviewer.unavailable


def _first(
    scenario: Scenario, reviewer: Any, options: dict[str, Any], graph: Any, previous: Run | None
) -> Any:
    from hitl_sim.driving.api import asimulate, simulate

    run = asimulate if scenario.run.async_ else simulate
    return run(graph, scenario.input, reviewer, **options)


def _step(
    scenario: Scenario,
    step: StepSpec,
    reviewer: Any,
    options: dict[str, Any],
    graph: Any,
    previous: Run | None,
) -> Any:
    from hitl_sim.driving import api as driver

    assert previous is not None  # a step follows a run
    options = {k: v for k, v in options.items() if k != "thread_id"}
    options["expect_pending"] = bool(step.reviewer and step.reviewer.unavailable)
    if step.context is not None:
        options["context"] = step.context
    thread = previous.thread_id if step.thread == "same" else step.thread
    asynchronous = scenario.run.async_
    if step.action == "recover":
        recover = driver.arecover if asynchronous else driver.recover
        return recover(previous, graph, reviewer, allow_rerun=step.allow_rerun, **options)
    if step.action == "resume" and (not asynchronous or thread is None):
        return driver.resume(graph, thread, reviewer, **options)
    given = None if step.action == "resume" else step.input
    simulate = driver.asimulate if asynchronous else driver.simulate
    return simulate(graph, given, reviewer, **{**options, "thread_id": thread})


def _script_used(model: ScriptedChatModel, result: ScenarioResult) -> None:
    try:
        model.assert_consumed()
    except UnusedScript as unused:
        result.failures.append(f"model script: {unused}")


def _snapshot(scenario: Scenario, run: Run, update: bool, result: ScenarioResult) -> None:
    from hitl_sim.reporting.snapshots import assert_snapshot_file

    try:
        assert_snapshot_file(run, scenario.snapshot_path, update=update)
    except AssertionError as exc:
        result.failures.append(f"snapshot: {exc}")
