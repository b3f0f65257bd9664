"""The keyword options of a run, declared once.

`simulate`, `asimulate`, `resume`, `aresume`, `recover`, `arecover` and the fixture's
`hitl_sim.simulate` all take these, typed with PEP 692 (`**options: Unpack[SimulateOptions]`), so a
type checker catches `simulate(graph, "go", max_resumez=3)` and a wrong value type; at run time
an unknown option is an `InvalidArgument` naming the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypedDict

from hitl_sim.errors import InvalidArgument

if TYPE_CHECKING:
    from hitl_sim.decisions import Decision
    from hitl_sim.driving.capture import Spy
    from hitl_sim.reviewing.reviewer import Responder

DEFAULT_START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
"""Where the frozen clock starts unless `clock=` says otherwise."""
MAX_RESUMES = 25
"""How many resumes a run may take before `TooManyResumes` (an approval loop)."""


class Graph(Protocol):
    """A compiled graph as the driver uses it: `create_agent(...)`, `create_deep_agent(...)`,
    `StateGraph(...).compile(...)`, or an app's wrapper with the same methods."""

    @property
    def invoke(self) -> Callable[..., Any]: ...

    @property
    def get_state(self) -> Callable[..., Any]: ...


GraphInput = str | Mapping[str, Any] | None
"""A str (the user's message), a dict of graph input, or None (answer what is pending)."""
ReviewerArg: TypeAlias = "Responder | Sequence[Decision] | Callable[..., Any] | None"
"""`reviewer=`: a `Reviewer` (any `Responder`), a list of decisions, a function, or None."""
Mode = Literal["invoke", "stream"]
Durability = Literal["sync", "async", "exit"]
Gated = Mapping[str, Sequence[str] | bool] | Collection[str]
"""`gated=`: tool names (every decision allowed) or tool -> allowed decision types."""
Redact = Iterable[str] | EllipsisType | None
"""`redact=`: the keys to mask; `...` the default; None masks nothing."""


class RunOptions(TypedDict, total=False):
    """The options of every run, new or continued."""

    mode: Mode
    """'invoke' (default) or 'stream' (`graph.stream(..., subgraphs=True)`, events recorded)."""
    gated: Gated | None
    """Tools the test declares gated wherever they run, on top of each agent's own config."""
    max_resumes: int
    """Resumes allowed before `TooManyResumes` (default 25)."""
    clock: datetime | str | bool | None
    """The frozen clock's start (default 2030-01-01T09:00Z); False or None: real time."""
    watch: Sequence[Spy[Any, Any]]
    """`Spy`s on plain Python side effects, recorded per resume."""
    expect_pending: bool
    """The run may end with interrupts nobody answered (an unavailable reviewer)."""
    rebuild: Callable[[], Any] | None
    """Build the graph anew before every resume (a restart on the same checkpointer)."""
    durability: Durability | None
    """LangGraph's durability for every invoke ('async' when None)."""
    redact: Redact
    """The keys whose values every output of the run masks."""
    trace: bool
    """Let LangSmith trace the run (off by default, whatever LANGSMITH_TRACING says)."""
    context: Any
    """The run context (`runtime.context`), checked against the graph's context schema."""


class SimulateOptions(RunOptions, total=False):
    """The options of a new run: `RunOptions` plus where it runs."""

    config: Mapping[str, Any] | None
    """The graph config (a `configurable.thread_id` in it names the thread)."""
    thread_id: str | None
    """The thread to run on (default: a fresh one)."""


RUN_DEFAULTS: RunOptions = {
    "mode": "invoke",
    "gated": None,
    "max_resumes": MAX_RESUMES,
    "clock": DEFAULT_START,
    "watch": (),
    "expect_pending": False,
    "rebuild": None,
    "durability": None,
    "redact": ...,
    "trace": False,
    "context": None,
}
SIMULATE_DEFAULTS: SimulateOptions = {"config": None, "thread_id": None, **RUN_DEFAULTS}


def with_defaults(
    options: Mapping[str, Any], defaults: Mapping[str, Any], who: str
) -> dict[str, Any]:
    """`options` over `defaults`, refusing a name that is not an option (for untyped callers)."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise InvalidArgument(
            f"Unknown option(s) {', '.join(map(repr, unknown))} for {who}. Expected its keyword "
            f"options: {', '.join(defaults)}."
        )
    return {**defaults, **options}
