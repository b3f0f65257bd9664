"""Running a scenario and comparing what happened with what the file expects.

`run_scenario(scenario)` builds the model, agent and reviewer, simulates the run (then any `then:`
steps), and returns a `ScenarioResult` whose `failures` name each expectation that did not hold;
`result.report()` adds the run's timeline, which is what pytest and `hitl-sim run` show.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitl_sim.scenario import ExpectSpec, InterruptSpec, Scenario, StepSpec, load_scenario

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.models import ScriptedChatModel
    from hitl_sim.run import Run


@dataclass
class ScenarioResult:
    """The outcome of one scenario: its run(s), and the expectations that failed."""

    scenario: Scenario
    runs: list[Run] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

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
        for index, run in enumerate(self.runs):
            title = (
                "Run" if index == 0 else f"Step {index} ({self.scenario.then[index - 1].action})"
            )
            lines.extend(["", f"{title} timeline:", run.timeline()])
        return "\n".join(lines)


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
    from hitl_sim.checkpointers import checkpoint_store
    from hitl_sim.scenario_agents import build_model

    kind = scenario.agent.checkpointer or default_kind
    model = build_model(scenario)
    phases = _phases(scenario)
    if kind == "none":
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


def _graph(scenario: Scenario, model: Any, saver: Any) -> Any:
    from hitl_sim.scenario_agents import build_agent

    return build_agent(scenario, model, saver)


async def _adrive_on(
    store: Any, scenario: Scenario, model: Any, phases: list[Phase], result: ScenarioResult
) -> None:
    async with store.aopen() as saver:
        await _adrive(_graph(scenario, model, saver), phases, result)


def _drive(graph: Any, phases: list[Phase], result: ScenarioResult) -> None:
    previous: Run | None = None
    for label, expect, action in phases:
        try:
            outcome = action(graph, previous)
        except Exception as exc:
            _raised(label, expect, exc, result)
            return
        previous = _ran(label, expect, outcome, result)


async def _adrive(graph: Any, phases: list[Phase], result: ScenarioResult) -> None:
    previous: Run | None = None
    for label, expect, action in phases:
        try:
            outcome = action(graph, previous)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:
            _raised(label, expect, exc, result)
            return
        previous = _ran(label, expect, outcome, result)


def _raised(label: str, expect: ExpectSpec, exc: Exception, result: ScenarioResult) -> None:
    if expect.raises is None:
        result.failures.append(
            f"{label}: raised {type(exc).__name__}: {exc}\n  (expected no exception; "
            "if it is intended, add expect.raises: {type: ..., match: ...})"
        )
    else:
        result.failures.extend(f"{label}: {f}" for f in _error_failures(expect.raises, exc))


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
    from hitl_sim.scenario_agents import build_reviewer

    options = _options(scenario)
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
            else dict.fromkeys(spec.gated, ("approve", "edit", "reject", "respond"))
        )
    if spec.clock is not None:
        options["clock"] = spec.clock
    return options


def _unavailable(scenario: Scenario) -> bool:
    return scenario.reviewer is not None and scenario.reviewer.unavailable


def _first(
    scenario: Scenario, reviewer: Any, options: dict[str, Any], graph: Any, previous: Run | None
) -> Any:
    from hitl_sim.driver import asimulate, simulate

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
    from hitl_sim import driver

    assert previous is not None  # a step follows a run
    options = {k: v for k, v in options.items() if k != "thread_id"}
    options["expect_pending"] = bool(step.reviewer and step.reviewer.unavailable)
    thread = previous.thread_id if step.thread == "same" else step.thread
    asynchronous = scenario.run.async_
    if step.action == "recover":
        recover = driver.arecover if asynchronous else driver.recover
        return recover(previous, graph, reviewer, **options)
    if step.action == "resume" and (not asynchronous or thread is None):
        return driver.resume(graph, thread, reviewer, **options)
    given = None if step.action == "resume" else step.input
    simulate = driver.asimulate if asynchronous else driver.simulate
    return simulate(graph, given, reviewer, **{**options, "thread_id": thread})


# --- comparing --------------------------------------------------------------------------------


def compare(run: Run, expect: ExpectSpec) -> list[str]:
    """Every expectation in `expect` that `run` does not meet, as readable sentences."""
    failures: list[str] = []
    if expect.status is not None and run.status != expect.status:
        failures.append(f"status: expected {expect.status}, got {run.status}.")
    failures += _executed_failures(run, expect)
    ran = set(run.executed_names)
    failures += [
        f"not_executed: {name!r} ran, but the scenario says it must never run "
        f"(executed: {_executions(run)})."
        for name in expect.not_executed
        if name in ran
    ]
    if expect.final_message is not None:
        failures += _text_failures("final_message", _final_text(run), expect.final_message)
    if expect.error is None and run.error is not None:
        failures.append(
            f"error: the run failed with {run.error.type}: {run.error.message}\n  (expected "
            "no error; if it is intended, add expect.error: {type: ..., match: ...})"
        )
    elif expect.error is not None and run.error is None:
        failures.append(f"error: expected {expect.error.type}, but the run ended {run.status}.")
    elif expect.error is not None and run.error is not None:
        failures += _error_failures(expect.error, run.error.exception)
        for flag in ("resumable", "poisoned"):
            wanted = getattr(expect.error, flag)
            if wanted is not None and getattr(run.error, flag) != wanted:
                failures.append(f"error.{flag}: expected {wanted}, got {getattr(run.error, flag)}.")
    if expect.interrupts is not None:
        failures += _interrupt_failures("interrupts", run.interrupts, expect.interrupts)
    if expect.pending is not None:
        failures += _interrupt_failures("pending", run.pending, expect.pending)
    failures += _violation_failures(run, expect.violations, expect.checks_off)
    failures += [
        f"model_saw: no model request contained {text!r}."
        for text in expect.model_saw
        if not any(text in _content(m) for r in run.model_requests for m in r.messages)
    ]
    for key, wanted in expect.state.items():
        got = run.final_state.get(key, _MISSING)
        if got != wanted:
            shown = "nothing (key missing)" if got is _MISSING else repr(got)
            failures.append(f"state.{key}: expected {wanted!r}, got {shown}.")
    if expect.decisions is not None:
        failures += _decision_failures(run, expect.decisions)
    if expect.model_calls is not None and len(run.model_requests) != expect.model_calls:
        failures.append(
            f"model_calls: expected {expect.model_calls}, got {len(run.model_requests)}."
        )
    return failures


_MISSING = object()


def _executions(run: Run) -> str:
    return ", ".join(f"{e.name}({_args(e.args)})" for e in run.executed) or "nothing"


def _args(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def _executed_failures(run: Run, expect: ExpectSpec) -> list[str]:
    """`executed` as a multiset: execution order across parallel tool tasks is not fixed."""
    if expect.executed is None:
        return []
    left = list(run.executed)
    missing = []
    for wanted in expect.executed:
        match = next(
            (
                e
                for e in left
                if e.name == wanted.name and (wanted.args is None or dict(e.args) == wanted.args)
            ),
            None,
        )
        if match is None:
            missing.append(wanted)
        else:
            left.remove(match)
    if not missing and not left:
        return []
    expected = ", ".join(
        w.name if w.args is None else f"{w.name}({_args(w.args)})" for w in expect.executed
    )
    lines = [f"executed: expected [{expected or 'nothing'}], got [{_executions(run)}]."]
    lines += [
        f"  missing: {w.name}" + ("" if w.args is None else f"({_args(w.args)})") for w in missing
    ]
    lines += [f"  unexpected: {e.name}({_args(e.args)})" for e in left]
    return ["\n".join(lines)]


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, Mapping) else str(part) for part in content
        )
    return str(content)


def _final_text(run: Run) -> str | None:
    messages = run.messages
    return _content(messages[-1]) if messages else None


def _text_failures(label: str, got: str | None, spec: Any) -> list[str]:
    if got is None:
        return [f"{label}: expected a message, but the run has none."]
    failures = []
    if spec.equals is not None and got != spec.equals:
        failures.append(f"{label}: expected {spec.equals!r}, got {got!r}.")
    if spec.contains is not None and spec.contains not in got:
        failures.append(f"{label}: expected it to contain {spec.contains!r}, got {got!r}.")
    if spec.matches is not None and re.search(spec.matches, got) is None:
        failures.append(f"{label}: expected it to match /{spec.matches}/, got {got!r}.")
    return failures


def _error_failures(spec: Any, exc: BaseException) -> list[str]:
    names = [cls.__name__ for cls in type(exc).__mro__]
    failures = []
    if spec.type not in names:
        failures.append(f"error: expected {spec.type}, got {type(exc).__name__}: {exc}")
    if spec.match is not None and re.search(spec.match, str(exc)) is None:
        failures.append(
            f"error: expected the message to match /{spec.match}/, got {type(exc).__name__}: {exc}"
        )
    return failures


def _interrupt_failures(
    label: str, got: Sequence[PendingInterrupt], wanted: Sequence[InterruptSpec]
) -> list[str]:
    if len(got) != len(wanted):
        listed = "; ".join(_interrupt_text(i) for i in got) or "none"
        return [f"{label}: expected {len(wanted)}, got {len(got)}: {listed}."]
    failures = []
    for index, (interrupt, spec) in enumerate(zip(got, wanted, strict=True)):
        facts: dict[str, Any] = {
            "kind": interrupt.kind,
            "tools": tuple(a.name for a in interrupt.actions),
            "descriptions": tuple(a.description for a in interrupt.actions),
            "allowed": tuple(tuple(a.allowed) for a in interrupt.actions),
            "node": interrupt.node,
            "agent": interrupt.agent,
        }
        for key, value in facts.items():
            expected = getattr(spec, key)
            if expected is not None and expected != value:
                failures.append(f"{label}[{index}].{key}: expected {expected!r}, got {value!r}.")
        if spec.value is not None and not _contains(interrupt.value, spec.value):
            failures.append(
                f"{label}[{index}].value: expected {spec.value!r}, got {interrupt.value!r}."
            )
    return failures


def _contains(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping) and isinstance(value, Mapping):
        return all(k in value and _contains(value[k], v) for k, v in wanted.items())
    return bool(value == wanted)


def _interrupt_text(interrupt: PendingInterrupt) -> str:
    tools = ", ".join(a.name for a in interrupt.actions)
    return f"{interrupt.kind} at {interrupt.node!r}" + (f" [{tools}]" if tools else "")


def _decision_failures(run: Run, wanted: Sequence[Any]) -> list[str]:
    got = [
        {
            "type": _decision_type(record.decision.type, record.payload),
            "by": record.decision.by,
            "tool": record.action.name if record.action is not None else None,
        }
        for record in run.decisions
    ]
    listed = "; ".join(f"{g['type']} by {g['by']} for {g['tool']}" for g in got) or "none"
    if len(got) != len(wanted):
        return [f"decisions: expected {len(wanted)}, got {len(got)}: {listed}."]
    failures = []
    for index, (facts, spec) in enumerate(zip(got, wanted, strict=True)):
        for key, value in facts.items():
            expected = getattr(spec, key)
            if expected is not None and expected != value:
                failures.append(f"decisions[{index}].{key}: expected {expected!r}, got {value!r}.")
    return failures


def _decision_type(kind: str, payload: Any) -> str:
    sent = payload.get("type") if isinstance(payload, Mapping) else None
    return sent if kind == "unchecked" and isinstance(sent, str) else kind


def _violation_failures(run: Run, wanted: Sequence[str], off: Sequence[str]) -> list[str]:
    from hitl_sim.checks import violations

    found = violations(run, **dict.fromkeys(off, False))
    got = Counter(v.check for v in found)
    if set(got) == set(wanted):
        return []
    listed = "\n".join(f"  {v}" for v in found) or "  (none)"
    return [
        f"violations: expected {sorted(wanted) or 'none'}, got {sorted(got) or 'none'}:\n{listed}"
    ]


def _script_used(model: ScriptedChatModel, result: ScenarioResult) -> None:
    left = model.remaining_by_agent
    unused = {agent: turns for agent, turns in left.items() if turns}
    if unused:
        listed = "; ".join(f"{agent}: {turns!r}" for agent, turns in unused.items())
        result.failures.append(
            f"model script: the run finished with scripted turns nobody asked for ({listed}). "
            "Remove them, or find out why the agent stopped early."
        )


def _snapshot(scenario: Scenario, run: Run, update: bool, result: ScenarioResult) -> None:
    from hitl_sim.snapshots import assert_snapshot_file

    try:
        assert_snapshot_file(run, scenario.snapshot_path, update=update)
    except AssertionError as exc:
        result.failures.append(f"snapshot: {exc}")
