"""A run as a readable timeline: what a failing assertion shows.

Deterministic: interrupts are labelled `#1`, `#2`... and the thread by its id only when the test
chose it (generated ids print as `<fresh thread>`); no uuids, no message ids. Times are offsets
from the run's first step (`+0s`, `+2h`), since a frozen clock makes them meaningful.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from hitl_sim.interrupts import PendingInterrupt
from hitl_sim.normalise import MASK, Redactor
from hitl_sim.run import (
    DecisionRecord,
    ModelRequest,
    PolicyBlock,
    ResumeRecord,
    Run,
    RunError,
    SideEffect,
    Step,
    ToolExecution,
)

WIDTH = 160
_NO_REDACTION = Redactor(())
_REDACTOR: ContextVar[Redactor | None] = ContextVar("hitl_sim_timeline_redactor", default=None)
"""The run's redactor while `render` runs: every value is masked before it is cut short."""


def _redactor() -> Redactor:
    return _REDACTOR.get() or _NO_REDACTION


def _short(value: Any, width: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = _redactor().text(text).replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 3] + "..."


def _call(name: str, args: Mapping[str, Any]) -> str:
    secret = _redactor().is_secret
    shown = ", ".join(
        f"{key}={MASK if secret(key) else _short(repr(value), 40)}" for key, value in args.items()
    )
    return f"{name}({shown})"


def _offset(at: datetime, start: datetime) -> str:
    delta = at - start
    if delta < timedelta(0):
        return "-" + _offset(start, at)[1:]
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0 and seconds:
        return f"+{seconds // 3600}h"
    if seconds % 60 == 0 and seconds:
        return f"+{seconds // 60}m"
    return f"+{seconds}s"


def _agent(agent: str | None) -> str:
    return f" [{agent}]" if agent else ""


def _model_turn(request: ModelRequest) -> list[str]:
    head = f"model turn {request.turn}{_agent(request.agent)}"
    response = request.response
    if response is None:
        return [f"{head}: (no response)"]
    calls = list(getattr(response, "tool_calls", None) or ())
    if not calls:
        return [f"{head}: says {_short(response.content)}"]
    text = f"says {_short(response.content, 60)}, then " if response.content else ""
    lines = [f"{head}: {text}calls"]
    lines.extend(f"    {_call(c['name'], c.get('args') or {})}" for c in calls)
    return lines


def _interrupt(interrupt: PendingInterrupt) -> list[str]:
    head = f"interrupt #{interrupt.seq} ({interrupt.kind}, node {interrupt.node!r})"
    head += _agent(interrupt.agent)
    if interrupt.kind == "breakpoint":
        return [f"{head}: static breakpoint"]
    if not interrupt.actions:
        return [f"{head}: {_short(interrupt.value)}"]
    lines = [f"{head}:"]
    for action in interrupt.actions:
        allowed = "/".join(action.allowed) or "?"
        lines.append(f"    {_call(action.name, action.args)}  allowed: {allowed}")
    return lines


def _decision(record: DecisionRecord) -> list[str]:
    decision = record.decision
    about = f" {_call(record.action.name, record.action.args)}" if record.action else ""
    lines = [f"decision for #{record.interrupt.seq}{about}: {_short(decision.describe(), 100)}"]
    edited = record.payload.get("edited_action") if isinstance(record.payload, Mapping) else None
    if decision.type == "edit" and isinstance(edited, Mapping):
        lines.append(f"    -> {_call(str(edited.get('name')), edited.get('args') or {})}")
    return lines


def _tool(record: ToolExecution | SideEffect) -> list[str]:
    if isinstance(record, SideEffect):
        args = [_short(repr(a), 40) for a in record.args]
        args += [f"{k}={_short(repr(v), 40)}" for k, v in record.kwargs.items()]
        return [f"side effect {record.name}({', '.join(args)})"]
    head = f"tool {_call(record.name, record.args)}{_agent(record.agent)}"
    if record.error is not None:
        return [f"{head} raised {_short(record.error)}"]
    return [f"{head} -> {_short(record.result)}"]


def _blocked(block: PolicyBlock) -> list[str]:
    odds = f" (probability {block.probability:.2f})" if block.probability is not None else ""
    why = f": {_short(block.reason, 100)}" if block.reason else ""
    head = f"blocked by {block.policy}{odds}{why}"
    return [head, f"    {_call(block.name, block.args)}{_agent(block.agent)} did not run"]


def _error(error: RunError) -> list[str]:
    state = "poisoned" if error.poisoned else "resumable" if error.resumable else "not resumable"
    if error.tool is not None:
        state = f"raised by tool {error.tool}, {state}"
    where = f" in node {error.node!r}" if error.node else ""
    lines = [f"error ({state}){where}: {error.type}: {_short(error.message, 120)}"]
    for execution in error.lost:
        call = _call(execution.name, execution.args)
        lines.append(f"    result lost: {call} ran, but the thread kept no result of it")
    return lines


def _line(step: Step, early: Mapping[int, str]) -> list[str]:
    record = step.record
    if step.kind == "tool" and id(record) in early:
        lines = _tool(record)
        return [*lines, f"    ran before {early[id(record)]} was answered"]
    if step.kind == "model_turn":
        return _model_turn(record)
    if step.kind == "interrupt":
        return _interrupt(record)
    if step.kind == "decision":
        return _decision(record)
    if step.kind == "resume":
        return [_resume(record)]
    if step.kind == "tool":
        return _tool(record)
    if step.kind == "blocked":
        return _blocked(record)
    if step.kind == "error":
        return _error(record)
    return [f"finish: {record}"]


def _resume(record: ResumeRecord) -> str:
    answered = ", ".join(f"#{seq}" for seq in record.answers)
    if record.how == "retry":
        return f"resume {record.resume}: invoke(None), retrying the failed task with its answer"
    if record.how == "continue":
        written = f"update_state({_short(record.update, 60)}), " if record.update else ""
        return f"resume {record.resume} ({answered}): {written}invoke(None)"
    value = record.value
    batched = isinstance(value, Mapping) and isinstance(value.get("decisions"), list)
    if batched or record.how == "recover":  # recover: one answer, not keyed by interrupt id
        shown = _answer(value)
    elif isinstance(value, Mapping) and len(value) == len(record.answers):
        pairs = zip(record.answers, value.values(), strict=True)
        shown = "{" + ", ".join(f"#{seq}: {_answer(v)}" for seq, v in pairs) + "}"
    else:
        shown = _short(value, 80)
    cleared = "update_state(None), " if record.how == "recover" else ""
    return f"resume {record.resume} ({answered}): {cleared}Command(resume={shown})"


def _answer(payload: Any) -> str:
    if isinstance(payload, Mapping) and isinstance(payload.get("decisions"), list):
        return "{'decisions': [" + ", ".join(_kind(d) for d in payload["decisions"]) + "]}"
    return _kind(payload)


def _kind(payload: Any) -> str:
    kind = payload.get("type") if isinstance(payload, Mapping) else None
    return str(kind) if isinstance(kind, str) else _short(repr(payload), 40)


def _thread(run: Run) -> str:
    return "<fresh thread>" if run.thread_id.startswith("hitl-sim-") else repr(run.thread_id)


def render(run: Run) -> str:
    """The whole run, one step per line (tool calls indented under their turn), every secret
    the run saw masked (see `hitl_sim.normalise.Redactor`)."""
    redactor = run.redactor()
    token = _REDACTOR.set(redactor)
    try:
        return redactor.text(_render(run))
    finally:
        _REDACTOR.reset(token)


def _render(run: Run) -> str:
    from hitl_sim.order import ran_before_review

    early = {
        id(execution): ", ".join(f"#{i.seq}" for i in waiting)
        for execution, waiting in ran_before_review(run)
    }
    start = run.steps[0].at if run.steps else None
    lines = [f"run on thread {_thread(run)}: {run.status}"]
    lines.extend(
        f"  ungated tools{_agent(agent)}: {', '.join(tools)}"
        for agent, tools in run.ungated_tools.items()
    )
    if run.unmatched_gated:
        lines.append(f"  gated= names no tool the run saw: {', '.join(run.unmatched_gated)}")
    for step in run.steps:
        when = _offset(step.at, start) if start is not None else ""
        body = _line(step, early)
        lines.append(f"  {when:>5} r{step.resume} {body[0]}")
        lines.extend(f"           {extra}" for extra in body[1:])
    if run.pending:
        waiting = ", ".join(f"#{p.seq}" for p in run.pending)
        lines.append(f"  pending: {waiting}")
    if run.unused_decisions:
        lines.append(f"  unused decisions: {[d.describe() for d in run.unused_decisions]}")
    return "\n".join(_short(line, WIDTH) if len(line) > WIDTH else line for line in lines)
