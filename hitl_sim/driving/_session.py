"""The sans-IO resume loop: a `_Session` asks for graph operations (`_Invoke`, `_GetState`,
`_UpdateState`) and records what happened into the `Run`; `hitl_sim.driving._io` performs them with
the sync or the async graph API."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import (
    Callable,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hitl_sim.driving._messages import (
    _DISCARDED,
    _LOST,
    _cannot_recover,
    _describe_payload,
    _gated_names_no_tool,
    _nothing_pending,
    _ran_text,
    _stuck_on_failure,
    _too_many_resumes,
    _under_review,
    _unknown_names,
    _would_rerun,
)
from hitl_sim.driving.capture import Capture, Recorder, Spy, now
from hitl_sim.driving.clock import checkpoint_ids_after, start_time
from hitl_sim.driving.context import check_context, remember_context
from hitl_sim.driving.options import (
    DEFAULT_START,
    Durability,
    Gated,
    Mode,
    Redact,
)
from hitl_sim.errors import (
    HitlSimError,
    InvalidArgument,
    ScenarioError,
    ThreadError,
)
from hitl_sim.interrupts import ActionRequest, PendingInterrupt, pending_in
from hitl_sim.normalise import redaction_keys
from hitl_sim.run import (
    DecisionRecord,
    ResumeRecord,
    Run,
    RunError,
    Step,
    ToolExecution,
)

if TYPE_CHECKING:
    from langgraph.types import StateSnapshot

    from hitl_sim.decisions import Decision
    from hitl_sim.reviewing.reviewer import Responder
    from hitl_sim.run import AgentGates


STREAM_MODES = ["updates", "custom"]


@dataclass(frozen=True)
class _Invoke:
    payload: Any


@dataclass(frozen=True)
class _GetState:
    pass


@dataclass(frozen=True)
class _UpdateState:
    values: Any


_Op = _Invoke | _GetState | _UpdateState


@dataclass(frozen=True)
class _Finished:
    """An invoke ran to the end: nothing is pending, and these are the thread's state values."""

    values: dict[str, Any]


_Sent = BaseException | _Finished | None
"""What an invoke left: the graph's error, the finished state, or None (read the thread)."""


def _is_saver(checkpointer: Any) -> bool:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    return isinstance(checkpointer, BaseCheckpointSaver)


def _require_checkpointer(graph: Any) -> None:
    if not _is_saver(getattr(graph, "checkpointer", None)):
        raise ThreadError(
            f"The graph {_graph_name(graph)} has no checkpointer, so its interrupts can never be "
            "resumed (LangGraph returns the interrupt and then refuses "
            "`Command(resume=...)`). Expected a graph compiled with a checkpointer. Fix: "
            "compile it with one, e.g. `create_agent(..., checkpointer=InMemorySaver())` or "
            "`builder.compile(checkpointer=InMemorySaver())`."
        )


def _graph_name(graph: Any) -> str:
    return repr(getattr(graph, "name", None) or type(graph).__name__)


def _as_input(value: Any) -> Any:
    if value is None or isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        from langchain_core.messages import HumanMessage

        return {"messages": [HumanMessage(value)]}
    raise InvalidArgument(
        f"simulate() got input={value!r} ({type(value).__name__}). Expected a str (sent as the "
        "user's message), a dict of graph input, or None to answer what is already pending on "
        "the thread."
    )


def _thread_config(
    config: Mapping[str, Any] | None, thread_id: str | None
) -> tuple[dict[str, Any], str]:
    config = dict(config or {})
    configurable = dict(config.get("configurable") or {})
    given = configurable.get("thread_id", config.pop("thread_id", None))
    if thread_id is not None and given is not None and str(given) != str(thread_id):
        raise InvalidArgument(
            f"simulate() got thread_id={thread_id!r} and a config naming thread "
            f"{given!r}. Pass the thread once, either as thread_id= or in "
            "config['configurable']['thread_id']."
        )
    chosen = str(thread_id if thread_id is not None else given or f"hitl-sim-{uuid.uuid4().hex}")
    if configurable.get("checkpoint_id"):
        raise InvalidArgument(
            f"The config pins thread {chosen!r} to checkpoint "
            f"{configurable['checkpoint_id']!r}. LangGraph resumes a pinned checkpoint with the "
            "resume value it stored there before, not the one sent, so the run record would show "
            "a decision that never took effect. Expected a config naming only the thread (the "
            "driver answers the thread's newest checkpoint). Fix: drop checkpoint_id. To decide "
            "again at an earlier checkpoint, replay it first: graph.invoke(None, pinned_config) "
            "re-asks its interrupt on a new head; then simulate(graph, None, reviewer, "
            "thread_id=...) answers that."
        )
    configurable["thread_id"] = chosen
    config["configurable"] = configurable
    return config, chosen


def _with_callback(config: dict[str, Any], handler: Capture) -> dict[str, Any]:
    callbacks = config.get("callbacks")
    if callbacks is None:
        callbacks = [handler]
    elif isinstance(callbacks, list):
        callbacks = [*callbacks, handler]
    else:
        callbacks = callbacks.copy()
        callbacks.add_handler(handler, inherit=True)
    return {**config, "callbacks": callbacks}


def _clock_start(clock: datetime | str | bool | None) -> datetime | None:
    if clock is None or clock is False:
        return None
    if clock is True:
        return DEFAULT_START
    if not isinstance(clock, str | datetime):
        raise InvalidArgument(
            f"clock={clock!r} is not a start time. Expected a datetime or ISO string "
            "(e.g. '2030-01-01T09:00:00+00:00'), or clock=False to leave time unfrozen."
        )
    return start_time(clock)


def _spies(watch: Sequence[Spy[Any, Any]]) -> tuple[Spy[Any, Any], ...]:
    for spy in watch:
        if not isinstance(spy, Spy):
            raise InvalidArgument(
                f"watch= got {spy!r}, which is not a Spy. Wrap the function your tools call: "
                "`send = Spy(send)` (or decorate it with @Spy), then pass watch=[send]."
            )
    return tuple(watch)


class _Session:
    """One simulation: the run record, the responder, the clock, and the resume loop."""

    def __init__(
        self,
        graph: Any,
        input: Any,
        reviewer: Any,
        *,
        config: Mapping[str, Any] | None,
        thread_id: str | None,
        mode: Mode,
        gated: Gated | None,
        max_resumes: int,
        clock: datetime | str | bool | None,
        watch: Sequence[Spy[Any, Any]],
        expect_pending: bool,
        rebuild: Callable[[], Any] | None,
        run: Run | None = None,
        durability: Durability | None = None,
        redact: Redact = ...,
        trace: bool = False,
        context: Any = None,
        who: str = "simulate()",
    ) -> None:
        if mode not in ("invoke", "stream"):
            raise InvalidArgument(f"mode={mode!r} is not a mode. Expected 'invoke' or 'stream'.")
        if max_resumes < 0:
            raise InvalidArgument(f"max_resumes={max_resumes!r} must be 0 or more.")
        if durability not in (None, "sync", "async", "exit"):
            raise InvalidArgument(
                f"durability={durability!r} is not a LangGraph durability mode. Expected 'sync', "
                "'async' or 'exit', or None for the graph's default."
            )
        self.run_options: dict[str, Any] = {} if durability is None else {"durability": durability}
        _require_checkpointer(graph)
        check_context(graph, context, who)
        if context is not None:
            self.run_options["context"] = context
        self.graph = graph
        self.input = _as_input(input)
        self.responder = _responder(reviewer, expect_pending)
        _check_reviewer_names(self.responder, graph)
        tools = _check_gated_names(gated, graph, who)
        self.mode = mode
        self.max_resumes = max_resumes
        self.start = _clock_start(clock)
        self.watch = _spies(watch)
        self.rebuild = rebuild
        base, chosen = _thread_config(config if run is None else run.config, thread_id)
        self.run = run or Run(thread_id=chosen, config=base, expect_pending=expect_pending)
        remember_context(self.run, context)
        if redact is not ...:
            self.run.redact = frozenset() if redact is None else redaction_keys(redact)
        self.trace = trace
        self.recorder = Recorder(self.run)
        self.recorder.resume = max((step.resume for step in self.run.steps), default=0)
        self.config = _with_callback(base, Capture(self.recorder))
        self.run.declared_gates = _gated(None, gated, self.run.declared_gates)
        self.run.gated = _gated(graph, gated, self.run.gated)
        self.run.agent_gates = _agent_gates(graph)
        self.run.known_tools = self.run.known_tools | tools
        name = getattr(graph, "name", None)  # create_agent(name=...): its records carry it
        self.run.graph_name = name if isinstance(name, str) else None
        self.declined: set[str] = set()
        self.frozen: Any = None

    # ---- clock

    def clock_from(self, head: StateSnapshot) -> datetime | None:
        """The time to freeze at; never earlier than checkpoints already on the thread."""
        checkpoint_id = head.config.get("configurable", {}).get("checkpoint_id")
        if checkpoint_id:
            checkpoint_ids_after(checkpoint_id)
        if self.start is None:
            return None
        latest = max((step.at for step in self.run.steps), default=None)
        created = head.created_at
        if created is not None:
            on_thread = datetime.fromisoformat(created)
            if on_thread > self.start and self.start != DEFAULT_START:
                raise ThreadError(
                    f"Thread {self.run.thread_id!r} already has checkpoints at "
                    f"{on_thread.isoformat()}, later than clock={self.start.isoformat()}. "
                    "Freezing time earlier than checkpoints already on a thread corrupts its "
                    "checkpoint order (LangGraph would then read an old checkpoint as the "
                    "thread's head). Fix: pass a clock at or after that time, or clock=False."
                )
            latest = max(latest or on_thread, on_thread)
        return max(self.start, latest) if latest is not None else self.start

    @contextlib.contextmanager
    def frozen_at(self, start: datetime | None, real_asyncio: bool = False) -> Iterator[None]:
        if start is None:
            yield
            return
        from hitl_sim.driving.clock import frozen

        with frozen(start, real_asyncio=real_asyncio) as clock:
            self.frozen = clock
            try:
                yield
            finally:
                self.frozen = None

    def advance(self, after: timedelta) -> None:
        if self.frozen is not None and after:
            self.frozen.tick(after)

    # ---- the loop

    def step(self, kind: Any, record: Any) -> None:
        self.run.steps.append(Step(kind, self.recorder.resume, record, now()))

    def loop(self, head: StateSnapshot) -> Generator[_Op, Any, None]:
        """Invoke with the input (if any), then answer until nothing is pending."""
        sent: _Sent = None
        if self.input is not None:
            self.refuse_new_input_while_pending(head)
            sent = yield _Invoke(self.input)
            self.recorder.flush()
            if isinstance(sent, BaseException):
                yield from self.fail(sent)
                return
        elif not head.next:
            raise _nothing_pending(self.run.thread_id, head)
        elif not pending_in(head) and any(task.error is not None for task in head.tasks):
            raise _stuck_on_failure(self.run.thread_id, head)
        yield from self.answer_pending(sent)

    def answer_pending(self, sent: _Sent = None) -> Generator[_Op, Any, None]:
        run = self.run
        while True:
            if isinstance(sent, _Finished):
                run.pending = []
                self.finish(sent.values)
                return
            snapshot: StateSnapshot = yield _GetState()
            pending = run.pending = self.register(pending_in(snapshot), snapshot)
            answers = self.ask(pending)
            if not answers:
                break
            if self.recorder.resume >= self.max_resumes:
                raise _too_many_resumes(run, self.max_resumes)
            record = self.plan(pending, answers)
            yield from self.confirm_pending(record, snapshot)
            sent = yield from self.send(record)
            if isinstance(sent, BaseException):
                yield from self.fail(sent)
                return
        self.finish(dict(snapshot.values))  # nothing ran since this was read

    def confirm_pending(
        self, record: ResumeRecord, read: StateSnapshot | None = None
    ) -> Generator[_Op, Any, None]:
        """Right before a resume, check the thread still has what we answer pending (after
        swapping in a fresh graph, with `rebuild=`): LangGraph would not tell us.

        `read`: the snapshot the answers were decided on. It is still current, and the thread
        is not read again, unless the graph was rebuilt or the responder ran the test's own code
        (which may have touched the thread) while deciding."""
        if self.rebuild is not None:
            self.graph = self.rebuild()
            _require_checkpointer(self.graph)
        elif read is not None and getattr(self.responder, "runs_user_code", True) is False:
            return
        snapshot: StateSnapshot = yield _GetState()
        still = {p.id for p in pending_in(snapshot)}
        lost = [p for p in self.run.interrupts if p.seq in record.answers and p.id not in still]
        if lost:
            if self.rebuild is not None:
                graph = "rebuilt graph"
                expected = (
                    "Expected rebuild() to return a graph on the same checkpointer (the same "
                    "InMemorySaver object, or the same database)."
                )
            else:
                graph = "graph"
                expected = (
                    "Expected nothing else to answer this thread while the reviewer decided "
                    "(another reviewer or process got there first)."
                )
            raise ThreadError(
                f"Before resume {record.resume}, the {graph} does not see "
                f"{', '.join(p.label for p in lost)} pending on thread {self.run.thread_id!r} "
                f"(it shows next={tuple(snapshot.next)!r}). Resuming would silently start the "
                f"graph afresh or do nothing. {expected}"
            )

    def recover(self, allow_rerun: bool = False) -> Generator[_Op, Any, None]:
        """Continue a failed run: retry a tool's own failure with the answer LangGraph stored,
        or clear a poisoned answer and send a corrected one, or answer a rejected one again.

        Refused, keeping `run.error`, when it would run again a tool that already ran (its result
        was lost, or clearing the poisoned answer discards a sibling's saved result), unless
        `allow_rerun`."""
        run, error = self.run, self.run.error
        if error is None or not error.resumable or (error.tool is None and not run.pending):
            raise _cannot_recover(run)
        if error.lost and not allow_rerun:
            raise _would_rerun(run, [_ran_text(e) for e in error.lost], _LOST)
        if error.tool is not None:
            record = ResumeRecord(self.recorder.resume + 1, (), None, how="retry")
            run.error = None
            retried = yield from self.send(record)
            if isinstance(retried, BaseException):
                yield from self.fail(retried)
                return
            yield from self.answer_pending(retried)
            return
        sent: _Sent = None
        if error.poisoned:
            poisoned = [p for p in run.pending if p.node == error.node] or run.pending
            if len(poisoned) != 1:
                raise _cannot_recover(run)
            snapshot: StateSnapshot = yield _GetState()
            saved = [t.name for t in snapshot.tasks if t.error is None and t.result is not None]
            if saved and not allow_rerun:
                raise _would_rerun(run, [f"node {name!r}" for name in saved], _DISCARDED)
            answers = self.ask(poisoned)
            if not answers:
                return
            run.error = None
            interrupt, decisions = answers[0]
            value = self.answer(interrupt, decisions)
            record = ResumeRecord(
                self.recorder.resume + 1, (interrupt.seq,), value, None, how="recover"
            )
            yield from self.confirm_pending(record)
            sent = yield from self.send(record)
            if isinstance(sent, BaseException):
                yield from self.fail(sent)
                return
        run.error = None
        yield from self.answer_pending(sent)

    def refuse_new_input_while_pending(self, head: StateSnapshot) -> None:
        waiting = pending_in(head)
        if waiting:
            nodes = ", ".join(sorted({repr(p.node) for p in waiting}))
            what = (
                f"is paused at a static breakpoint before {nodes}"
                if all(p.kind == "breakpoint" for p in waiting)
                else f"has {len(waiting)} interrupt(s) pending"
            )
            raise ThreadError(
                f"Thread {self.run.thread_id!r} {what}, and "
                "simulate() was given new input for it: LangGraph would silently abandon the "
                "pending review (the gated call never runs and the model sees a dangling tool "
                "call). Expected a thread with nothing pending. Fix: answer what is pending with "
                "simulate(graph, None, reviewer, thread_id=...) or hitl_sim.resume(...), "
                "or use a fresh thread."
            )

    def register(
        self, found: list[PendingInterrupt], snapshot: StateSnapshot
    ) -> list[PendingInterrupt]:
        """Number new interrupts, fill in call ids and agents, and record them."""
        known = {p.id: p for p in self.run.interrupts if p.id is not None}
        origin = {i.id: f"{t.name}:{t.id}" for t in snapshot.tasks for i in t.interrupts}
        pending: list[PendingInterrupt] = []
        for interrupt in found:
            if interrupt.id is not None and interrupt.id in known:
                pending.append(known[interrupt.id])
                continue
            interrupt = _attribute(interrupt, self.run, snapshot)
            if interrupt.agent is None and interrupt.id in origin:
                delegate = self.recorder.delegated.get(origin[interrupt.id])
                interrupt = dataclasses.replace(interrupt, agent=delegate)
            interrupt = dataclasses.replace(interrupt, seq=len(self.run.interrupts) + 1)
            self.run.interrupts.append(interrupt)
            self.step("interrupt", interrupt)
            pending.append(interrupt)
        return pending

    def ask(self, pending: list[PendingInterrupt]) -> list[tuple[PendingInterrupt, list[Decision]]]:
        answers: list[tuple[PendingInterrupt, list[Decision]]] = []
        for interrupt in pending:
            if interrupt.id is not None and interrupt.id in self.declined:
                continue
            decided = self.responder.decide(interrupt, self.run)
            if decided is None:
                if interrupt.id is not None:
                    self.declined.add(interrupt.id)
                continue
            decisions = _decision_list(decided, interrupt)
            _validate(interrupt, decisions, self.graph)
            answers.append((interrupt, decisions))
        return answers

    def plan(
        self,
        pending: list[PendingInterrupt],
        answers: list[tuple[PendingInterrupt, list[Decision]]],
    ) -> ResumeRecord:
        """How to send `answers`: one `Command` for all of them, keyed by interrupt id unless a
        single batched interrupt is pending (then `{"decisions": [...]}` as users write it)."""
        values = {interrupt.id or "": self.answer(interrupt, ds) for interrupt, ds in answers}
        answered = tuple(interrupt.seq for interrupt, _ in answers)
        resume = self.recorder.resume + 1
        first, decisions = answers[0]
        if first.kind == "breakpoint":
            update = decisions[0].value or None if decisions[0].type == "update" else None
            return ResumeRecord(resume, answered, None, update, how="continue")
        if len(pending) == 1 and first.kind == "batched":
            return ResumeRecord(resume, answered, values[first.id or ""])
        return ResumeRecord(resume, answered, values)

    def send(self, record: ResumeRecord) -> Generator[_Op, Any, _Sent]:
        """Perform one resume: what it left (the graph's exception, if it raised)."""
        from langgraph.types import Command

        self.recorder.resume = record.resume
        self.step("resume", record)
        sent: _Sent = None
        if record.how == "recover":
            sent = yield _UpdateState(None)
        elif record.update is not None:
            sent = yield _UpdateState(record.update)
        if sent is None:
            plain = record.how in ("continue", "retry")
            payload: Any = None if plain else Command(resume=record.value)
            sent = yield _Invoke(payload)
        self.recorder.flush()
        return sent

    def answer(self, interrupt: PendingInterrupt, decisions: list[Decision]) -> Any:
        """Record each decision at its reviewer's pace and build the interrupt's answer."""
        payloads: list[Any] = []
        for index, decision in enumerate(decisions):
            action = interrupt.actions[index] if index < len(interrupt.actions) else None
            payload = decision.payload_for(action)
            payloads.append(payload)
            self.advance(decision.after)
            record = DecisionRecord(
                interrupt, action, decision, payload, self.recorder.resume + 1, now()
            )
            self.run.decisions.append(record)
            self.run.steps.append(Step("decision", record.resume, record, record.at))
        if interrupt.kind == "batched":
            return {"decisions": payloads}
        return payloads[0] if payloads else None

    def fail(self, error: BaseException) -> Generator[_Op, Any, None]:
        snapshot: StateSnapshot | None = yield _GetState()
        tool = next((name for raised, name in self.recorder.raised if raised is error), None)
        lost = self.lost_results(snapshot)
        self.run.error = _run_error(error, self.recorder.resume, snapshot, tool, lost)
        self.run.lost_results.extend(lost)
        self.step("error", self.run.error)
        if snapshot is not None:
            waiting = pending_in(snapshot)
            if tool is not None:  # the failed task's own interrupt was answered (and stored)
                answered = {i.id for t in snapshot.tasks if t.error for i in t.interrupts}
                waiting = [p for p in waiting if p.id not in answered]
            self.run.pending = self.register(waiting, snapshot)
        self.finish(dict(snapshot.values) if snapshot is not None else {})
        if isinstance(error, HitlSimError):
            raise error

    def lost_results(self, snapshot: StateSnapshot | None) -> tuple[ToolExecution, ...]:
        """Tools that ran without error in the step that just failed, in a task the thread shows
        with neither a result nor an error: their write was not saved, so a retry runs them."""
        if snapshot is None:
            return ()
        unsaved = {t.id for t in snapshot.tasks if t.result is None and t.error is None}
        task_of = self.recorder.task_of
        return tuple(
            execution
            for index, execution in enumerate(self.run.executed)
            if execution.resume == self.recorder.resume
            and execution.error is None
            and task_of.get(index) in unsaved
        )

    def finish(self, values: dict[str, Any]) -> None:
        from hitl_sim.driving.policy import record_blocks

        self.run.final_state = values
        self.run.unused_decisions = list(self.responder.unused())
        record_blocks(self.run, self.recorder.policy_notes)
        self.step("finish", self.run.status)


def _responder(reviewer: Any, expect_pending: bool) -> Responder:
    from hitl_sim.reviewing.reviewer import Reviewer, as_responder

    if reviewer is None and expect_pending:
        return Reviewer.unavailable()
    return as_responder(reviewer)


def _agent_gates(graph: Any) -> dict[str | None, AgentGates]:
    from hitl_sim.driving.gates import gates_by_agent

    return gates_by_agent(graph)


def _gated(
    graph: Any, declared: Gated | None, previous: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The agent's own gates (none for graph=None) plus what the test declared (a tool name
    alone: every decision)."""
    from hitl_sim.decisions import MIDDLEWARE_DECISIONS
    from hitl_sim.driving.gates import gates_of

    merged = {**previous, **(gates_of(graph) if graph is not None else {})}
    if isinstance(declared, str):
        declared = [declared]
    if declared is not None and not isinstance(declared, Mapping):
        declared = dict.fromkeys(declared, True)
    for tool, allowed in (declared or {}).items():
        given: Sequence[str] = MIDDLEWARE_DECISIONS if allowed is True else allowed or ()
        merged[tool] = tuple(dict.fromkeys((*merged.get(tool, ()), *given)))
    return merged


def _check_gated_names(gated: Gated | None, graph: Any, who: str) -> frozenset[str]:
    """Refuse `gated=` names that are no tool of a graph whose tools are all known before it
    runs (`graph_tools(graph).complete`): such a name gates nothing, silently. The tool names
    found, known or not all of them (the run keeps them, for `Run.unmatched_gated`)."""
    from hitl_sim.driving.gates import graph_tools

    found = graph_tools(graph)
    names = _gated_names(gated, who)
    unknown = [name for name in names if name not in found.tools]
    if unknown and found.complete:
        raise _gated_names_no_tool(who, unknown, list(found.tools))
    return frozenset(found.tools)


def _gated_names(gated: Gated | None, who: str) -> list[str]:
    if gated is None:
        return []
    names: list[Any] = [gated] if isinstance(gated, str) else list(gated)
    for name in names:
        if not isinstance(name, str):  # typed as str, but a tool object is an easy slip
            tool = getattr(name, "name", None)
            instead = f"gated={{{tool!r}}}" if isinstance(tool, str) else "gated={'delete_file'}"
            raise InvalidArgument(
                f"{who} got gated= naming {_describe_payload(name)} "
                f"({type(name).__name__}), which is not a tool name. Expected tool names: a "
                "set or list of str, or a mapping of tool name to its allowed decisions. Fix: "
                f"{instead}."
            )
    return names


def _decision_list(decided: Any, interrupt: PendingInterrupt) -> list[Decision]:
    from hitl_sim.decisions import Decision

    decisions = [decided] if isinstance(decided, Decision) else list(decided)
    for decision in decisions:
        if not isinstance(decision, Decision):
            raise InvalidArgument(
                f"The responder answered {interrupt.label} with {decision!r}, which is not a "
                "Decision. Expected Decision objects built with approve(), edit(), reject(), "
                "respond(), answer(), update() or unchecked()."
            )
    return decisions


def _check_reviewer_names(responder: Any, graph: Any) -> None:
    """Refuse to start when the reviewer names tools or arguments the agent does not have
    (`Reviewer.by_tool` keys, `when(...)`): such a rule never matches, silently."""
    check = getattr(responder, "name_problems", None)
    if not callable(check):
        return
    from hitl_sim.driving.gates import all_tools

    tools = all_tools(graph)
    found = check(tools) if tools else []
    if found:
        raise _unknown_names(
            "The reviewer names tools or arguments the agent does not have, so the run was not "
            "started (those rules would never match, and another decision would answer in "
            "their place).",
            found,
            "Fix the names; for a tool hitl-sim cannot see in the graph, pass "
            "check_names=False to Reviewer.by_tool(...) or Reviewer.rules(...).",
        )


def _validate(interrupt: PendingInterrupt, decisions: list[Decision], graph: Any) -> None:
    if any(decision.type == "unchecked" for decision in decisions):
        return
    from hitl_sim.driving.gates import all_tools
    from hitl_sim.reviewing.validation import problems, unknown_edit_args

    tools = all_tools(graph)
    lost = unknown_edit_args(interrupt, decisions, tools)
    if lost:
        raise _unknown_names(
            f"The reviewer's edit for {interrupt.label} names arguments its tool does not take, "
            "so it was not sent: the middleware would drop them and run the call with the "
            "model's own arguments.",
            lost,
            "Use the tool's own argument names in edit(...); to send the edit anyway (a tool "
            "that takes arguments its schema does not list), wrap it: unchecked(edit(...)).",
        )
    found = problems(interrupt, decisions, tools=tools or None)
    if found:
        listed = "\n".join(f"- {problem}" for problem in found)
        raise ScenarioError(
            f"The reviewer's answer to {interrupt.label} would be rejected by the graph, so it "
            f"was not sent.\n{_under_review(interrupt)}\n"
            f"Decisions: {[d.describe() for d in decisions]}\nProblems:\n{listed}\n"
            "Fix the decisions; to send a malformed answer on purpose (to test what the agent "
            "does with it), wrap it in unchecked(...)."
        )


def _attribute(interrupt: PendingInterrupt, run: Run, snapshot: StateSnapshot) -> PendingInterrupt:
    """Match the interrupt's tool calls to the model turn that made them: call ids and agent."""
    if not interrupt.actions:
        return interrupt
    for request in reversed(run.model_requests):
        calls = list(getattr(request.response, "tool_calls", None) or ())
        matched = _match_calls(interrupt.actions, calls)
        if matched is not None:
            return dataclasses.replace(interrupt, actions=matched, agent=request.agent)
    messages = snapshot.values.get("messages", []) if isinstance(snapshot.values, dict) else []
    for message in reversed(messages):
        matched = _match_calls(interrupt.actions, list(getattr(message, "tool_calls", None) or ()))
        if matched is not None:
            return dataclasses.replace(interrupt, actions=matched)
    return interrupt


def _match_calls(
    actions: tuple[ActionRequest, ...], calls: list[Mapping[str, Any]]
) -> tuple[ActionRequest, ...] | None:
    remaining = list(calls)
    matched: list[ActionRequest] = []
    for action in actions:
        for call in remaining:
            same_id = action.tool_call_id is not None and call.get("id") == action.tool_call_id
            same_call = action.tool_call_id is None and (
                call.get("name") == action.name and dict(call.get("args") or {}) == action.args
            )
            if same_id or same_call:
                remaining.remove(call)
                matched.append(dataclasses.replace(action, tool_call_id=call.get("id")))
                break
        else:
            return None
    return tuple(matched)


def _run_error(
    error: BaseException,
    resume: int,
    snapshot: StateSnapshot | None,
    tool: str | None = None,
    lost: tuple[ToolExecution, ...] = (),
) -> RunError:
    """Where the graph failed, and whether answering its pending interrupt again could finish.

    Poisoned: the failing task still shows its interrupt while a non-validation error is stored
    next to the answer; only `recover()` (update_state then resume) gets past it. A tool's own
    exception (`tool`) is never a poisoned answer, even when its task holds the per_call
    interrupt it answered: retrying the task (`invoke(None)`) runs it again with that answer.
    """
    from langgraph.errors import is_invalid_resume

    if snapshot is None:
        return RunError(error, resume, None, resumable=False, tool=tool, lost=lost)
    failed = [task for task in snapshot.tasks if task.error is not None]
    node = failed[0].name if failed else (snapshot.next[0] if snapshot.next else None)
    if tool is not None:
        return RunError(error, resume, node, bool(failed), tool=tool, lost=lost)
    resumable = any(task.interrupts for task in snapshot.tasks)
    poisoned = any(task.interrupts for task in failed) and not is_invalid_resume(error)
    return RunError(error, resume, node, resumable, poisoned, lost=lost)
