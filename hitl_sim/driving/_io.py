"""Performing the loop's graph operations: `_drive` with the sync graph API, `_adrive` with the
async one (invoke or stream, the frozen clock, tracing off, the timeline noted on errors)."""

from __future__ import annotations

import contextlib
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterator,
    Sequence,
)
from typing import TYPE_CHECKING, Any

from hitl_sim.driving._session import (
    STREAM_MODES,
    _Finished,
    _GetState,
    _Op,
    _Session,
    _UpdateState,
)
from hitl_sim.driving.capture import recording
from hitl_sim.errors import (
    HitlSimError,
)
from hitl_sim.run import (
    Run,
    StreamEvent,
)

if TYPE_CHECKING:
    from langgraph.types import StateSnapshot


def _note_timeline(error: BaseException, run: Run) -> None:
    redactor = run.redactor()
    if error.args and all(isinstance(arg, str) for arg in error.args):
        error.args = tuple(redactor.text(arg) for arg in error.args)
    if run.steps:
        from hitl_sim.timeline import render

        error.add_note(render(run))


@contextlib.contextmanager
def _tracing(enabled: bool) -> Iterator[None]:
    """LangSmith tracing off for the block (whatever LANGSMITH_TRACING says), unless enabled:
    a simulated run holds the test's secrets and must not send traces to a remote host."""
    if enabled:
        yield
        return
    from langchain_core.tracers.context import tracing_v2_callback_var
    from langsmith.run_helpers import tracing_context

    token = tracing_v2_callback_var.set(None)
    try:
        with tracing_context(enabled=False):
            yield
    finally:
        tracing_v2_callback_var.reset(token)


_Loop = Callable[["StateSnapshot"], Generator[_Op, Any, None]]


def _invoke_options(session: _Session, keys: Any) -> dict[str, Any]:
    return {"stream_mode": ["updates", "values"], "output_keys": keys, **session.run_options}


def _finished(chunks: Sequence[tuple[str, Any]]) -> _Finished | None:
    """The finished state an invoke's "updates"/"values" chunks show, or None when it paused
    (an `__interrupt__` update, empty for a static breakpoint) or its state is not a dict."""
    values = None
    for mode, payload in chunks:
        if mode == "updates" and isinstance(payload, dict) and "__interrupt__" in payload:
            return None
        if mode == "values":
            values = payload
    return _Finished(values) if isinstance(values, dict) else None


def _drive(session: _Session, loop_of: _Loop) -> Run:
    graph_state = session.graph.get_state(session.config)
    with (
        _tracing(session.trace),
        session.frozen_at(session.clock_from(graph_state)),
        recording(session.recorder, session.watch),
    ):
        loop = loop_of(graph_state)
        reply: Any = None
        try:
            while True:
                try:
                    op = loop.send(reply)
                except StopIteration:
                    break
                reply = _perform(session, op)
        except HitlSimError as error:
            session.recorder.flush()
            _note_timeline(error, session.run)
            raise
    return session.run


def _perform(session: _Session, op: _Op) -> Any:
    graph, config = session.graph, session.config
    if isinstance(op, _GetState):
        return graph.get_state(config)
    try:
        if isinstance(op, _UpdateState):
            graph.update_state(config, op.values)
        elif session.mode == "stream":
            for namespace, mode, data in graph.stream(
                op.payload, config, stream_mode=STREAM_MODES, subgraphs=True, **session.run_options
            ):
                session.run.stream_events.append(
                    StreamEvent(namespace, mode, data, session.recorder.resume)
                )
        else:
            keys = getattr(graph, "stream_channels_asis", None)
            if keys is None:
                graph.invoke(op.payload, config, **session.run_options)
            else:
                return _finished(graph.invoke(op.payload, config, **_invoke_options(session, keys)))
    except Exception as error:  # a graph error: kept in the run, never lost
        return error
    return None


async def _adrive(session: _Session, loop_of: _Loop) -> Run:
    graph_state = await session.graph.aget_state(session.config)
    with (
        _tracing(session.trace),
        session.frozen_at(session.clock_from(graph_state), real_asyncio=True),
        recording(session.recorder, session.watch),
    ):
        loop = loop_of(graph_state)
        reply: Any = None
        try:
            while True:
                try:
                    op = loop.send(reply)
                except StopIteration:
                    break
                reply = await _aperform(session, op)
        except HitlSimError as error:
            session.recorder.flush()
            _note_timeline(error, session.run)
            raise
    return session.run


async def _aperform(session: _Session, op: _Op) -> Any:
    graph, config = session.graph, session.config
    if isinstance(op, _GetState):
        return await graph.aget_state(config)
    try:
        if isinstance(op, _UpdateState):
            await graph.aupdate_state(config, op.values)
        elif session.mode == "stream":
            events: AsyncIterator[Any] = graph.astream(
                op.payload, config, stream_mode=STREAM_MODES, subgraphs=True, **session.run_options
            )
            async for namespace, mode, data in events:
                session.run.stream_events.append(
                    StreamEvent(namespace, mode, data, session.recorder.resume)
                )
        else:
            keys = getattr(graph, "stream_channels_asis", None)
            if keys is None:
                await graph.ainvoke(op.payload, config, **session.run_options)
            else:
                return _finished(
                    await graph.ainvoke(op.payload, config, **_invoke_options(session, keys))
                )
    except Exception as error:  # a graph error: kept in the run, never lost
        return error
    return None
