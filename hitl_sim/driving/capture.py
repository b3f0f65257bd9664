"""Seeing what really ran, without touching the agent under test.

`Capture` is a LangChain callback handler the driver passes in the run config: it records every
tool execution (`on_tool_start` / `on_tool_end` / `on_tool_error`) and every chat-model request
(`on_chat_model_start` / `on_llm_end`). `Spy` wraps a plain Python function to record its calls as
side effects of the run that is active when it is called.

Tools run in worker threads, in parallel, so callbacks arrive in any order. Records are buffered
and published into the `Run` by `Recorder.flush()` after each invoke (each carries the resume it
happened in), in a deterministic order: graph-level task by task (parallel branches such as two
subagents one after the other, in the model's call order), and within a branch in the order
things started, parallel tools again in call order.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import GraphBubbleUp

from hitl_sim.run import POLICY_NOTES, ModelRequest, PolicyNotes, SideEffect, Step, ToolExecution

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.outputs import LLMResult

    from hitl_sim.run import Run

P = ParamSpec("P")
R = TypeVar("R")


def now() -> datetime:
    """The (possibly frozen) current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass
class _Open:
    """A callback run that started and has not been published yet."""

    kind: str
    at: datetime
    resume: int
    name: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)
    call_id: str | None = None
    agent: str | None = None
    messages: tuple[BaseMessage, ...] = ()
    tools: tuple[str, ...] = ()
    tool_choice: Any = None
    result: Any = None
    error: str | None = None
    response: AIMessage | None = None
    superstep: tuple[Any, ...] | None = None
    """Tools: (step, parent namespace) of the superstep they ran in, and `slot` their position
    in it (the call's index in the model's message): parallel tools are published in call order."""
    slot: int = 0
    namespace: str = ""
    """Tools: the task namespace they ran in ('tools:<task id>', nested ones joined by '|')."""
    branch: tuple[int, int] | None = None
    """(superstep, slot) of the graph-level task the record happened in, where known: the work
    of parallel branches (e.g. two subagents at once) is published branch by branch."""


class Recorder:
    """The run being recorded: which resume is in flight, and the records not yet published.

    Callbacks and spies fire from worker threads; records are buffered in the order they started
    and published into the `Run` by `flush()` after each invoke.
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        self.resume = 0
        self._lock = threading.Lock()
        self._open: dict[object, _Open] = {}
        self._order: list[object] = []
        self._turns = Counter(request.agent for request in run.model_requests)
        """Model turns published so far, per agent: a run continued by resume() or recover()
        counts on."""
        self._branches: dict[str, tuple[int, int]] = {}
        self.delegated: dict[str, str] = {}
        """Task namespace ('tools:<task id>') -> the subagent a deep agent's `task` tool ran
        there: how a raw interrupt raised inside a subagent is attributed."""
        self.policy_notes: PolicyNotes = {}
        """The calls a hitl-sim decision model classified (through `POLICY_NOTES`)."""
        self.raised: list[tuple[BaseException, str]] = []
        """Each exception a tool raised itself, with the tool's name: how a tool's own failure
        is told from a poisoned answer."""
        self.task_of: dict[int, str] = {}
        """Index in `run.executed` -> the top-level task the tool ran in ('<task id>')."""

    def start(self, key: object, record: _Open) -> None:
        with self._lock:
            self._open[key] = record
            self._order.append(key)

    def discard(self, key: object) -> None:
        """Forget a record: the tool paused at an interrupt and will run again on resume."""
        with self._lock:
            if self._open.pop(key, None) is not None:
                self._order.remove(key)

    def get(self, key: object) -> _Open | None:
        with self._lock:
            return self._open.get(key)

    def side_effect(self, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        record = _Open("side_effect", now(), self.resume, name, dict(kwargs))
        record.result = args
        record.branch = self.branch_of(_current_metadata())
        self.start(object(), record)

    def branch_of(self, metadata: Mapping[str, Any] | None) -> tuple[int, int] | None:
        """The graph-level task a callback's metadata points to (see `_Open.branch`)."""
        metadata = metadata or {}
        top, nested, _ = str(metadata.get("langgraph_checkpoint_ns") or "").partition("|")
        if nested:
            return self._branches.get(top)
        step = metadata.get("langgraph_step")
        if not isinstance(step, int):
            return None
        superstep, slot = _superstep(metadata)
        branch = (step, slot if superstep is not None else -1)
        with self._lock:
            self._branches[top] = branch
        return branch

    def flush(self) -> None:
        """Publish everything recorded since the last flush into the run: in start order,
        except that tools started together in one superstep (they run in parallel threads, in
        any order) are published in the order the model called them."""
        with self._lock:
            order, self._order = self._order, []
            records = [self._open.pop(key) for key in order]
        records = _by_branch(records)
        for key, group in groupby(records, key=lambda record: record.superstep):
            together = list(group)
            if key is not None:
                together.sort(key=lambda record: record.slot)
            for record in together:
                self._publish(record)

    def _publish(self, record: _Open) -> None:
        run = self.run
        if record.kind == "model_turn":
            self._turns[record.agent] += 1
            request = ModelRequest(
                self._turns[record.agent],
                record.agent,
                record.messages,
                record.tools,
                record.tool_choice,
                record.response,
                record.resume,
            )
            run.model_requests.append(request)
            run.steps.append(Step("model_turn", record.resume, request, record.at))
        elif record.kind == "side_effect":
            effect = SideEffect(record.name, record.result, record.args, record.resume)
            run.side_effects.append(effect)
            run.steps.append(Step("tool", record.resume, effect, record.at))
        else:
            execution = ToolExecution(
                record.name,
                record.args,
                record.call_id,
                record.result,
                record.error,
                record.resume,
                record.agent,
            )
            run.executed.append(execution)
            run.steps.append(Step("tool", record.resume, execution, record.at))
            task = record.namespace.partition("|")[0].partition(":")[2]
            if task:
                self.task_of[len(run.executed) - 1] = task


_ACTIVE: ContextVar[Recorder | None] = ContextVar("hitl_sim_active_run", default=None)


def _tool_names(params: Mapping[str, Any] | None) -> tuple[str, ...]:
    names: list[str] = []
    for bound in (params or {}).get("tools") or ():
        if isinstance(bound, str):
            names.append(bound)
        elif isinstance(bound, Mapping):
            function = bound.get("function")
            name = function.get("name") if isinstance(function, Mapping) else bound.get("name")
            names.append(str(name))
        else:
            names.append(str(getattr(bound, "name", bound)))
    return tuple(names)


def _agent(metadata: Mapping[str, Any] | None) -> str | None:
    name = (metadata or {}).get("lc_agent_name")
    return name if isinstance(name, str) else None


def _by_branch(records: list[_Open]) -> list[_Open]:
    """Stable-sort records by the graph-level task they happened in; a record with no branch
    of its own (a spy called outside any tool) stays with the record before it."""
    keyed: list[tuple[tuple[int, int], int, _Open]] = []
    last = (-1, -1)
    for index, record in enumerate(records):
        last = record.branch or last
        keyed.append((last, index, record))
    return [record for _, _, record in sorted(keyed, key=lambda item: (item[0], item[1]))]


def _current_metadata() -> Mapping[str, Any] | None:
    """The metadata of the LangChain run this code is called from (a spy inside a tool)."""
    from langchain_core.runnables.config import var_child_runnable_config

    config = var_child_runnable_config.get()
    metadata = config.get("metadata") if config else None
    return metadata if isinstance(metadata, Mapping) else None


def _superstep(metadata: Mapping[str, Any] | None) -> tuple[tuple[Any, ...] | None, int]:
    """Where a tool ran: its superstep (step number and enclosing namespace) and its slot there,
    for tools a ToolNode sent one per call (`langgraph_path == ('__pregel_push', index, ...)`)."""
    metadata = metadata or {}
    path: tuple[Any, ...] = tuple(metadata.get("langgraph_path") or ())
    if len(path) < 2 or path[0] != "__pregel_push" or not isinstance(path[1], int):
        return None, 0
    namespace = str(metadata.get("langgraph_checkpoint_ns") or "")
    enclosing = namespace.rpartition("|")[0]
    return (metadata.get("langgraph_step"), enclosing), path[1]


def _result(output: Any) -> Any:
    """A tool's result: the ToolMessage content when the tool ran as a tool call (or returned a
    `Command` updating messages, as deepagents' `task` tool does)."""
    update = getattr(output, "update", None)
    if isinstance(update, Mapping) and update.get("messages"):
        output = update["messages"][-1]
    content = getattr(output, "content", None)
    return output if content is None else content


class Capture(BaseCallbackHandler):
    """LangChain callbacks that record tool executions and model requests into a `Run`."""

    raise_error = True
    run_inline = True

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    # Only tool and chat-model events are recorded; LangChain skips the rest for this handler.
    @property
    def ignore_chain(self) -> bool:
        return True

    @property
    def ignore_retriever(self) -> bool:
        return True

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = (serialized or {}).get("name") or kwargs.get("name") or "?"
        args = dict(inputs) if isinstance(inputs, Mapping) else {"input": input_str}
        record = _Open("tool", now(), self.recorder.resume, str(name), args)
        record.call_id = kwargs.get("tool_call_id")
        record.agent = _agent(metadata)
        record.superstep, record.slot = _superstep(metadata)
        record.namespace = str((metadata or {}).get("langgraph_checkpoint_ns") or "")
        record.branch = self.recorder.branch_of(metadata)
        namespace = (metadata or {}).get("langgraph_checkpoint_ns")
        if name == "task" and isinstance(args.get("subagent_type"), str) and namespace:
            self.recorder.delegated[str(namespace)] = args["subagent_type"]
        self.recorder.start(run_id, record)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        record = self.recorder.get(run_id)
        if record is not None:
            record.result = _result(output)
            if record.call_id is None:
                record.call_id = getattr(output, "tool_call_id", None)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if isinstance(error, GraphBubbleUp):  # paused at an interrupt (a subagent's review)
            self.recorder.discard(run_id)
            return
        record = self.recorder.get(run_id)
        if record is not None:
            record.error = f"{type(error).__name__}: {error}"
            self.recorder.raised.append((error, record.name))

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        invocation_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        record = _Open("model_turn", now(), self.recorder.resume)
        record.messages = tuple(messages[0]) if messages else ()
        record.tools = _tool_names(invocation_params)
        record.tool_choice = (invocation_params or {}).get("tool_choice")
        record.agent = _agent(metadata)
        record.branch = self.recorder.branch_of(metadata)
        self.recorder.start(run_id, record)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        record = self.recorder.get(run_id)
        if record is not None and response.generations and response.generations[0]:
            message = getattr(response.generations[0][0], "message", None)
            record.response = cast("AIMessage | None", message)


@contextmanager
def recording(recorder: Recorder, watch: tuple[Spy[Any, Any], ...] = ()) -> Iterator[None]:
    """Make `recorder` the run that spies report to, in this context and for `watch`."""
    token = _ACTIVE.set(recorder)
    notes = POLICY_NOTES.set(recorder.policy_notes)
    for spy in watch:
        spy.attached = recorder
    try:
        yield
    finally:
        POLICY_NOTES.reset(notes)
        _ACTIVE.reset(token)
        for spy in watch:
            spy.attached = None


class Spy(Generic[P, R]):
    """Record every call of a plain Python function as a side effect of the active run.

    Wrap the function the agent's tools call (`send = Spy(send)`, or `@Spy` on it); each call lands
    in `run.side_effects` with the resume it happened in, and in `spy.calls` as well. Passing the
    spy in `simulate(..., watch=[spy])` also catches calls from threads that do not carry the
    run's context.
    """

    def __init__(self, fn: Callable[P, R], *, name: str | None = None) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", None) or repr(fn))
        self.calls: list[SideEffect] = []
        self.attached: Recorder | None = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        recorder = _ACTIVE.get() or self.attached
        resume = recorder.resume if recorder is not None else 0
        self.calls.append(SideEffect(self.name, tuple(args), dict(kwargs), resume))
        if recorder is not None:
            recorder.side_effect(self.name, tuple(args), kwargs)
        return self.fn(*args, **kwargs)

    def __get__(self, instance: object, owner: type | None = None) -> Callable[..., R]:
        """`@Spy` on a method: calls through an instance are recorded too (with `self`)."""
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Spy({self.name!r}, calls={len(self.calls)})"
