"""The record of one simulated run: what the model was asked, what paused, what the reviewer
decided, which tools really ran, and how it ended.

The driver (`hitl_sim.driving`) fills a `Run`; checks (`hitl_sim.checking`), the audit log and
snapshots read it. Every record carries `resume`: 0 for the first invocation, k for the k-th
`Command(resume=...)`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, Unpack

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage

    from hitl_sim.checking.checks import RunCheckOptions
    from hitl_sim.decisions import Decision
    from hitl_sim.interrupts import ActionRequest, PendingInterrupt
    from hitl_sim.normalise import Redactor
    from hitl_sim.reporting.audit_log import AuditLog

RunStatus = Literal["finished", "pending", "failed"]
StepKind = Literal[
    "model_turn", "interrupt", "decision", "resume", "tool", "blocked", "error", "finish"
]


@dataclass(frozen=True)
class ModelRequest:
    """One call to a chat model: what it was sent and what it answered.

    The one record of a model call: `run.model_requests` holds every call of a run (seen through
    LangChain's callbacks, so a real model's too), and a fake model's `.requests` the calls made
    to that model.
    """

    turn: int
    """1-based count of this agent's model calls (in `run.model_requests`: in the run; in a fake
    model's `.requests`: to that model). For a fake model it is the script turn that answered."""
    agent: str | None
    """`lc_agent_name` of the calling agent (a deep agent's subagent name), None when unnamed."""
    messages: tuple[BaseMessage, ...]
    tools: tuple[str, ...]
    """Names of the tools bound for this call."""
    tool_choice: Any = None
    response: AIMessage | None = None
    """None when the model raised instead of answering."""
    resume: int | None = None
    """The resume of the run the call was made in (0: the first invoke); None in a fake model's
    `.requests`, which knows no run."""

    @property
    def label(self) -> str:
        """'turn 2', or 'turn 2 of agent 'researcher'': how messages name this call."""
        return f"turn {self.turn}" + (f" of agent {self.agent!r}" if self.agent else "")


@dataclass(frozen=True)
class ToolExecution:
    """A tool that really ran (seen through LangChain callbacks, not through messages)."""

    name: str
    args: Mapping[str, Any]
    call_id: str | None
    result: Any
    error: str | None
    resume: int
    agent: str | None = None


PolicyNotes: TypeAlias = dict[str, tuple[str | None, Mapping[str, Any]]]
"""Tool call id -> (scripted reason, arguments classified)."""

POLICY_NOTES: ContextVar[PolicyNotes | None] = ContextVar("hitl_sim_policy_notes", default=None)
"""Where a hitl-sim decision model notes each call it classified, while the driver records a
run (the driver sets it, `hitl_sim.models.decision` writes it): what a `PolicyBlock` carries."""


@dataclass(frozen=True)
class PolicyBlock:
    """A tool call a policy middleware refused to run: langchain 1.5's `AutoModeMiddleware`
    answered it with its "blocked because it was classified as risky" error ToolMessage, so the
    tool never ran (whatever a human decided before)."""

    policy: str
    """The middleware that blocked it: 'AutoModeMiddleware'."""
    name: str
    args: Mapping[str, Any]
    """The arguments the policy was shown (after a reviewer's edit)."""
    call_id: str | None
    message: str
    """The ToolMessage the model got instead of the tool's result."""
    probability: float | None
    """The decision model's risk probability, as the message states it."""
    reason: str | None
    """The scripted reason (`block("...")` of a hitl-sim decision model), else None."""
    resume: int
    agent: str | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """One decision the scripted reviewer gave, and the payload actually sent for it."""

    interrupt: PendingInterrupt
    action: ActionRequest | None
    """The action request answered (None for raw interrupts and breakpoints)."""
    decision: Decision
    payload: Any
    resume: int
    """The resume that carried it."""
    at: datetime
    """Clock time when the reviewer answered (after its latency)."""


@dataclass(frozen=True)
class RunError:
    """An exception the graph raised, kept instead of lost."""

    exception: BaseException
    resume: int
    node: str | None
    resumable: bool
    """Whether the thread still has work pending that a corrected resume could finish."""
    poisoned: bool = False
    """A bad batched answer stored on the thread: every plain re-resume re-raises it."""
    tool: str | None = None
    """The tool whose own exception this is (not the answer's): `recover()` retries the failed
    task with the answer LangGraph stored, without asking again."""
    lost: tuple[ToolExecution, ...] = ()
    """Tools that ran in the failed step but whose result the thread did not keep."""

    @property
    def type(self) -> str:
        return type(self.exception).__name__

    @property
    def message(self) -> str:
        return str(self.exception)


@dataclass(frozen=True)
class SideEffect:
    """One call of a function watched with `hitl_sim.Spy` (a plain Python side effect)."""

    name: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    resume: int


@dataclass(frozen=True)
class ResumeRecord:
    """One resume the driver sent: which interrupts it answered and how."""

    resume: int
    answers: tuple[int, ...]
    """The `seq` numbers of the interrupts it answered."""
    value: Any
    """The `Command(resume=...)` value; None for `invoke(None)` past a static breakpoint."""
    update: Any = None
    """State values written with `update_state` first (a breakpoint `update(...)` decision, or
    None after a poisoned answer is cleared)."""
    how: str = "command"
    """'command' (`Command(resume=value)`), 'continue' (`invoke(None)`), 'recover'
    (`update_state(config, None)` then `Command(resume=value)`), or 'retry' (`invoke(None)` after
    a tool's own failure: LangGraph re-runs the failed task with the answer it stored)."""


@dataclass(frozen=True)
class StreamEvent:
    """One chunk of `graph.stream(..., subgraphs=True)` in `mode="stream"` runs."""

    namespace: tuple[str, ...]
    """() for the graph itself, e.g. ('tools:<task id>',) inside a deep agent's subagent."""
    mode: str
    """The stream mode that produced it: 'updates' or 'custom'."""
    data: Any
    resume: int


@dataclass(frozen=True)
class Step:
    """One line of the run's timeline."""

    kind: StepKind
    resume: int
    record: Any
    at: datetime


@dataclass(frozen=True)
class AgentGates:
    """The HITL configuration of one agent in the graph."""

    agent: str | None
    """The subagent's name, or None for the graph itself."""
    mode: str | None
    """The middleware's `interrupt_mode`: 'batched' or 'per_call'; None without a middleware."""
    gates: Mapping[str, tuple[str, ...]]
    conditional: frozenset[str] = frozenset()
    """Gated tools with a `when=` predicate: a call it lets through is not reviewed, by design."""
    tools: tuple[str, ...] = ()
    """The names of the agent's own tools (its `tools` node), sorted."""
    middleware: tuple[str, ...] = ()
    """The class names of the agent's middleware instances, in node order."""

    @property
    def ungated(self) -> tuple[str, ...]:
        """The agent's tools that no gate of its own names (a `when=` gate counts as a gate)."""
        return tuple(tool for tool in self.tools if tool not in self.gates)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Gate names that name none of the agent's tools (e.g. a typo in `interrupt_on`)."""
        return tuple(gate for gate in self.gates if gate not in self.tools)


@dataclass
class Run:
    """Everything that happened in one simulated run."""

    thread_id: str
    config: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    interrupts: list[PendingInterrupt] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    executed: list[ToolExecution] = field(default_factory=list)
    blocked: list[PolicyBlock] = field(default_factory=list)
    """Calls a policy middleware (AutoModeMiddleware) refused to run, read from the messages."""
    lost_results: list[ToolExecution] = field(default_factory=list)
    """Tools that ran in a step that then failed, and whose result the thread did not keep (its
    write was lost, e.g. with `durability="exit"`): retrying that step runs them again."""
    model_requests: list[ModelRequest] = field(default_factory=list)
    final_state: dict[str, Any] = field(default_factory=dict)
    pending: list[PendingInterrupt] = field(default_factory=list)
    _error: RunError | None = field(default=None, repr=False)
    side_effects: list[SideEffect] = field(default_factory=list)
    stream_events: list[Any] = field(default_factory=list)
    gated: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Tool name -> allowed decisions: what the test declared plus the agent's own HITL config."""
    expect_pending: bool = False
    """The test said interrupts may be left unanswered (an unavailable reviewer)."""
    unused_decisions: list[Decision] = field(default_factory=list)
    """Scripted decisions the reviewer still held when the run ended."""
    agent_gates: dict[str | None, AgentGates] = field(default_factory=dict)
    """Each agent's own HITL config (None: the graph itself; a deep agent's subagent by name): a
    call is judged by the gates of the agent that made it plus the tools only `gated=` names."""
    graph_name: str | None = None
    """The graph's own name (`create_agent(name=...)`): records made by the graph itself carry
    it as their agent, so `gates_of_agent` reads it as the graph's own (None) entry."""
    declared_gates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """What the test itself declared with `gated=` (tool -> allowed decisions): gated wherever
    the call runs, whatever each agent's own config says."""
    known_tools: frozenset[str] = frozenset()
    """The tool names hitl-sim found in the graph before it ran (its `ToolNode`s, subgraphs,
    subagents, agents its tools call: `hitl_sim.driving.gates.graph_tools`)."""
    checked: bool = False
    """`check()` was called on this run (the pytest plugin then skips its teardown check)."""
    redact: frozenset[str] | None = None
    """The keys whose values every output of the run masks (`simulate(redact=...)`); None: the
    default (`hitl_sim.normalise.default_redacted()` when the run was made)."""
    secret_values: list[str] = field(default_factory=list)
    """Values masked wherever they appear in the run's outputs, whatever key holds them: e.g. a
    keystroke a front end typed with `secret: true`, which an app may echo in its answer."""
    _error_read: RunError | None = field(default=None, repr=False, compare=False)

    @property
    def error(self) -> RunError | None:
        """The exception the graph raised (None when it did not).

        Reading it from the test's own code counts as having looked at the failure: the
        `hitl_sim` fixture then lets a failed run pass (hitl-sim's own reads do not count)."""
        if self._error is not None and not _internal(sys._getframe(1)):
            self._error_read = self._error
        return self._error

    @error.setter
    def error(self, value: RunError | None) -> None:
        self._error = value

    @property
    def error_inspected(self) -> bool:
        """The test read `run.error` since the run last failed (what the fixture accepts as
        the test having seen the failure)."""
        return self._error is not None and self._error_read is self._error

    @property
    def status(self) -> RunStatus:
        if self._error is not None:
            return "failed"
        return "pending" if self.pending else "finished"

    def gates_of_agent(self, agent: str | None) -> AgentGates | None:
        """The HITL config of the agent a record names (the graph's own under its name too).

        A subagent named like the graph (`create_deep_agent(name="cleaner", subagents=[{"name":
        "cleaner", ...}])`) cannot be told from it by name: its records are judged by the gates of
        both, merged, so neither agent's gates are lost."""
        own = self.agent_gates.get(agent)
        graph = self.agent_gates.get(None)
        if agent is None or agent != self.graph_name or graph is None:
            return own
        if own is None:
            return graph
        gates = {
            tool: tuple(dict.fromkeys((*graph.gates.get(tool, ()), *allowed)))
            for tool, allowed in own.gates.items()
        }
        gates.update({tool: a for tool, a in graph.gates.items() if tool not in gates})
        conditional = (own.conditional | graph.conditional) - {
            tool for one in (own, graph) for tool in one.gates if tool not in one.conditional
        }
        return AgentGates(
            agent,
            own.mode or graph.mode,
            gates,
            frozenset(conditional),
            tuple(sorted({*own.tools, *graph.tools})),
            (*graph.middleware, *own.middleware),
        )

    @property
    def ungated_tools(self) -> dict[str | None, tuple[str, ...]]:
        """Each agent's tools that its own HITL config never gates (None: the graph itself; a
        deep agent's subagent by name; agents that gate all their tools are left out). A tool
        here runs without review unless the test's `gated=` names it."""
        return {agent: own.ungated for agent, own in self.agent_gates.items() if own.ungated}

    @property
    def tools_seen(self) -> frozenset[str]:
        """Every tool name the run knows of: the tools found in the graph before it ran
        (`known_tools`), the tools bound to each model call, and the calls that ran, were put
        to the reviewer or were blocked."""
        seen = set(self.known_tools)
        seen.update(tool for request in self.model_requests for tool in request.tools)
        seen.update(execution.name for execution in self.executed)
        seen.update(action.name for pending in self.interrupts for action in pending.actions)
        seen.update(block.name for block in self.blocked)
        return frozenset(seen)

    @property
    def unmatched_gated(self) -> tuple[str, ...]:
        """`gated=` names that no tool matched in a finished run: none of `tools_seen` (not a
        tool found in the graph, bound to a model, run, reviewed or blocked). Such a name gates
        nothing, so the tool it meant (a typo: 'delet_file') ran unjudged. Empty while the run
        is pending or failed (the tool may come later). A graph whose tools are all known before
        it runs refuses such a name up front (`UnknownName`); this is what is left for graphs
        whose nodes call plain functions."""
        if self.status != "finished":
            return ()
        seen = self.tools_seen
        return tuple(tool for tool in self.declared_gates if tool not in seen)

    @property
    def ran_before_review(self) -> list[ToolExecution]:
        """Tool executions that ran while a gated call of the same model turn still waited for
        the reviewer (per_call mode runs ungated siblings first; batched mode reviews the whole
        turn before any tool runs). `run.check(all_or_nothing=True)` makes them violations."""
        from hitl_sim.order import ran_before_review

        return [execution for execution, _ in ran_before_review(self)]

    @property
    def messages(self) -> list[BaseMessage]:
        return list(self.final_state.get("messages", []))

    @property
    def executed_names(self) -> list[str]:
        return [execution.name for execution in self.executed]

    def check(self, **options: Unpack[RunCheckOptions]) -> None:
        """Raise `CheckFailed` listing every safety violation, with its evidence."""
        from hitl_sim.checking.checks import check

        check(self, **options)

    def timeline(self) -> str:
        """The run as a readable timeline: what a failing assertion shows."""
        from hitl_sim.timeline import render

        return render(self)

    @property
    def audit(self) -> AuditLog:
        """Who approved what, when, and what ran: normalised, redacted, deterministic."""
        from hitl_sim.reporting.audit_log import AuditLog

        return AuditLog.from_run(self)

    def __str__(self) -> str:
        return self.timeline()

    def __repr__(self) -> str:
        """Short and secret-free (pytest prints it under a failed assertion)."""
        return (
            f"<Run on thread {self.thread_id!r}: {self.status}, {len(self.steps)} steps; "
            "print(run) for its timeline>"
        )

    def __post_init__(self) -> None:
        if self.redact is None:
            from hitl_sim.normalise import default_redacted

            self.redact = default_redacted()
        for collected in _COLLECTORS:
            collected.append(self)

    def redactor(self) -> Redactor:
        """The redactor of every output of this run, holding every secret the run saw."""
        from hitl_sim.normalise import Redactor

        found = Redactor(self.redact)
        found.learn(self)
        return found


_COLLECTORS: list[list[Run]] = []


@contextmanager
def collect_runs() -> Iterator[list[Run]]:
    """The runs made inside the block (the pytest plugin masks their secrets in its report)."""
    made: list[Run] = []
    _COLLECTORS.append(made)
    try:
        yield made
    finally:
        _COLLECTORS[:] = [other for other in _COLLECTORS if other is not made]


def _internal(frame: Any) -> bool:
    """Whether `frame` runs hitl-sim's own code (whose reads of `run.error` do not count)."""
    name = str(frame.f_globals.get("__name__", ""))
    return name == "hitl_sim" or name.startswith("hitl_sim.")
