"""The app's own resume path: the graph as the application sees it, every call recorded.

Apps that collect the human's answer themselves (a chat box that doubles as the approval field,
an HTTP endpoint, a CLI loop) also build the next graph call themselves, and a bug there (the
reply sent as new input, starting a new run and dropping the review; the wrong thread resumed)
never shows while hitl-sim sends its own correct `Command(resume=...)`. Hand the app an
`AppTap(graph)` instead of the graph: each `invoke` / `get_state` is delegated to the real graph,
and recorded into a real `Run` per thread (model turns and tool executions through hitl-sim's
callback handler, interrupts, the decisions read from the app's resume value, resumes), so
`run.check()` works on what the app actually did. `tap.violations()` adds the thread-hygiene
checks on what the app sent:

- ``input_while_pending``: new input sent to a thread with an interrupt pending (the review is
  dropped: the gated call never runs);
- ``resume_nothing_pending``: `Command(resume=...)` sent to a thread with nothing pending (an
  unknown thread, a finished one, a stale or repeated decision);
- ``resume_wrong_shape``: a resume value the middleware cannot take for what is pending;
- ``concurrent_resumes``: a second resume of a thread while the first was still running;
- ``resumed_other_thread`` / ``decision_not_applied``: while `tap.expecting(thread)` (what an
  HTTP reviewer uses around its POST), the app resumed another thread, or none.

`with AppTap(graph) as tap:` freezes the clock (2030-01-01T09:00Z unless `clock=`) for the block,
as `simulate()` does; `tap.advance(timedelta)` moves it on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hitl_sim import ThreadError, Violation
from hitl_sim.decisions import unchecked
from hitl_sim.driving.capture import Capture, Recorder, recording
from hitl_sim.driving.options import DEFAULT_START
from hitl_sim.errors import InvalidArgument
from hitl_sim.frontends.answers import read_answers
from hitl_sim.frontends.findings import raise_found
from hitl_sim.interrupts import PendingInterrupt, pending_in
from hitl_sim.normalise import Redactor
from hitl_sim.run import DecisionRecord, ResumeRecord, Run, RunError, Step


@dataclass(frozen=True)
class Sent:
    """One graph call the app made."""

    thread_id: str | None
    kind: str
    """'input' (new input), 'resume' (`Command(resume=...)`), 'continue' (`invoke(None)`)."""
    value: Any
    """What it sent (the resume value for a resume), secrets masked."""
    pending: tuple[str, ...]
    """Labels of the interrupts pending on the thread when it was sent."""
    at: datetime


def _thread_of(config: Any) -> str | None:
    if not isinstance(config, Mapping):
        return None
    found = (config.get("configurable") or {}).get("thread_id")
    return None if found is None else str(found)


def _with_call_ids(interrupt: PendingInterrupt, values: Any) -> PendingInterrupt:
    """Batched action requests carry no call id: take it from the AIMessage that made them."""
    if interrupt.kind != "batched" or not isinstance(values, Mapping):
        return interrupt
    for message in reversed(list(values.get("messages") or ())):
        calls = list(getattr(message, "tool_calls", None) or ())
        if not calls:
            continue
        actions = []
        for action in interrupt.actions:
            match = next(
                (c for c in calls if c["name"] == action.name and c["args"] == action.args), None
            )
            if match is None:
                return interrupt
            calls.remove(match)
            actions.append(dataclasses.replace(action, tool_call_id=match.get("id")))
        return dataclasses.replace(interrupt, actions=tuple(actions))
    return interrupt


class _Thread:
    """One thread's run and recorder."""

    def __init__(self, thread_id: str, graph: Any) -> None:
        from hitl_sim.driving.gates import gates_by_agent

        self.run = Run(thread_id=thread_id, config={"configurable": {"thread_id": thread_id}})
        self.run.gated = dict(_gates(graph))
        self.run.agent_gates = gates_by_agent(graph)
        self.recorder = Recorder(self.run)
        self.in_flight = 0


def _gates(graph: Any) -> dict[str, tuple[str, ...]]:
    from hitl_sim.driving import gates_of

    return gates_of(graph)


class AppTap:
    """The graph, as handed to the app under test. See the module docs."""

    def __init__(self, graph: Any, *, clock: datetime | None = DEFAULT_START) -> None:
        if getattr(graph, "checkpointer", None) is None:
            raise ThreadError(
                f"AppTap() got a graph without a checkpointer ({graph!r}): its interrupts can "
                "never be resumed. Compile it with one, e.g. checkpointer=InMemorySaver()."
            )
        self.graph = graph
        self.sent: list[Sent] = []
        self._threads: dict[str, _Thread] = {}
        self._lock = threading.RLock()
        self._violations: list[Violation] = []
        self._expecting: list[tuple[str, list[Sent]]] = []
        self._start = clock
        self._clock: Any = None
        self._frozen: Any = None

    # -- the clock

    def __enter__(self) -> AppTap:
        if self._start is not None:
            from hitl_sim.driving.clock import frozen

            self._frozen = frozen(self._start)
            self._clock = self._frozen.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._frozen is not None:
            self._frozen.__exit__(*exc)
            self._frozen = self._clock = None

    def advance(self, delta: timedelta) -> None:
        """Move the frozen clock on (a human taking `delta` to decide)."""
        if self._clock is not None:
            self._clock.tick(delta)

    # -- records

    @property
    def runs(self) -> dict[str, Run]:
        """thread id -> the run recorded on it."""
        return {thread: state.run for thread, state in self._threads.items()}

    def run(self, thread_id: str) -> Run:
        state = self._threads.get(thread_id)
        if state is None:
            known = ", ".join(map(repr, self._threads)) or "(none)"
            raise ThreadError(
                f"The app made no graph call on thread {thread_id!r}. Threads it used: {known}. "
                "Check the thread id the app was given."
            )
        return state.run

    def hygiene(self) -> list[Violation]:
        """The thread-hygiene violations alone (see the module docs), in the order found, with
        every secret the recorded runs and the app's calls saw masked."""
        text = self.redactor().text
        with self._lock:
            found = list(self._violations)
        return [Violation(v.check, text(v.message), tuple(map(text, v.evidence))) for v in found]

    def redactor(self) -> Redactor:
        """A redactor holding every secret of the recorded runs and of what the app sent."""
        redactor = Redactor()
        with self._lock:
            for state in self._threads.values():
                redactor.learn(state.run)
            for violation in self._violations:
                redactor.learn(violation.evidence)
        return redactor

    def violations(self) -> list[Violation]:
        """The thread-hygiene violations, then every recorded run's `run.check()` violations."""
        from hitl_sim.checking.checks import violations

        found = self.hygiene()
        for state in self._threads.values():
            found.extend(violations(state.run))
        return found

    def check(self) -> None:
        """Raise `CheckFailed` listing `violations()`, secrets masked."""
        raise_found(self.violations(), "The app's graph calls", self.redactor())

    @contextlib.contextmanager
    def expecting(self, thread_id: str) -> Iterator[list[Sent]]:
        """Within the block the app must resume `thread_id`, and no other thread."""
        seen: list[Sent] = []
        with self._lock:
            self._expecting.append((thread_id, seen))
        try:
            yield seen
        finally:
            with self._lock:
                self._expecting.remove((thread_id, seen))
        resumes = [s for s in seen if s.kind in ("resume", "continue")]
        others = [s for s in resumes if s.thread_id != thread_id]
        if others:
            self._note(
                "resumed_other_thread",
                f"A decision for thread {thread_id!r} resumed thread(s) "
                f"{', '.join(sorted({repr(s.thread_id) for s in others}))} instead.",
                [f"sent to {s.thread_id!r}: {s.kind} {s.value!r}" for s in others],
            )
        elif not resumes:
            self._note(
                "decision_not_applied",
                f"The app took a decision for thread {thread_id!r} but never resumed it.",
                [f"calls made meanwhile: {[(s.thread_id, s.kind) for s in seen]!r}"],
            )

    def _note(self, check: str, message: str, evidence: list[str]) -> None:
        with self._lock:
            self._violations.append(Violation(check, message, tuple(evidence)))

    # -- the graph, as the app calls it

    _UNRECORDED = frozenset({"stream", "astream", "batch", "abatch", "stream_events"})

    def __getattr__(self, name: str) -> Any:
        if name in AppTap._UNRECORDED:
            raise InvalidArgument(
                f"The app called {name}() on the AppTap, which records invoke() and ainvoke() "
                "only: the calls it makes this way would run unrecorded, and the checks would "
                "pass on nothing. Expected the app to call invoke/ainvoke, or wait for stream "
                "support. See docs/approval-front-ends.md#the-apps-own-resume-path"
            )
        return getattr(self.graph, name)

    def get_state(self, config: Any, **options: Any) -> Any:
        return self.graph.get_state(config, **options)

    async def aget_state(self, config: Any, **options: Any) -> Any:
        return await self.graph.aget_state(config, **options)

    def invoke(self, input: Any, config: Any = None, **options: Any) -> Any:
        thread = _thread_of(config)
        if thread is None:  # LangGraph refuses it itself: let it say so
            return self.graph.invoke(input, config, **options)
        state, resume, given = self._before(thread, input, config)
        try:
            with recording(state.recorder):
                result = self.graph.invoke(input, given, **options)
        except Exception as error:
            self._failed(state, resume, error)
            raise
        self._after(state, resume, thread)
        return result

    async def ainvoke(self, input: Any, config: Any = None, **options: Any) -> Any:
        thread = _thread_of(config)
        if thread is None:
            return await self.graph.ainvoke(input, config, **options)
        state, resume, given = self._before(thread, input, config)
        try:
            with recording(state.recorder):
                result = await self.graph.ainvoke(input, given, **options)
        except Exception as error:
            self._failed(state, resume, error)
            raise
        self._after(state, resume, thread)
        return result

    def _before(self, thread: str, input: Any, config: Any) -> tuple[_Thread, int, dict[str, Any]]:
        """Record what the app sends and judge it; the config to send it with."""
        from langgraph.types import Command

        with self._lock:
            state = self._threads.setdefault(thread, _Thread(thread, self.graph))
            head = self.graph.get_state({"configurable": {"thread_id": thread}})
            pending = self._register(state, head)
            kind = (
                "resume"
                if isinstance(input, Command) and input.resume is not None
                else "continue"
                if input is None
                else "input"
            )
            value = input.resume if kind == "resume" else input
            labels = tuple(p.label for p in pending)
            self._judge(state, Sent(thread, kind, value, labels, _now()), pending, head)
            masking = Redactor()
            masking.learn(head.values)
            masking.learn(value)
            sent = Sent(thread, kind, masking.data(value), labels, _now())
            self.sent.append(sent)
            for _, seen in self._expecting:
                seen.append(sent)
            state.in_flight += 1
            state.recorder.resume += kind != "input"
            resume = state.recorder.resume
        given = dict(config)
        given["callbacks"] = [*(config.get("callbacks") or []), Capture(state.recorder)]
        return state, resume, given

    def _failed(self, state: _Thread, resume: int, error: Exception) -> None:
        with self._lock:
            state.in_flight -= 1
            state.recorder.flush()
            state.run.error = RunError(error, resume, None, resumable=False)
            state.run.steps.append(Step("error", resume, state.run.error, _now()))

    def _after(self, state: _Thread, resume: int, thread: str) -> None:
        with self._lock:
            state.in_flight -= 1
            state.recorder.flush()
            after = self.graph.get_state({"configurable": {"thread_id": thread}})
            state.run.error = None  # a later call that went through supersedes an earlier error
            state.run.pending = self._register(state, after)
            state.run.final_state = dict(after.values)
            if not state.run.pending:
                state.run.steps.append(Step("finish", resume, state.run.status, _now()))

    # -- bookkeeping (under the lock)

    def _register(self, state: _Thread, snapshot: Any) -> list[PendingInterrupt]:
        run = state.run
        known = {p.id: p for p in run.interrupts}
        found: list[PendingInterrupt] = []
        for interrupt in pending_in(snapshot):
            if interrupt.kind == "breakpoint":
                continue
            if interrupt.id in known:
                found.append(known[interrupt.id])
                continue
            interrupt = _with_call_ids(interrupt, snapshot.values)
            interrupt = dataclasses.replace(interrupt, seq=len(run.interrupts) + 1)
            run.interrupts.append(interrupt)
            run.steps.append(Step("interrupt", state.recorder.resume, interrupt, _now()))
            found.append(interrupt)
        return found

    def _judge(
        self, state: _Thread, sent: Sent, pending: list[PendingInterrupt], head: Any
    ) -> None:
        thread = sent.thread_id
        if sent.kind == "input" and pending:
            self._note(
                "input_while_pending",
                f"The app sent new input to thread {thread!r} while "
                f"{', '.join(sent.pending)} waited for the human: LangGraph starts a new turn "
                "and the review is dropped (the gated call never runs). Expected "
                "Command(resume=...) carrying the human's answer.",
                [f"sent: {sent.value!r}", *(_asked(p) for p in pending)],
            )
        if sent.kind != "resume":
            return
        if state.in_flight:
            self._note(
                "concurrent_resumes",
                f"The app resumed thread {thread!r} while an earlier resume of it was still "
                "running: two decisions raced for one interrupt. Expected one resume at a "
                "time per thread (a lock, then a fresh look at what is pending).",
                [f"sent: {sent.value!r}"],
            )
            return
        if not pending:
            what = "has no checkpoints" if head.created_at is None else "has nothing pending"
            self._note(
                "resume_nothing_pending",
                f"The app resumed thread {thread!r}, which {what}: LangGraph silently does "
                "nothing or starts afresh. Expected the app to refuse the decision (unknown "
                "thread, nothing pending, stale decision).",
                [f"sent: Command(resume={sent.value!r})"],
            )
            return
        answers = read_answers(sent.value, pending)
        if answers.problems:
            self._note(
                "resume_wrong_shape",
                f"The app resumed thread {thread!r} with a value the middleware cannot take: "
                f"{'; '.join(answers.problems)}.",
                [f"sent: {sent.value!r}", *(_asked(p) for p in pending)],
            )
        record = ResumeRecord(
            state.recorder.resume + 1,
            tuple(p.seq for p, _ in answers.per_interrupt),
            sent.value,
        )
        for interrupt, payloads in answers.per_interrupt:
            for index, payload in enumerate(payloads):
                action = interrupt.actions[index] if index < len(interrupt.actions) else None
                decision = DecisionRecord(
                    interrupt, action, unchecked(payload), payload, record.resume, _now()
                )
                state.run.decisions.append(decision)
                state.run.steps.append(Step("decision", record.resume, decision, decision.at))
        state.run.steps.append(Step("resume", record.resume, record, _now()))


def _asked(interrupt: PendingInterrupt) -> str:
    calls = ", ".join(a.describe() for a in interrupt.actions) or repr(interrupt.value)
    return f"pending {interrupt.label}: {calls}"


def _now() -> datetime:
    return datetime.now(UTC)
