"""Run a compiled graph to completion while a scripted human answers every interrupt.

`simulate(graph, input, reviewer)` invokes the graph on a fresh thread, then, as long as something
is pending on that thread, asks the responder for decisions, validates them locally, and resumes
the SAME thread with `Command(resume=...)` (or `invoke(None)` past a static breakpoint). Everything
that happens lands in a `Run`: model turns and tool executions (through LangChain callbacks),
interrupts, decisions, resumes, errors and the final state. `asimulate` does the same with
`ainvoke` / `astream` / `aget_state`.

The loop itself (`_Session.loop`, in `hitl_sim.driving._session`) is a generator that yields the
graph operations it needs (`_Invoke`, `_GetState`, `_UpdateState`); `_drive` performs them with
the sync API and `_adrive` with the async one (`hitl_sim.driving._io`), so both modes share every
decision the driver makes. Its error messages are in `hitl_sim.driving._messages`.

In invoke mode the graph is asked for its "updates" and "values" streams over every state key
(`output_keys=graph.stream_channels_asis`, what `get_state` reads): an invoke that ran to the end
(no `__interrupt__` update, not even the empty one a static breakpoint emits) hands back the final
state itself, so the thread is read only when something paused or failed.

Every run the six public functions return is passed to the run observer of the context
(`hitl_sim.driving._observers`): an active `HitlSim` registers it for its end-of-test check.
"""

from __future__ import annotations

from collections.abc import (
    Mapping,
)
from typing import TYPE_CHECKING, Any, Unpack

from hitl_sim.driving._io import _adrive, _drive
from hitl_sim.driving._messages import _cannot_resume_failed
from hitl_sim.driving._observers import caller_module, observed
from hitl_sim.driving._session import _require_checkpointer, _Session
from hitl_sim.driving.context import context_of
from hitl_sim.driving.options import (
    RUN_DEFAULTS,
    SIMULATE_DEFAULTS,
    Graph,
    GraphInput,
    ReviewerArg,
    RunOptions,
    SimulateOptions,
    with_defaults,
)
from hitl_sim.errors import (
    ThreadError,
)
from hitl_sim.run import (
    Run,
)

if TYPE_CHECKING:
    pass


def simulate(
    graph: Graph,
    input: GraphInput,
    reviewer: ReviewerArg = None,
    **options: Unpack[SimulateOptions],
) -> Run:
    """Run `graph` on `input`, answering every interrupt with `reviewer`, and return the `Run`.

    `input` is a str (sent as the user's message), a dict of graph input, or None to answer what
    is already pending on `thread_id`. Graph errors land in `run.error`; harness problems (a
    thread that cannot be resumed, an answer that would be rejected, `TooManyResumes`, a
    `ScriptExhausted` or `RealModelBlocked` raised inside the graph) raise, with the run's
    timeline attached as a note. `durability` is passed to every invoke (LangGraph's default,
    "async", when None); "exit" saves checkpoints only where each invoke stops.

    `context`: the run context (`runtime.context`), passed to every invoke of the run: a dict
    of the graph's context schema's fields or an instance of it, checked against the schema
    before anything runs (`hitl_sim.driving.context.ContextMismatch`, an `InvalidArgument`).

    `redact`: the keys whose values every output of the run masks (timeline, check failures,
    audit log, snapshots, reports; see `hitl_sim.normalise.Redactor`); default
    `hitl_sim.normalise.default_redacted()`, None masks nothing. LangSmith tracing is off during
    the run whatever `LANGSMITH_TRACING` says; `trace=True` lets it trace.

    While a `HitlSim` is active (the `hitl_sim` fixture, `with HitlSim(...)`), it checks this run
    at its end, as it does every run `asimulate`, `resume` and `recover` return there
    (`hitl_sim.driving._observers`); the run keeps the options given here.
    """
    caller = caller_module()
    session = _Session(
        graph, input, reviewer, **with_defaults(options, SIMULATE_DEFAULTS, "simulate()")
    )
    return observed(_drive(session, session.loop), caller)


async def asimulate(
    graph: Graph,
    input: GraphInput,
    reviewer: ReviewerArg = None,
    **options: Unpack[SimulateOptions],
) -> Run:
    """`simulate` with `ainvoke` / `astream` / `aget_state` (for async agents and checkpointers)."""
    caller = caller_module()
    given = with_defaults(options, SIMULATE_DEFAULTS, "asimulate()")
    session = _Session(graph, input, reviewer, **given, who="asimulate()")
    return observed(await _adrive(session, session.loop), caller)


def resume(
    graph: Graph,
    thread: Run | str | Mapping[str, Any] | None,
    reviewer: ReviewerArg = None,
    **options: Unpack[RunOptions],
) -> Run:
    """Answer what is pending on an existing thread (a paused run, another process's thread).

    `thread` is a thread id, a config naming one, or the paused `Run` itself, which is then
    continued (its record grows) rather than a new one started. Checks first, and raises
    `ThreadError` where LangGraph would silently misbehave: no thread id, a thread with no
    checkpoints (LangGraph would start afresh), a finished thread (LangGraph would do nothing),
    or a graph without a checkpointer. `options` are `simulate()`'s keyword options.
    """
    caller = caller_module()
    if isinstance(thread, Run):
        if thread.error is not None:
            raise _cannot_resume_failed(thread, thread.error)
        session = _continuing(thread, graph, reviewer, options, "resume()")
    else:
        session = _on_thread(graph, thread, reviewer, options, "resume()")
    return observed(_drive(session, session.loop), caller)


async def aresume(
    graph: Graph,
    thread: Run | str | Mapping[str, Any] | None,
    reviewer: ReviewerArg = None,
    **options: Unpack[RunOptions],
) -> Run:
    """`resume` with the async graph API."""
    caller = caller_module()
    if isinstance(thread, Run):
        if thread.error is not None:
            raise _cannot_resume_failed(thread, thread.error)
        session = _continuing(thread, graph, reviewer, options, "aresume()")
    else:
        session = _on_thread(graph, thread, reviewer, options, "aresume()")
    return observed(await _adrive(session, session.loop), caller)


def _named_thread(graph: Any, thread: str | Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(thread) if isinstance(thread, Mapping) else {}
    thread_id = None if isinstance(thread, Mapping) else thread
    named = (
        thread_id or (config.get("configurable") or {}).get("thread_id") or config.get("thread_id")
    )
    _require_checkpointer(graph)
    if named is None or named == "":
        raise ThreadError(
            f"resume() got no thread id (thread={thread!r}), so it cannot tell which paused run "
            "to answer: LangGraph would refuse a checkpointer call without "
            "configurable.thread_id. Fix: pass the paused run's thread, e.g. "
            "resume(graph, run.thread_id, reviewer)."
        )
    return {"config": config, "thread_id": thread_id}


def recover(
    run: Run,
    graph: Any,
    reviewer: Any = None,
    *,
    allow_rerun: bool = False,
    **options: Unpack[RunOptions],
) -> Run:
    """Continue `run` after a graph error that left its thread resumable, and return it.

    A poisoned batched answer (a bad answer sent with `unchecked(...)`) is cleared with
    `update_state(config, None)` and `reviewer`'s corrected answer is sent in its place; an answer
    the graph rejected while the interrupt stayed pending (a per_call or `response_schema`
    validation error) is simply answered again; a tool's own exception (`run.error.tool`) is
    retried with `invoke(None)`, which re-runs the failed task with the answer LangGraph stored
    (the reviewer is not asked again: a new answer would not be applied). The run then continues
    to the end as `simulate()` would, appending to the same record. `options` are `simulate()`'s
    keyword options (`mode`, `clock`, `max_resumes`, `watch`, `rebuild`, ...).

    It refuses (`ThreadError`, `run.error` kept) when continuing would run again a tool that
    already ran: one whose result the failed step lost (`run.error.lost`), or a sibling whose
    saved result `update_state(config, None)` would discard. `allow_rerun=True` goes ahead.
    """
    caller = caller_module()
    session = _continuing(run, graph, reviewer, options, "recover()")
    return observed(_drive(session, lambda head: session.recover(allow_rerun)), caller)


async def arecover(
    run: Run,
    graph: Graph,
    reviewer: ReviewerArg = None,
    *,
    allow_rerun: bool = False,
    **options: Unpack[RunOptions],
) -> Run:
    """`recover` with the async graph API."""
    caller = caller_module()
    session = _continuing(run, graph, reviewer, options, "arecover()")
    return observed(await _adrive(session, lambda head: session.recover(allow_rerun)), caller)


def _continuing(
    run: Run, graph: Any, reviewer: Any, options: Mapping[str, Any], who: str
) -> _Session:
    """A session that appends to `run` on its own thread (with the run's context unless
    `options` give another: LangGraph keeps no context in checkpoints)."""
    given = {"expect_pending": run.expect_pending, "context": context_of(run), **options}
    return _Session(
        graph,
        None,
        reviewer,
        config=run.config,
        thread_id=run.thread_id,
        run=run,
        who=who,
        **with_defaults(given, RUN_DEFAULTS, who),
    )


def _on_thread(
    graph: Any,
    thread: str | Mapping[str, Any] | None,
    reviewer: Any,
    options: Mapping[str, Any],
    who: str,
) -> _Session:
    """A session answering what is pending on a named thread, with a new run record."""
    return _Session(
        graph,
        None,
        reviewer,
        **_named_thread(graph, thread),
        who=who,
        **with_defaults(options, RUN_DEFAULTS, who),
    )
