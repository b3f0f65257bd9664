"""Restarts between interrupt and resume: new objects, new processes, and crashes.

Approvals take hours and processes restart in between. `simulate_with_restarts` runs a graph
the way production does:

- `restart="between-resumes"`: after each interrupt the graph AND the checkpointer object are
  thrown away and built anew by `factory(checkpointer)` on the same store, then resumed.
- `restart="process"`: the first pause is reached in this process and every resume happens in a
  NEW Python process (`factory` given as an importable `module:function`), on a SQLite file or a
  PostgreSQL schema. The run record continues across processes.

`crash_during_resume` kills (SIGKILL) the process that is resuming while a tool runs, restarts,
and reports only what is known: what became of the reviewer's decision (kept, kept with the
next review pending, lost), which tool calls may have run without their result being saved
(at-least-once), whether the thread looks finished while work is left, and what a re-run did.
A `Ledger` is an append-only file the tools write, so side effects are counted across processes.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hitl_sim.driving.api import DEFAULT_START
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


# ---------------------------------------------------------------- side effects across processes


class Ledger:
    """An append-only file of side effects, shared by every process that writes it.

    Tools call `ledger.record("send_email", to=...)`; tests read `names()` / `entries()` to see
    what really ran, and `repeated()` for what ran more than once, across restarts and crashes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def record(self, name: str, **data: Any) -> None:
        """Append one entry: one `write` of one line, synced, so lines never interleave.

        A tool that records `tool_call_id=` (LangChain's `InjectedToolCallId`) lets a
        `CrashReport` tell which tool calls started without their result being saved."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            self._append(fd, name, data)
        finally:
            os.close(fd)

    def record_once(self, key: str, name: str, /, **data: Any) -> bool:
        """Record the entry unless one with this idempotency `key` is already in the ledger
        (stored as `idempotency_key`).

        Returns whether it was recorded. The ledger plays an external system that honours an
        idempotency key (a payment API, a mail service keyed by message id): key the effect by
        the tool call's `tool_call_id`, which LangGraph keeps when it re-runs the tool after a
        crash, and the second run of the tool does not repeat the effect. The check and the
        write happen under one file lock, so two processes cannot both record the key.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if any(entry.get("idempotency_key") == key for entry in self.entries()):
                return False
            self._append(fd, name, {**data, "idempotency_key": key})
            return True
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def _append(fd: int, name: str, data: Mapping[str, Any]) -> None:
        line = json.dumps({"name": name, **data, "pid": os.getpid()}, sort_keys=True) + "\n"
        os.write(fd, line.encode())
        os.fsync(fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first (none while the file does not exist)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def names(self) -> list[str]:
        return [entry["name"] for entry in self.entries()]

    def repeated(self) -> list[str]:
        """Entries (name and data, any process) recorded more than once, as `name(data) xN`."""
        keys = Counter(_without_pid(entry) for entry in self.entries())
        return [f"{key} x{count}" for key, count in keys.items() if count > 1]


def _without_pid(entry: Mapping[str, Any]) -> str:
    data = ", ".join(f"{k}={v!r}" for k, v in sorted(entry.items()) if k not in ("name", "pid"))
    return f"{entry['name']}({data})"


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
    from hitl_sim.driving.api import _drive, _Session, _session_options

    store = CheckpointStore.from_spec(leg.store)
    with store.open() as saver:
        graph = _factory(leg.target)(saver, **leg.factory_kwargs)
        moved = _moved_on(leg.options, _head_time(saver, leg.run.thread_id))
        options = {**_session_options(moved), "expect_pending": True}
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
        [sys.executable, "-m", "hitl_sim.durability.restart", str(job), str(out)],
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


# ---------------------------------------------------------------- crash while a tool runs


DecisionVerdict = Literal["kept", "kept; next review pending", "lost"]
"""What became of the reviewer's answer sent by the killed process (see `CrashReport.decision`)."""
Rerun = Literal[
    "invoke(None)",
    "invoke(None), then answered the next review",
    "answered again",
    "answered the next review",
]

_DECISION_TEXT: dict[str, str] = {
    "kept": "kept on the thread: the re-run did not ask again",
    "kept; next review pending": (
        "kept; next review pending: the thread moved past it and waits on a later review"
    ),
    "lost": "lost with the process: the same review was pending again and was asked again",
}


@dataclass(frozen=True)
class CrashReport:
    """What a SIGKILL in the middle of a resume left behind, and what a re-run did.

    It states only what is known: which tool calls may have run without their result being
    saved (`unsaved_tool_calls`), whether the thread looks finished while work is left
    (`looks_finished_but_is_not`), and what became of the reviewer's decision (`decision`).
    """

    checkpointer: str
    thread_id: str
    killed_at: str
    """The ledger entry the killed process had just written (the tool was running)."""
    effects_at_kill: tuple[str, ...]
    next_after_restart: tuple[str, ...]
    """`get_state().next` seen by a new process after the kill."""
    interrupts_after_restart: tuple[PendingInterrupt, ...]
    decision: DecisionVerdict
    """`"kept"`: nothing asks again (the answer is in a checkpoint or a saved write);
    `"kept; next review pending"`: the pending interrupt is a later review, not the answered
    one; `"lost"`: the very interrupt that was answered is pending again, with no saved answer."""
    rerun: Rerun
    """How the thread was continued after the restart."""
    effects_after_rerun: tuple[str, ...]
    ran_again: tuple[str, ...]
    """Ledger entries recorded more than once (`repeated()`): side effects executed twice."""
    finished: bool
    unsaved_tool_calls: tuple[str, ...] | None = None
    """Tool calls the killed process started (its ledger entries with a `tool_call_id`) that
    have no result (no ToolMessage with that id) on the thread after the restart: they may have
    run without their result being saved, so continuing the thread runs them again
    (at-least-once). None when the ledger entries carry no `tool_call_id` (cannot tell)."""
    work_left: tuple[str, ...] = ()
    """What the thread's saved state shows is left: tool calls (in its messages, or reviewed
    before the kill) with no result, and tasks whose saved writes no checkpoint follows."""
    rerun_error: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def decision_kept(self) -> bool:
        """The reviewer's answer survived the kill (`decision` is not "lost")."""
        return self.decision != "lost"

    @property
    def looks_finished(self) -> bool:
        """After the kill `get_state()` showed `next == ()` and nothing pending."""
        return not self.next_after_restart and not self.interrupts_after_restart

    @property
    def looks_finished_but_is_not(self) -> bool:
        """The thread looked finished after the kill although tool calls had no result."""
        return self.looks_finished and bool(self.work_left)

    @property
    def executed_twice(self) -> bool:
        return bool(self.ran_again)

    def __str__(self) -> str:
        asked = [
            action.describe() for p in self.interrupts_after_restart for action in p.actions
        ] or [p.kind for p in self.interrupts_after_restart]
        if self.unsaved_tool_calls is None:
            unsaved = "unknown (the ledger entries carry no tool_call_id)"
        else:
            unsaved = str(list(self.unsaved_tool_calls) or "none")
        lines = [
            f"Crash report ({self.checkpointer}, thread {self.thread_id!r}):",
            f"  killed while: {self.killed_at} (effects so far: {list(self.effects_at_kill)})",
            f"  after restart: next={self.next_after_restart!r}, interrupts pending: {asked}",
            f"  the reviewer's decision was {_DECISION_TEXT[self.decision]}",
            f"  may have run without their result being saved (at-least-once): {unsaved}",
        ]
        if self.looks_finished_but_is_not:
            lines.append(
                "  looks finished but is not: next=() and nothing pending, yet "
                + "; ".join(self.work_left)
            )
        lines += [
            f"  re-run by {self.rerun}: effects now {list(self.effects_after_rerun)}",
            f"  executed twice: {list(self.ran_again) or 'nothing'}",
            f"  thread finished: {self.finished}"
            + (f" (re-run error: {self.rerun_error})" if self.rerun_error else ""),
        ]
        return "\n".join([*lines, *(f"  note: {note}" for note in self.notes)])


def crash_during_resume(
    factory: Factory | str,
    input: Any,
    reviewer: Any,
    *,
    ledger: Ledger | str | os.PathLike[str],
    when: str,
    checkpointer: CheckpointStore,
    factory_kwargs: Mapping[str, Any] | None = None,
    rerun_kwargs: Mapping[str, Any] | None = None,
    timeout: float = 60.0,
    kill_after: float = 0.0,
    after_kill: Callable[[CheckpointStore, str], None] | None = None,
    **options: Any,
) -> CrashReport:
    """Pause, resume in a new process, SIGKILL it as soon as it writes the ledger entry `when`
    (a tool that records its start, then works), then restart here and continue the thread.

    `kill_after` waits that many seconds after `when` before the kill (a resume process that
    exits first is an `InvalidArgument`: there was no crash). The re-run builds the graph with
    `rerun_kwargs` (default: `factory_kwargs`), so a slow tool can be fast the second time. It
    continues by `invoke(None)` when the decision was kept, answers the next review when that
    is pending (the reviewer as it was after the killed process's answers), and asks again
    when the decision was lost. `after_kill(store, thread_id)` is called after the kill and
    before anything reads the thread (to copy the store, say). Returns a `CrashReport`; raises
    only for harness problems.
    """
    from hitl_sim.driving.api import resume, simulate
    from hitl_sim.interrupts import pending_in
    from hitl_sim.reviewing.reviewer import as_responder

    if checkpointer.kind == "memory":
        checkpointer.spec()  # raises: a memory store cannot be reached from another process
    log = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    target, kwargs = _target(factory), dict(factory_kwargs or {})
    responder = as_responder(reviewer)
    _require_picklable(responder, reviewer)
    with checkpointer.open() as saver:
        run = simulate(
            _factory(target)(saver, **kwargs), input, None, expect_pending=True, **options
        )
    if not run.pending:
        raise InvalidArgument(
            f"crash_during_resume: the run on thread {run.thread_id!r} never paused "
            f"(status {run.status!r}), so there is no resume to crash."
        )
    answered = tuple(run.pending)
    keep = pickle.loads(pickle.dumps(responder))  # the reviewer as it was before the crash
    options.pop("thread_id", None)
    options.pop("config", None)
    leg = _Leg(target, kwargs, checkpointer.spec(), run, responder, options)
    killer = _Killer(log, when, timeout, kill_after)
    try:
        _run_leg(leg, on_start=killer)
    except ProcessFailed:
        if not killer.fired:
            raise
    if not killer.fired:
        raise InvalidArgument(
            f"crash_during_resume: the resume on thread {run.thread_id!r} ended without "
            f"being killed: it wrote no {when!r} to {log!r}, or exited within "
            f"kill_after={kill_after} s of it; entries: {log.names()}. Name an entry the tool "
            "writes before its slow part."
        )
    if after_kill is not None:
        after_kill(checkpointer, run.thread_id)
    at_kill = tuple(log.names())
    started = [e for e in log.entries() if e["pid"] == killer.pid and "tool_call_id" in e]
    config = {"configurable": {"thread_id": run.thread_id}}
    rerun_with = dict(rerun_kwargs if rerun_kwargs is not None else kwargs)
    with checkpointer.open() as saver:
        graph = _factory(target)(saver, **rerun_with)
        state = graph.get_state(config)
        interrupts = tuple(p for p in pending_in(state) if p.kind != "breakpoint")
        decision = _decision(answered, interrupts, _saved_resume(saver, config))
        results = _results(state)
        unsaved = (
            tuple(sorted({_call_text(e) for e in started if e["tool_call_id"] not in results}))
            if started
            else None
        )
        work_left = _work_left(state, answered, results)
        error: str | None = None
        how: Rerun
        later = _moved_on(options, _head_time(saver, run.thread_id)).get("clock")
        if decision == "kept":  # nothing asks: continue what the crashed step left
            how = "invoke(None)"
            try:
                with _frozen(later):
                    graph.invoke(None, config)
            except Exception as raised:
                error = f"{type(raised).__name__}: {raised}"
            if error is None and pending_in(graph.get_state(config)):  # a later review
                how = "invoke(None), then answered the next review"
                later = _moved_on(options, _head_time(saver, run.thread_id)).get("clock")
                rerun = resume(
                    graph,
                    run.thread_id,
                    _after_answering(keep, answered, run),
                    expect_pending=True,
                    **{**options, "clock": later},
                )
                error = rerun.error.message if rerun.error else None
        else:
            how = "answered again" if decision == "lost" else "answered the next review"
            answers = keep if decision == "lost" else _after_answering(keep, answered, run)
            rerun = resume(
                graph, run.thread_id, answers, expect_pending=True, **{**options, "clock": later}
            )
            error = rerun.error.message if rerun.error else None
        after = graph.get_state(config)
    return CrashReport(
        checkpointer=checkpointer.kind,
        thread_id=run.thread_id,
        killed_at=when,
        effects_at_kill=at_kill,
        next_after_restart=tuple(state.next),
        interrupts_after_restart=interrupts,
        decision=decision,
        rerun=how,
        effects_after_rerun=tuple(log.names()),
        ran_again=tuple(log.repeated()),
        finished=not after.next and not after.interrupts,
        unsaved_tool_calls=unsaved,
        work_left=work_left,
        rerun_error=error,
        notes=_notes(state, interrupts, at_kill, tuple(log.names())),
    )


def _decision(
    answered: tuple[PendingInterrupt, ...],
    pending: tuple[PendingInterrupt, ...],
    resume_saved: bool,
) -> DecisionVerdict:
    """Kept, unless the very interrupt that was answered is pending again with no saved answer.

    A pending interrupt is the same review when it has the same LangGraph interrupt id (ids
    come from the task's namespace, so a later review has a new one).
    """
    if not pending:
        return "kept"
    ids = {p.id for p in answered}
    if any(p.id in ids for p in pending):
        return "kept" if resume_saved else "lost"
    return "kept; next review pending"


def _saved_resume(saver: Any, config: Mapping[str, Any]) -> bool:
    """Whether the head checkpoint holds a saved resume write (the answer got there first)."""
    saved = saver.get_tuple(config)
    resume = "__resume__"  # langgraph's RESUME channel (langgraph._internal._constants)
    return saved is not None and any(w[1] == resume for w in saved.pending_writes or ())


def _after_answering(keep: Any, answered: tuple[PendingInterrupt, ...], run: Run) -> Any:
    """The reviewer as it was after the killed process answered `answered` (its next answers)."""
    later = pickle.loads(pickle.dumps(keep))
    for interrupt in answered:
        later.decide(interrupt, run)
    return later


def _messages(state: Any) -> list[Any]:
    values = state.values if isinstance(state.values, Mapping) else {}
    return list(values.get("messages") or ())


def _results(state: Any) -> set[str]:
    """The tool_call_ids that have a result (a ToolMessage) on the thread."""
    return {m.tool_call_id for m in _messages(state) if getattr(m, "type", None) == "tool"}


def _call_text(entry: Mapping[str, Any]) -> str:
    """A ledger entry as the tool call it belongs to: `delete_file(path='/srv/a') [t1_delete]`."""
    name = str(entry["name"]).split(":")[0]
    data = ", ".join(
        f"{k}={v!r}" for k, v in sorted(entry.items()) if k not in ("name", "pid", "tool_call_id")
    )
    return f"{name}({data}) [{entry['tool_call_id']}]"


def _work_left(
    state: Any, answered: tuple[PendingInterrupt, ...], results: set[str]
) -> tuple[str, ...]:
    """What is left to do on the thread, as far as its saved state tells: tool calls (in its AI
    messages, or reviewed before the kill) with no result, and tasks whose writes were saved
    but never applied (a finished thread's last checkpoint has no tasks at all)."""
    calls = {
        call["id"]: f"{call['name']} [{call['id']}]"
        for m in _messages(state)
        for call in getattr(m, "tool_calls", None) or ()
        if call.get("id")
    }
    reviewed = [action for p in answered for action in p.actions if action.tool_call_id]
    for action in reviewed:
        calls.setdefault(str(action.tool_call_id), f"{action.name} [{action.tool_call_id}]")
    left = [f"no result for {text}" for key, text in calls.items() if key not in results]
    if state.tasks and not state.next:
        names = ", ".join(task.name for task in state.tasks)
        left.append(f"the tasks {names} saved their writes but no checkpoint follows them")
    return tuple(left)


def _notes(
    state: Any, interrupts: tuple[Any, ...], at_kill: tuple[str, ...], after: tuple[str, ...]
) -> tuple[str, ...]:
    notes = []
    if not state.next and not interrupts and after != at_kill:
        notes.append(
            "get_state() showed the thread as finished (next=(), nothing pending), yet the "
            "crashed step's saved writes made invoke(None) run more: a finished-looking thread "
            "is not proof that nothing is left."
        )
    return tuple(notes)


@contextmanager
def _frozen(at: Any) -> Iterator[None]:
    if not isinstance(at, datetime):
        yield
        return
    from freezegun import freeze_time

    with freeze_time(at):
        yield


class _Killer:
    """SIGKILLs the resume process as soon as it has written the ledger entry `when`."""

    def __init__(self, log: Ledger, when: str, timeout: float, after: float = 0.0) -> None:
        self.log, self.when, self.timeout, self.after = log, when, timeout, after
        self.fired = False
        self.pid: int | None = None

    def __call__(self, child: subprocess.Popen[bytes]) -> None:
        self.pid = child.pid
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and child.poll() is None:
            entries = self.log.entries()
            if any(e["name"] == self.when and e["pid"] == child.pid for e in entries):
                until = time.monotonic() + self.after
                while time.monotonic() < until and child.poll() is None:
                    time.sleep(0.01)
                if child.poll() is not None:
                    return  # it exited first: no crash
                child.send_signal(signal.SIGKILL)
                self.fired = True
                return
            time.sleep(0.02)
        if child.poll() is None:
            child.kill()
            raise ProcessFailed(
                f"crash_during_resume: no {self.when!r} entry in {self.log!r} within "
                f"{self.timeout} s; entries: {self.log.names()}. The resume process was killed."
            )


if __name__ == "__main__":  # a resume process: python -m hitl_sim.durability.restart JOB OUT
    from hitl_sim.durability.restart import (
        _child_main as main,  # the importable module, not __main__
    )

    main(*sys.argv[1:3])
