"""Restarts between interrupt and resume: new objects, new processes, and crashes.

Approvals take hours and processes restart in between. `simulate_with_restarts` runs a graph
the way production does:

- `restart="between-resumes"`: after each interrupt the graph AND the checkpointer object are
  thrown away and built anew by `factory(checkpointer)` on the same store, then resumed.
- `restart="process"`: the first pause is reached in this process and every resume happens in a
  NEW Python process (`factory` given as an importable `module:function`), on a SQLite file or a
  PostgreSQL schema. The run record continues across processes.

A crash in the middle of a resume is `hitl_sim.durability.crash`; side effects counted across
processes are `hitl_sim.durability.ledger`.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hitl_sim.driving.options import DEFAULT_START, RUN_DEFAULTS, with_defaults
from hitl_sim.durability.checkpointers import CheckpointerKind, CheckpointStore, checkpoint_store
from hitl_sim.errors import HitlSimError, InvalidArgument, ProcessFailed

if TYPE_CHECKING:
    from hitl_sim.decisions import Decision
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run

RestartMode = Literal["between-resumes", "process"]
RESTART_MODES: tuple[RestartMode, ...] = ("between-resumes", "process")
RESTART_GAP = timedelta(seconds=1)
UUID_EPOCH = datetime(1582, 10, 15, tzinfo=UTC)
"""How far a frozen clock moves on when a new process takes over the thread."""
Factory = Callable[..., Any]
"""`factory(checkpointer, **factory_kwargs) -> compiled graph`."""


# ---------------------------------------------------------------- simulate with restarts


def simulate_with_restarts(
    factory: Factory | str,
    input: Any,
    reviewer: Any = None,
    *,
    checkpointer: CheckpointerKind | CheckpointStore = "sqlite",
    restart: RestartMode = "between-resumes",
    factory_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> Run:
    """`simulate()`, restarting between the interrupt and every resume (see the module doc).

    `factory(checkpointer, **factory_kwargs)` builds the compiled graph on the checkpointer it
    is given; build the model so that it continues from the conversation (a `FunctionChatModel`),
    or create a `ScriptedChatModel` once outside the factory (in-process restarts only).
    `checkpointer` is a kind ("memory", "sqlite", "postgres": a fresh store, removed at the end)
    or a `CheckpointStore` you opened. A "memory" store carries the same InMemorySaver tables
    over to the new object: it proves the graph object can be rebuilt, not that state survives
    a process. `options` are `simulate()`'s keyword options.
    """
    if restart not in RESTART_MODES:
        raise InvalidArgument(
            f"restart={restart!r} is not a restart mode. Expected one of: "
            f"{', '.join(map(repr, RESTART_MODES))}."
        )
    kwargs = dict(factory_kwargs or {})
    with _store(checkpointer) as store:
        if restart == "process":
            return _simulate_in_processes(factory, kwargs, store, input, reviewer, options)
        make = _factory(factory)
        savers = ExitStack()

        def rebuild() -> Any:
            savers.close()  # the old checkpointer object (and its connection) is gone
            return make(savers.enter_context(store.open()), **kwargs)

        from hitl_sim.driving.api import simulate

        with savers:
            return simulate(
                make(savers.enter_context(store.open()), **kwargs),
                input,
                reviewer,
                rebuild=rebuild,
                **options,
            )


@contextmanager
def _store(checkpointer: CheckpointerKind | CheckpointStore) -> Iterator[CheckpointStore]:
    if isinstance(checkpointer, CheckpointStore):
        yield checkpointer
    else:
        with checkpoint_store(checkpointer) as store:
            yield store


def _factory(factory: Factory | str) -> Factory:
    if callable(factory):
        return factory
    module, _, name = str(factory).partition(":")
    try:
        found: Any = getattr(importlib.import_module(module), name) if name else None
    except (ImportError, AttributeError) as error:
        found, reason = None, f" ({type(error).__name__}: {error})"
    else:
        reason = ""
    if not callable(found):
        raise InvalidArgument(
            f"factory={factory!r} does not name a function{reason}. Expected 'module:function', "
            "importable from a new process, e.g. 'tests.agents:build_agent'."
        )
    made: Factory = found
    return made


def _target(factory: Factory | str) -> str:
    """`factory` as 'module:function', checked to be importable by another process."""
    if isinstance(factory, str):
        _factory(factory)
        return factory
    module, name = getattr(factory, "__module__", None), getattr(factory, "__qualname__", "")
    target = f"{module}:{name}"
    if module in (None, "__main__") or "<" in name or "." in name:
        raise InvalidArgument(
            f"restart='process' needs a factory another process can import; {factory!r} is "
            f"{target!r}. Define it at the top level of an importable module and pass it (or "
            "'module:function')."
        )
    return target


# ---------------------------------------------------------------- one resume per process


@dataclass
class _Leg:
    """What one process gets: where the graph and the thread are, and what answers."""

    target: str
    factory_kwargs: dict[str, Any]
    store: str
    run: Run
    responder: Any
    options: dict[str, Any]


class _OneRound:
    """Answers until this process has sent one resume, then leaves the rest pending."""

    def __init__(self, inner: Any, run: Run) -> None:
        self.inner = inner
        self.before = _resumes(run)

    def decide(self, interrupt: PendingInterrupt, run: Run) -> Sequence[Decision] | None:
        if _resumes(run) > self.before:
            return None
        decided: Sequence[Decision] | None = self.inner.decide(interrupt, run)
        return decided

    def unused(self) -> list[Decision]:
        left: list[Decision] = self.inner.unused()
        return left


def _resumes(run: Run) -> int:
    return sum(step.kind == "resume" for step in run.steps)


def _continue(leg: _Leg) -> tuple[Run, Any]:
    """In this process: open the store, build the graph, answer one round, return the record."""
    from hitl_sim.driving._io import _drive
    from hitl_sim.driving._session import _Session

    store = CheckpointStore.from_spec(leg.store)
    with store.open() as saver:
        graph = _factory(leg.target)(saver, **leg.factory_kwargs)
        moved = _moved_on(leg.options, _head_time(saver, leg.run.thread_id))
        options = {**with_defaults(moved, RUN_DEFAULTS, "a resume process"), "expect_pending": True}
        session = _Session(
            graph,
            None,
            _OneRound(leg.responder, leg.run),
            config=leg.run.config,
            thread_id=leg.run.thread_id,
            run=leg.run,
            **options,
        )
        return _drive(session, session.loop), leg.responder


def _simulate_in_processes(
    factory: Factory | str,
    kwargs: dict[str, Any],
    store: CheckpointStore,
    input: Any,
    reviewer: Any,
    options: dict[str, Any],
) -> Run:
    from hitl_sim.driving.api import simulate
    from hitl_sim.reviewing.reviewer import as_responder

    target, spec = _target(factory), store.spec()
    expect_pending = bool(options.pop("expect_pending", False))
    responder = as_responder(reviewer)
    _require_picklable(responder, reviewer)
    with store.open() as saver:
        run = simulate(
            _factory(target)(saver, **kwargs), input, None, expect_pending=True, **options
        )
    options.pop("thread_id", None)
    options.pop("config", None)
    while run.pending and run.error is None:
        resumes = _resumes(run)
        leg = _Leg(target, kwargs, spec, run, responder, options)
        run, responder = _run_leg(leg)
        if _resumes(run) == resumes:  # the reviewer left it pending
            break
    run.expect_pending = expect_pending
    run.unused_decisions = list(responder.unused())
    return run


def _head_time(saver: Any, thread_id: str) -> datetime | None:
    """When the newest checkpoint of the thread (any namespace) was written, read from its id."""
    newest = next(iter(saver.list({"configurable": {"thread_id": thread_id}}, limit=1)), None)
    if newest is None:
        return None
    bits = uuid.UUID(newest.config["configurable"]["checkpoint_id"]).int
    ticks = ((bits >> 96) << 28) | (((bits >> 80) & 0xFFFF) << 12) | ((bits >> 64) & 0x0FFF)
    return UUID_EPOCH + timedelta(microseconds=ticks // 10)


def clock_for_resume(
    checkpointer: Any, thread_id: str, clock: datetime | str | bool | None = DEFAULT_START
) -> datetime | str | bool | None:
    """The `clock=` for `simulate`/`resume` when THIS process takes over a thread that another
    process wrote: `clock`, moved past the thread's newest checkpoint (see `_moved_on`).

        resume(agent, thread_id, reviewer, clock=clock_for_resume(saver, thread_id))
    """
    moved: datetime | str | bool | None = _moved_on(
        {"clock": clock}, _head_time(checkpointer, thread_id)
    )["clock"]
    return moved


def _moved_on(options: dict[str, Any], head: datetime | None) -> dict[str, Any]:
    """The clock for a new process taking over a thread: past the thread's newest checkpoint.

    LangGraph's checkpoint ids are uuid6 of the current time, kept increasing only inside one
    process. A new process whose clock is not past the newest id on the thread (frozen at the
    same instant, or behind a process whose ids ran ahead) writes SMALLER ids, and the thread's
    head silently falls back to an old checkpoint. So the clock moves on by `RESTART_GAP`.
    """
    if head is None:
        return options
    floor = head + RESTART_GAP
    clock = options.get("clock", DEFAULT_START)
    if clock is None or clock is False:
        return options if floor <= datetime.now(UTC) else {**options, "clock": floor}
    start = DEFAULT_START if clock is True else clock
    start = datetime.fromisoformat(start) if isinstance(start, str) else start
    start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    return {**options, "clock": max(start, floor)}


def _require_picklable(responder: Any, reviewer: Any) -> None:
    try:
        pickle.dumps(responder)
    except Exception as error:
        raise InvalidArgument(
            f"restart='process' sends the reviewer to each new process, but reviewer={reviewer!r} "
            f"cannot be pickled ({type(error).__name__}: {error}). Use a list of decisions, a "
            "Reviewer(...) of them, or a top-level function."
        ) from error


def _run_leg(
    leg: _Leg, *, on_start: Callable[[subprocess.Popen[bytes]], None] | None = None
) -> tuple[Run, Any]:
    with tempfile.TemporaryDirectory(prefix="hitl-sim-leg-") as folder:
        job, out = Path(folder) / "job.pickle", Path(folder) / "out.pickle"
        job.write_bytes(pickle.dumps(leg))
        child = _spawn(job, out)
        if on_start is not None:
            on_start(child)
        _, stderr = child.communicate()
        if out.exists():
            result = pickle.loads(out.read_bytes())
            if isinstance(result, BaseException):
                raise result
            run, responder = result
            return run, responder
        raise ProcessFailed(
            f"The resume process for thread {leg.run.thread_id!r} (factory {leg.target!r}) exited "
            f"with code {child.returncode} without a result.\n"
            f"Its stderr ended with:\n{_tail(stderr)}"
        )


def _spawn(job: Path, out: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    paths = [entry for entry in sys.path if entry and Path(entry).is_dir()]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.Popen(
        [sys.executable, "-m", "hitl_sim.durability.resume_process", str(job), str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def _tail(stderr: bytes | None, lines: int = 15) -> str:
    text = (stderr or b"").decode(errors="replace").strip().splitlines()
    return "\n".join(text[-lines:]) or "(nothing)"


def _child_main(job: str, out: str) -> None:
    leg: _Leg = pickle.loads(Path(job).read_bytes())
    try:
        result: Any = _continue(leg)
    except HitlSimError as error:
        result = error
    Path(out).write_bytes(pickle.dumps(result))


# ---------------------------------------------------------------- comparing outcomes


def outcome(run: Run) -> dict[str, Any]:
    """What a restart must not change: the tools executed in each resume (name, args; sorted,
    since tools of one step run in parallel) and the final messages (type, text, tool calls,
    tool results), without ids."""
    executed = sorted((e.resume, e.name, json.dumps(e.args, sort_keys=True)) for e in run.executed)
    return {
        "executed": [(resume, name, json.loads(args)) for resume, name, args in executed],
        "messages": [_message(m) for m in run.messages],
        "status": run.status,
    }


def _message(message: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": message.type, "content": message.content}
    calls = getattr(message, "tool_calls", None)
    if calls:
        shown["tool_calls"] = [(c["name"], c["args"]) for c in calls]
    if message.type == "tool":
        shown["name"], shown["status"] = message.name, message.status
    return shown


def outcome_differences(baseline: Run, restarted: Run) -> list[str]:
    """How `restarted` ended differently from the uninterrupted `baseline` (empty: the same)."""
    want, got = outcome(baseline), outcome(restarted)
    return [
        f"{key}: uninterrupted {want[key]!r}\n       restarted     {got[key]!r}"
        for key in want
        if want[key] != got[key]
    ]
