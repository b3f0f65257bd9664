"""Where records sit in a run's timeline: which model turn made a call, what ran before its review.

Queries over a `Run`'s records that the checks, the timeline and the run itself share (a record
module: it imports only `hitl_sim.run`'s types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run, ToolExecution


def step_index(run: Run, record: Any) -> int | None:
    """Where `record` (a decision, execution, ...) sits in the timeline."""
    return next((i for i, step in enumerate(run.steps) if step.record is record), None)


def turn_calls(step: Any) -> list[Mapping[str, Any]]:
    """The tool calls a model turn made (nothing for other steps)."""
    if step.kind != "model_turn":
        return []
    return list(getattr(getattr(step.record, "response", None), "tool_calls", None) or ())


def made_between(run: Run, start: int | None, end: int | None, call_id: str | None) -> bool:
    """Whether a model turn strictly between steps `start` and `end` made a call with this id
    (providers do not guarantee unique ids: such a call is another call)."""
    if start is None or call_id is None:
        return False
    stop = len(run.steps) if end is None else end
    return any(
        call.get("id") == call_id
        for step in run.steps[start + 1 : stop]
        for call in turn_calls(step)
    )


def turn_of(run: Run, execution: ToolExecution) -> int | None:
    """The timeline index of the model turn that made the call `execution` ran (the last turn
    before it with that call id, preferring turns of the same agent); None when unknown."""
    if execution.call_id is None:
        return None
    ran_at = step_index(run, execution)
    before = run.steps if ran_at is None else run.steps[:ran_at]
    turns = [
        i
        for i, step in enumerate(before)
        if any(call.get("id") == execution.call_id for call in turn_calls(step))
    ]
    own = [i for i in turns if getattr(run.steps[i].record, "agent", None) == execution.agent]
    chosen = own or turns
    return chosen[-1] if chosen else None


def ran_before_review(run: Run) -> list[tuple[ToolExecution, tuple[PendingInterrupt, ...]]]:
    """Each tool execution that ran while a gated call of the same model turn was still waiting
    for the reviewer (per_call mode runs ungated siblings first), with the interrupts it ran
    ahead of. Empty in batched mode, where the whole turn is reviewed before any tool runs."""
    early: list[tuple[ToolExecution, tuple[PendingInterrupt, ...]]] = []
    for execution in run.executed:
        origin = turn_of(run, execution)
        ran_at = step_index(run, execution)
        if origin is None or ran_at is None:
            continue
        siblings = {call.get("id") for call in turn_calls(run.steps[origin])} - {execution.call_id}
        waiting: list[PendingInterrupt] = []
        for interrupt in run.interrupts:
            asked = step_index(run, interrupt)
            for action in interrupt.actions:
                if action.tool_call_id not in siblings or asked is None or asked < origin:
                    continue
                if made_between(run, origin, asked, action.tool_call_id):
                    continue  # a later turn's call with a reused id
                answered = [
                    i
                    for record in run.decisions
                    if record.interrupt is interrupt and (i := step_index(run, record)) is not None
                ]
                if (not answered or min(answered) > ran_at) and interrupt not in waiting:
                    waiting.append(interrupt)
        if waiting:
            early.append((execution, tuple(waiting)))
    return early
