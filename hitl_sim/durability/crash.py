"""A process killed in the middle of a resume, and what a re-run finds.

`crash_during_resume` kills (SIGKILL) the process that is resuming while a tool runs, restarts,
and reports only what is known (`CrashReport`): what became of the reviewer's decision (kept,
kept with the next review pending, lost), which tool calls may have run without their result
being saved (at-least-once), whether the thread looks finished while work is left, and what a
re-run did.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from hitl_sim.durability.checkpointers import CheckpointStore
from hitl_sim.durability.ledger import Ledger
from hitl_sim.durability.restart import (
    Factory,
    _factory,
    _head_time,
    _Leg,
    _moved_on,
    _require_picklable,
    _run_leg,
    _target,
)
from hitl_sim.errors import InvalidArgument, ProcessFailed

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run


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
