"""The driver's error messages: what happened, what was expected, and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hitl_sim.errors import (
    ThreadError,
    TooManyResumes,
    UnknownName,
)
from hitl_sim.interrupts import PendingInterrupt
from hitl_sim.run import (
    Run,
    RunError,
    ToolExecution,
)

if TYPE_CHECKING:
    from langgraph.types import StateSnapshot


def _under_review(interrupt: PendingInterrupt) -> str:
    """What an interrupt asks, for messages: the calls under review, or the raw payload."""
    if interrupt.actions:
        return "Calls under review: " + ", ".join(a.describe() for a in interrupt.actions)
    if interrupt.kind == "breakpoint":
        return f"Static breakpoint before node {interrupt.node!r}"
    return f"Interrupt payload: {_describe_payload(interrupt.value)}"


def _describe_payload(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def _unknown_names(head: str, found: list[str], fix: str) -> UnknownName:
    listed = "\n".join(f"- {problem}" for problem in found)
    error = UnknownName(f"{head}\n{listed}\n{fix}")
    error.problems = list(found)
    return error


def _gated_names_no_tool(who: str, unknown: list[str], tools: list[str]) -> UnknownName:
    from hitl_sim.reviewing.validation import nearest

    listed = ", ".join(sorted(tools)) or "none"
    found = []
    for name in unknown:
        match = nearest(name, tools)
        hint = f"; nearest match for {name!r}: {match!r}" if match is not None else ""
        found.append(f"gated= name {name!r} is no tool of the graph. Its tools: {listed}{hint}.")
    return _unknown_names(
        f"{who} got gated= names that are no tool of the graph, so the run was not started: "
        "such a name gates nothing, and the tool it meant would run with no check that a human "
        "approved it.",
        found,
        "Fix the names in gated= (each tool's own name, as the model calls it; the tools of "
        "the graph's subgraphs and subagents count).",
    )


def _nothing_pending(thread_id: str, head: StateSnapshot) -> ThreadError:
    if head.created_at is None:
        return ThreadError(
            f"Thread {thread_id!r} has no checkpoints, so there is nothing to resume: "
            "LangGraph would silently start the graph afresh with empty input. Expected the "
            "thread of a paused run. Fix: pass the thread_id the paused run used "
            "(run.thread_id), or start a new run with input."
        )
    return ThreadError(
        f"Thread {thread_id!r} has nothing pending (its run finished), so there is nothing to "
        "resume: LangGraph would accept the resume and silently do nothing. Expected a thread "
        "with a pending interrupt. Fix: resume the thread that is still paused, or start a new "
        "turn with input."
    )


def _stuck_on_failure(thread_id: str, head: StateSnapshot) -> ThreadError:
    failed = next(task for task in head.tasks if task.error is not None)
    return ThreadError(
        f"Thread {thread_id!r} is stuck on a failed task: node {failed.name!r} raised "
        f"{_error_text(failed.error)}. Nothing is pending to answer, yet the "
        f"thread is not finished (next={tuple(head.next)!r}), so resuming it would report a "
        "finished run that never finished. Fix: continue the failed run with "
        "recover(run, graph, reviewer), or re-run the node yourself with "
        "graph.invoke(None, config) once its cause is fixed."
    )


def _error_text(error: Any) -> str:
    """A task's stored error: an exception, or (read back from a checkpointer) its repr."""
    return error if isinstance(error, str) else f"{type(error).__name__}: {error}"


_LOST = (
    "they ran in the step that failed, but the thread kept no result of them (their write was "
    "not saved, e.g. with durability='exit'), so retrying that step runs them again"
)


_DISCARDED = (
    "they finished in the step that failed and the thread saved their results, but clearing "
    "the poisoned answer with update_state(config, None) discards those results, so they run "
    "again"
)


def _ran_text(execution: ToolExecution) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in execution.args.items())
    return f"{execution.name}({args}) (ran in resume {execution.resume})"


def _would_rerun(run: Run, what: list[str], why: str) -> ThreadError:
    return ThreadError(
        f"recover() would run again what already ran on thread {run.thread_id!r}: "
        f"{', '.join(what)}: {why}. Expected a failed step whose finished work the thread "
        "kept. run.error is kept. Fix: pass recover(..., allow_rerun=True) if running it again "
        "is safe (run.check() then reports each second execution as ran_twice), or start a "
        "new run."
    )


def _cannot_recover(run: Run) -> ThreadError:
    error = run.error
    state = (
        "has no error"
        if error is None
        else f"failed with {error.type}: {error.message.rstrip('.')}"
    )
    return ThreadError(
        f"recover() cannot continue the run on thread {run.thread_id!r}: it {state}, and only "
        "a resumable error can be recovered (a poisoned batched answer, or an answer the graph "
        "rejected while the interrupt stayed pending). Expected run.error.resumable to be True. "
        "Fix: start a new run, or inspect run.error and the thread's state."
    )


def _too_many_resumes(run: Run, limit: int) -> TooManyResumes:
    recent = run.interrupts[-5:]
    listed = "\n".join(f"- {p.label}: {_under_review(p)}" for p in recent)
    return TooManyResumes(
        f"The graph was resumed {limit} times on thread {run.thread_id!r} and is still "
        f"pausing (max_resumes={limit}): an approval loop that never ends.\n"
        f"The last interrupts:\n{listed}\n"
        "Fix the loop in the agent, or raise max_resumes= if this many reviews are intended."
    )


def _cannot_resume_failed(run: Run, error: RunError) -> ThreadError:
    return ThreadError(
        f"resume() cannot continue the run on thread {run.thread_id!r}: it failed with "
        f"{error.type}: {error.message.rstrip('.')}. Expected a run that ended pending. Fix: use "
        "recover(run, graph, reviewer) to clear the error and answer again."
    )
