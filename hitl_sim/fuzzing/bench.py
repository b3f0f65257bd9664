"""The fuzzing bench: one compiled agent, a fresh thread and a fresh model script per example.

`FuzzAgent(tools, interrupt_on, interrupt_mode=...)` builds a real `create_agent` +
`HumanInTheLoopMiddleware` (or `create_deep_agent(interrupt_on=...)`) + `InMemorySaver` once.
`agent.run(plan)` plays one `RunPlan` (the model's turns and the reviewer's decisions) through
`hitl_sim.simulate` on a new thread, then deletes the thread, so thousands of examples neither
share state nor grow memory.
`agent.verify(plan)` also predicts the run with `hitl_sim.fuzzing.oracle` and raises
`OracleMismatch`
listing every difference. Build the agent once, at module level or in a module-scoped fixture,
and call it inside `@given` tests: no function-scoped fixture is involved.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hitl_sim.calls import Call
from hitl_sim.decisions import Decision, unchecked
from hitl_sim.driving.gates import HITL_NODE, tools_of
from hitl_sim.errors import InvalidArgument, OracleMismatch, ScriptExhausted
from hitl_sim.fuzzing.oracle import HitlConfig, InterruptMode, Outcome, predict

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage

    from hitl_sim.interrupts import ActionRequest, PendingInterrupt
    from hitl_sim.run import Run


@dataclass(frozen=True)
class PlannedTurn:
    """One model turn making `calls`, and what the reviewer answers when it pauses.

    `decisions` are `Decision`s or raw decision payloads, matched by position to the turn's
    gated calls (however many there are: a count mismatch is sent as is).
    """

    calls: tuple[Call, ...]
    decisions: tuple[Any, ...] | None = ()
    """None: the reviewer is unavailable for this turn and leaves its reviews pending."""

    def message(self) -> AIMessage:
        from langchain_core.messages import AIMessage

        tool_calls = [
            {"name": c.name, "args": dict(c.args), "id": c.id, "type": "tool_call"}
            for c in self.calls
        ]
        return AIMessage(content="", tool_calls=tool_calls)


@dataclass(frozen=True)
class RunPlan:
    """A whole run: the user's prompt, the model's tool-calling turns, its final answer."""

    turns: tuple[PlannedTurn, ...]
    final: str = "Done."
    prompt: str = "Please go ahead."

    def script(self) -> list[AIMessage]:
        """The model's answers, in order."""
        from langchain_core.messages import AIMessage

        return [turn.message() for turn in self.turns] + [AIMessage(content=self.final)]


def _verbatim(decision: Any, action: ActionRequest | None) -> Decision:
    if isinstance(decision, Decision):
        return unchecked(decision.payload_for(action))
    return unchecked(decision)


class _PlannedReviewer:
    """Answers each interrupt from the plan: a batched turn's whole list, or one per call.

    Decisions go through the driver's local validation, except on turns the oracle expects to
    fail: those are sent verbatim (`unchecked`), so the agent's own reaction is what is compared.
    """

    runs_user_code = False
    """It answers from the plan alone, so the driver needs no re-read of the thread before a
    resume."""

    def __init__(self, plan: RunPlan, config: HitlConfig, failing: set[int]) -> None:
        self.mode = config.interrupt_mode
        self.failing = failing
        self.queues = [None if t.decisions is None else list(t.decisions) for t in plan.turns]
        self.seen: set[str] = set()
        self.calls = {c.id: index for index, t in enumerate(plan.turns) for c in t.calls}

    def decide(self, interrupt: PendingInterrupt, run: Run) -> Sequence[Decision] | None:
        turn = self.turn_of(interrupt)
        queue = self.queues[turn]
        if queue is None:
            return None
        if self.mode == "batched":
            planned, self.queues[turn] = queue, []
            actions: list[ActionRequest | None] = [*interrupt.actions, *[None] * len(planned)]
            return [self.sendable(turn, d, a) for d, a in zip(planned, actions, strict=False)]
        return [self.sendable(turn, queue.pop(0), interrupt.actions[0])] if queue else None

    def sendable(self, turn: int, decision: Any, action: ActionRequest | None) -> Decision:
        if turn in self.failing or not isinstance(decision, Decision):
            return _verbatim(decision, action)
        return decision

    def turn_of(self, interrupt: PendingInterrupt) -> int:
        ids = [action.tool_call_id for action in interrupt.actions]
        turn = self.calls.get(ids[0]) if ids else None
        if turn is None:
            raise InvalidArgument(
                f"{interrupt.label} reviews calls {ids!r}, none of which the plan made. "
                "FuzzAgent needs the driver to match reviewed calls to the plan's tool-call ids."
            )
        return turn

    def unused(self) -> list[Decision]:
        return [
            d if isinstance(d, Decision) else unchecked(d) for q in self.queues for d in q or ()
        ]


@dataclass
class FuzzAgent:
    """A real agent compiled once and reused across examples (see the module docstring).

    `tools` are LangChain tools with pure functions (the oracle calls them to predict outputs);
    `interrupt_on`, `interrupt_mode` and `middleware_options` (`edit_notice`,
    `description_prefix`) go to `HumanInTheLoopMiddleware` unchanged. The oracle reads its
    configuration off the middleware the built graph really has.
    """

    tools: Sequence[Any]
    interrupt_on: Mapping[str, Any]
    interrupt_mode: InterruptMode = "batched"
    clock: Any = False
    """Passed to `simulate`; False (the default here) skips freezing time per example."""
    durability: Literal["sync", "async", "exit"] | None = "exit"
    """Passed to `simulate`: "exit" (the default here) saves each invoke's checkpoint only where
    it stops (at an interrupt or the end), not after every step: examples never read the
    intermediate ones, and their threads are deleted. None: LangGraph's default ("async")."""
    middleware_options: Mapping[str, Any] = field(default_factory=dict)
    agent: Literal["create_agent", "deep_agent"] = "create_agent"
    """`deep_agent`: `create_deep_agent(interrupt_on=...)`; the oracle covers its main agent."""
    graph: Any = field(init=False, repr=False)
    model: Any = field(init=False, repr=False)
    config: HitlConfig = field(init=False, repr=False)
    _script: list[AIMessage] = field(init=False, repr=False, default_factory=list)
    _threads: Iterator[int] = field(init=False, repr=False, default_factory=itertools.count)

    def __post_init__(self) -> None:
        from langgraph.checkpoint.memory import InMemorySaver

        from hitl_sim.models.chat import FunctionChatModel

        self.model = FunctionChatModel(self._next_turn)
        if self.agent == "deep_agent":
            self.graph = self._deep_agent(InMemorySaver())
        elif self.agent == "create_agent":
            from langchain.agents import create_agent
            from langchain.agents.middleware import HumanInTheLoopMiddleware

            hitl = HumanInTheLoopMiddleware(
                dict(self.interrupt_on),
                interrupt_mode=self.interrupt_mode,
                **self.middleware_options,
            )
            self.graph = create_agent(
                self.model, tools=list(self.tools), middleware=[hitl], checkpointer=InMemorySaver()
            )
        else:
            raise InvalidArgument(
                f"FuzzAgent(agent={self.agent!r}): expected 'create_agent' or 'deep_agent'."
            )
        middleware = self.graph.nodes[HITL_NODE].bound.func.__self__
        self.config = HitlConfig.of(middleware, self.tools, available=tools_of(self.graph))

    def _deep_agent(self, checkpointer: Any) -> Any:
        if self.interrupt_mode != "batched" or self.middleware_options:
            raise InvalidArgument(
                "FuzzAgent(agent='deep_agent') builds its gates with deepagents, which has no "
                f"interrupt_mode or middleware options (got interrupt_mode={self.interrupt_mode!r}"
                f", middleware_options={dict(self.middleware_options)!r}). Leave them unset."
            )
        from deepagents import create_deep_agent

        return create_deep_agent(
            model=self.model,
            tools=list(self.tools),
            interrupt_on=dict(self.interrupt_on),
            checkpointer=checkpointer,
        )

    def __enter__(self) -> FuzzAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.graph.checkpointer.storage.clear()

    def _next_turn(self, messages: list[BaseMessage], info: Any) -> AIMessage:
        if not self._script:
            raise ScriptExhausted(
                f"FuzzAgent's plan ran out: the agent asked for model turn {info.turn} after "
                "the plan's final answer. The plan's turns and the agent's loop disagree."
            )
        return self._script.pop(0)

    def run(self, plan: RunPlan, reviewer: Any = None) -> Run:
        """Play `plan` through `simulate` on a fresh thread (deleted afterwards).

        `reviewer` (anything `simulate` accepts) answers instead of the plan's decisions; the
        plan's decisions must then say what it will answer, for `predict` and `verify`.
        """
        from hitl_sim.driving.api import simulate

        if not isinstance(plan, RunPlan):
            raise InvalidArgument(f"FuzzAgent.run() takes a RunPlan, got {plan!r}.")
        failing = {i for i, outcome in enumerate(self.predict(plan)) if outcome.error is not None}
        self._script = plan.script()
        self.model.clear_requests()
        thread_id = f"fuzz-{next(self._threads)}"
        try:
            return simulate(
                self.graph,
                plan.prompt,
                reviewer if reviewer is not None else _PlannedReviewer(plan, self.config, failing),
                thread_id=thread_id,
                clock=self.clock,
                expect_pending=True,
                durability=self.durability,
            )
        finally:
            self.graph.checkpointer.delete_thread(thread_id)

    def predict(self, plan: RunPlan) -> list[Outcome]:
        """The oracle's prediction for `plan`, turn by turn (stopping where the agent stops)."""
        outcomes: list[Outcome] = []
        for turn in plan.turns:
            decisions = None if turn.decisions is None else list(turn.decisions)
            outcomes.append(predict(self.config, turn.calls, decisions))
            if not outcomes[-1].finished:
                break
        return outcomes

    def verify(self, plan: RunPlan, reviewer: Any = None) -> Run:
        """Run `plan` and raise `OracleMismatch` unless the run matches the oracle exactly."""
        outcomes = self.predict(plan)
        run = self.run(plan, reviewer)
        differences = compare(outcomes, run, plan)
        if differences:
            listed = "\n".join(f"- {d}" for d in differences)
            raise OracleMismatch(
                f"The real agent ({self.interrupt_mode}) disagrees with the oracle on {plan!r}:\n"
                f"{listed}\nRun timeline:\n{run.timeline()}",
                differences,
            )
        return run


def _reply_of(message: Any) -> tuple[Any, ...]:
    return (message.tool_call_id, message.name, message.content, message.status)


def _review_of(action: Any) -> tuple[Any, ...]:
    return (action.name, dict(action.args), action.description, tuple(action.allowed))


def compare(outcomes: Sequence[Outcome], run: Run, plan: RunPlan) -> list[str]:
    """Every way `run` differs from the oracle's `outcomes` for `plan` (empty: it agrees)."""
    from langchain_core.messages import AIMessage, ToolMessage

    found: list[str] = []
    last = outcomes[-1] if outcomes else Outcome()

    def differ(what: str, expected: Any, actual: Any) -> None:
        if expected != actual:
            found.append(f"{what}: expected {expected!r}, got {actual!r}")

    reviews = [_review_of(a) for o in outcomes for a in o.reviews]
    seen = [_review_of(a) for i in run.interrupts for a in i.actions]
    differ("reviews", reviews, seen)
    key = lambda e: (str(e[2]), e[0], repr(e[1]))  # noqa: E731
    expected_runs = sorted(
        ((e.name, dict(e.args), e.call_id) for o in outcomes for e in o.executed), key=key
    )
    actual_runs = sorted(
        ((e.name, dict(e.args), e.call_id) for e in run.executed if e.error is None), key=key
    )
    differ("executed tools", expected_runs, actual_runs)
    replies = [(r.tool_call_id, r.name, r.content, r.status) for o in outcomes for r in o.replies]
    actual_replies = [_reply_of(m) for m in run.messages if isinstance(m, ToolMessage)]
    kept = {reply[0] for reply in actual_replies}
    survivors = [r for r in replies if r[0] not in last.droppable or r[0] in kept]
    if actual_replies != survivors:  # LangGraph's lost-write race may drop droppable ones
        differ("tool messages", replies, actual_replies)
    finished = all(o.finished for o in outcomes)
    model_turns = len(outcomes) + (1 if finished else 0)
    differ("model turns", model_turns, sum(isinstance(m, AIMessage) for m in run.messages))
    error = run.error.exception if run.error is not None else None
    if not last.accepts(error):
        expected_error = last.error.describe() if last.error else None
        actual = f"{type(error).__name__}: {error}" if error is not None else None
        found.append(f"error: expected {expected_error}, got {actual}")
    pending = sorted(str(p) for p in last.pending)
    differ(
        "pending reviews",
        pending,
        sorted(str(a.tool_call_id) for p in run.pending for a in p.actions),
    )
    if finished and error is None:
        differ("final answer", plan.final, run.messages[-1].content if run.messages else None)
    return found
