"""Comparing a run with a scenario's expectations (`expect:`), as readable sentences.

`compare(run, expect)` returns one sentence per expectation that does not hold, naming the key,
what was expected and what happened; an empty list means the run met every expectation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hitl_sim.normalise import message_text

if TYPE_CHECKING:
    from hitl_sim.checking.violation import Violation
    from hitl_sim.frontends.prompts import Prompt
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run
    from hitl_sim.scenarios.schema import (
        ErrorSpec,
        ExpectSpec,
        InterruptSpec,
        PromptSpec,
        TextSpec,
    )


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
    failures += _unseen_failures(run, expect.not_executed)
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
        failures += error_failures(expect.error, run.error.exception)
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
        if not any(text in message_text(m) for r in run.model_requests for m in r.messages)
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


def _unseen_failures(run: Run, names: Sequence[str]) -> list[str]:
    """`not_executed` names that are a typo of a tool the finished run saw: such a name never
    runs, so the expectation would hold whatever the agent did. (A graph whose tools are all
    known before it runs is refused up front, with the file and line; this judges the others,
    after the run. A name like no tool seen may be a tool the run never reached: it stands.)"""
    from hitl_sim.reviewing.validation import misspelt

    if run.status != "finished":
        return []
    seen = run.tools_seen
    failures = []
    for name in names:
        match = misspelt(name, seen) if name not in seen else None
        if match is None:
            continue
        failures.append(
            f"not_executed: {name!r} is no tool the run saw (tools found in the graph, bound to "
            f"its models, run or reviewed: {', '.join(sorted(seen)) or 'none'}), so it never "
            f"runs and the expectation proves nothing. Did you mean {match!r}? Name the tool as "
            "the model calls it."
        )
    return failures


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


def _final_text(run: Run) -> str | None:
    messages = run.messages
    return message_text(messages[-1]) if messages else None


def _text_failures(label: str, got: str | None, spec: TextSpec) -> list[str]:
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


def error_failures(spec: ErrorSpec, exc: BaseException) -> list[str]:
    """How `exc` differs from the expected error (type name anywhere in its MRO, message)."""
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
    from hitl_sim.checking.checks import violations

    found = violations(run, **dict.fromkeys(off, False))
    got = Counter(v.check for v in found)
    if got == Counter(wanted):  # one name per violation: a second unapproved call is not hidden
        return []
    listed = "\n".join(f"  {v}" for v in found) or "  (none)"
    counts = (
        " (each name stands for one violation; list a check as often as it must fire)"
        if set(got) == set(wanted)
        else ""
    )
    return [
        f"violations: expected {sorted(wanted) or 'none'}, got "
        f"{sorted(got.elements()) or 'none'}{counts}:\n{listed}"
    ]


def frontend_failures(found: Sequence[Violation], wanted: Sequence[str]) -> list[str]:
    """`expect.frontend_violations`: the front end's violations must be exactly these (by name);
    default none, so any front-end violation fails the scenario unless listed."""
    got = Counter(v.check for v in found)
    if set(got) == set(wanted):
        return []
    listed = "\n".join(f"  {v}".replace("\n", "\n  ") for v in found) or "  (none)"
    return [
        f"frontend_violations: expected {sorted(wanted) or 'none'}, got "
        f"{sorted(got) or 'none'}:\n{listed}"
    ]


def prompt_failures(got: Sequence[Prompt], wanted: Sequence[PromptSpec]) -> list[str]:
    """`expect.prompts`: one entry per prompt answered, in order."""
    listed = "".join(f"\n  {p.describe()}" for p in got) or " none"
    if len(got) != len(wanted):
        return [f"prompts: expected {len(wanted)}, got {len(got)}:{listed}"]
    failures = []
    for index, (prompt, spec) in enumerate(zip(got, wanted, strict=True)):
        for text in spec.shows:
            if text not in prompt.screen:
                failures.append(
                    f"prompts[{index}].shows: expected the screen to show {text!r}; it showed "
                    f"{prompt.screen!r}."
                )
        if spec.line is not None and prompt.line != spec.line:
            failures.append(f"prompts[{index}].line: expected {spec.line!r}, got {prompt.line!r}.")
        if spec.typed is not None and prompt.typed != spec.typed:
            failures.append(
                f"prompts[{index}].typed: expected {spec.typed!r}, got {prompt.typed!r}."
            )
    return failures
