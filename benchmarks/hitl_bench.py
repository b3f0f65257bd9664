"""How much hitl-sim costs on top of LangGraph, and whether it leaks.

One scenario throughout: a create_agent + HumanInTheLoopMiddleware (batched) agent on an
InMemorySaver; the model makes two calls in one turn (send_email, gated; read_file, not gated),
the reviewer approves, the model answers. The compiled graph and the fake model are built once and
reused; each run uses a fresh thread and a fresh script.

(a) bare: a hand-written LangGraph loop (invoke, read `__interrupt__`, resume with Command);
(b) simulate: the same through `hitl_sim.simulate` (default settings, frozen clock included);
(c) fuzz: Hypothesis examples per second through `FuzzAgent.run` + `hitl_sim.fuzzing.strategies`
    (FuzzAgent's defaults: `clock=False`, `durability="exit"`);
(d) memory: RSS growth over 5,000 consecutive `simulate` runs (after a warm-up), with each
    finished thread deleted from the saver as `FuzzAgent` does; the growth with every thread kept
    in the saver is printed too, for comparison.

(a), (b) and (c) are timed in paired rounds. A shared machine's speed swings by tens of percent
within seconds, far more than the overhead measured, while runs timed side by side see the same
speed; so each round interleaves (a) and (b) run by run (in mirrored order: a b b a ...), times 25
Hypothesis examples (c) right before or after them (alternately), and gives one ratio per kind
against the (a) of the same round. The verdicts are the medians of the 30 paired ratios. The
fastest and median round of each kind and its CPU time are printed too. The last three lines are
the verdicts: `overhead_ratio=<b/a>`, `fuzz_ratio=<examples per s / bare runs per s>`,
`memory_growth_mb=<MB>`.

    python benchmarks/hitl_bench.py            # full run (a few minutes)
    python benchmarks/hitl_bench.py --quick    # smoke run for CI (seconds; numbers are noisy)
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import HumanInTheLoopMiddleware  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.types import Command  # noqa: E402

from hitl_sim import approve, simulate  # noqa: E402
from hitl_sim.calls import Call  # noqa: E402
from hitl_sim.fuzzing.bench import FuzzAgent, PlannedTurn, RunPlan  # noqa: E402
from hitl_sim.fuzzing.strategies import decisions, tool_calls  # noqa: E402
from hitl_sim.models.chat import FunctionChatModel  # noqa: E402


@tool
def send_email(to: str, body: str) -> str:
    """Send an email."""
    return f"sent to {to}"


@tool
def read_file(path: str) -> str:
    """Read a file."""
    return f"contents of {path}"


TOOLS = [send_email, read_file]
INTERRUPT_ON = {"send_email": True}
CALLS = (
    Call("send_email", {"to": "bob", "body": "hi"}, "c1"),
    Call("read_file", {"path": "/a"}, "c2"),
)


def _script() -> list[AIMessage]:
    tool_calls = [
        {"name": c.name, "args": dict(c.args), "id": c.id, "type": "tool_call"} for c in CALLS
    ]
    return [AIMessage(content="", tool_calls=tool_calls), AIMessage(content="Done.")]


class Agent:
    """The compiled agent, its checkpointer, and a fake model whose script is swapped per run."""

    def __init__(self) -> None:
        self.script: list[AIMessage] = []
        self.model = FunctionChatModel(lambda messages, info: self.script.pop(0))
        self.saver = InMemorySaver()
        middleware = HumanInTheLoopMiddleware(INTERRUPT_ON)
        self.graph = create_agent(
            self.model, tools=TOOLS, middleware=[middleware], checkpointer=self.saver
        )
        self.threads = itertools.count()

    def fresh(self) -> str:
        self.script = _script()
        self.model.clear_requests()
        return f"bench-{next(self.threads)}"


def bare_run(agent: Agent) -> None:
    """(a) The loop a developer writes by hand."""
    config = {"configurable": {"thread_id": agent.fresh()}}
    result = agent.graph.invoke({"messages": [("user", "Please go ahead.")]}, config)
    while result.get("__interrupt__"):
        (pending,) = result["__interrupt__"]
        answers = [{"type": "approve"} for _ in pending.value["action_requests"]]
        result = agent.graph.invoke(Command(resume={"decisions": answers}), config)
    assert result["messages"][-1].content == "Done.", result
    agent.saver.delete_thread(config["configurable"]["thread_id"])


def simulate_run(agent: Agent, keep_thread: bool = False, clock: bool = True) -> None:
    """(b) The same through simulate() (defaults, or with clock=False)."""
    thread_id = agent.fresh()
    extra: dict[str, Any] = {} if clock else {"clock": False}
    run = simulate(agent.graph, "Please go ahead.", [approve()], thread_id=thread_id, **extra)
    assert run.status == "finished", run
    assert sorted(run.executed_names) == ["read_file", "send_email"], run
    if not keep_thread:
        agent.saver.delete_thread(thread_id)


def fuzz_examples(fuzz: FuzzAgent, count: int) -> tuple[int, float, float]:
    """(c) Hypothesis examples through FuzzAgent: the same scenario, arguments drawn per example.

    Returns how many examples ran, and the wall-clock and CPU seconds the whole `@given` test
    took (generation, Hypothesis's own bookkeeping and the runs).
    """
    ran = 0
    plans = st.builds(
        lambda gated, free, decision: RunPlan((PlannedTurn((gated, free), (decision,)),)),
        tool_calls([send_email], id="c1"),
        tool_calls([read_file], id="c2"),
        decisions(["approve"]),
    )

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(plan=plans)
    def run_example(plan: RunPlan) -> None:
        nonlocal ran
        run = fuzz.run(plan)
        assert run.status == "finished", run
        ran += 1

    started, cpu = time.perf_counter(), time.process_time()
    run_example()
    return ran, time.perf_counter() - started, time.process_time() - cpu


Measure = Callable[[], tuple[int, float, float]]


def _interleaved(
    runs: int, work: dict[str, Callable[[], None]]
) -> dict[str, tuple[int, float, float]]:
    """`runs` runs of each kind, interleaved run by run in mirrored order (a b, b a, ...) so
    that all see the same machine: per kind, (runs, wall-clock seconds, CPU seconds)."""
    totals = {name: [0.0, 0.0] for name in work}
    for index in range(runs):
        for name in list(work) if index % 2 == 0 else list(reversed(work)):
            started, cpu = time.perf_counter(), time.process_time()
            work[name]()
            totals[name][0] += time.perf_counter() - started
            totals[name][1] += time.process_time() - cpu
    return {name: (runs, wall, cpu) for name, (wall, cpu) in totals.items()}


@dataclass
class Timings:
    """Seconds per run of each kind, one entry per round (rounds are paired across kinds)."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]

    def add(self, name: str, measured: tuple[int, float, float]) -> None:
        count, seconds, cpu_seconds = measured
        self.wall.setdefault(name, []).append(seconds / count)
        self.cpu.setdefault(name, []).append(cpu_seconds / count)

    def paired_ratio(self, kind: str, base: str) -> float:
        """The median over rounds of kind/base, each timed in the same round."""
        pairs = zip(self.wall[kind], self.wall[base], strict=True)
        return statistics.median(seconds / base_seconds for seconds, base_seconds in pairs)


def _rounds(
    rounds: int, runs: int, singles: dict[str, Callable[[], None]], fuzz: Measure
) -> Timings:
    """Per round: the single runs interleaved, and the fuzz batch before or after them."""
    timings = Timings({}, {})
    for index in range(rounds):
        if index % 2:
            timings.add("fuzz", fuzz())
        for name, measured in _interleaved(runs, singles).items():
            timings.add(name, measured)
        if not index % 2:
            timings.add("fuzz", fuzz())
    return timings


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_growth(
    runs: int, keep_threads: bool, clock: bool = True, warm_up: int = 200
) -> tuple[float, float]:
    """RSS growth (MB) over `runs` simulate runs after a warm-up: (at the end, at the peak)."""
    agent = Agent()
    for _ in range(warm_up):
        simulate_run(agent, keep_thread=keep_threads, clock=clock)
    gc.collect()
    before = peak = _rss_mb()
    for index in range(runs):
        simulate_run(agent, keep_thread=keep_threads, clock=clock)
        if index % 100 == 0:
            peak = max(peak, _rss_mb())
    gc.collect()
    after = _rss_mb()
    return after - before, max(peak, after) - before


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (noisy numbers)")
    args = parser.parse_args(argv)
    rounds, runs, memory_runs, warm_up = (2, 3, 20, 5) if args.quick else (30, 25, 5000, 200)

    agent = Agent()
    fuzz = FuzzAgent(TOOLS, INTERRUPT_ON)
    for _ in range(max(warm_up // 10, 2)):  # warm-up: imports, caches, thread pools
        bare_run(agent)
        simulate_run(agent)
        simulate_run(agent, clock=False)
    fuzz_examples(fuzz, max(warm_up // 10, 2))

    singles: dict[str, Callable[[], None]] = {
        "bare": lambda: bare_run(agent),
        "simulate": lambda: simulate_run(agent),
        "simulate_unfrozen": lambda: simulate_run(agent, clock=False),
    }
    timings = _rounds(rounds, runs, singles, lambda: fuzz_examples(fuzz, runs))
    print("scenario: batched; send_email (gated) + read_file in one turn; approve; final answer")
    print(f"rounds={rounds} runs_per_round={runs}, paired; per run:")
    print("                               fastest round   median round    CPU (median)    vs (a)")
    labels = {
        "bare": "(a)  bare LangGraph loop",
        "simulate": "(b)  simulate() (defaults)",
        "simulate_unfrozen": "(b') simulate(clock=False)",
        "fuzz": "(c)  Hypothesis + FuzzAgent",
    }
    for name, label in labels.items():
        wall, cpu = timings.wall[name], timings.cpu[name]
        ratio = timings.paired_ratio(name, "bare")
        print(
            f"{label:30s} {min(wall) * 1e3:9.3f} ms    {statistics.median(wall) * 1e3:9.3f} ms"
            f"    {statistics.median(cpu) * 1e3:9.3f} ms    {ratio:.3f}"
        )

    growth, peak = memory_growth(memory_runs, keep_threads=False, warm_up=warm_up)
    kept_runs = max(memory_runs // 5, 50)
    kept, kept_peak = memory_growth(kept_runs, keep_threads=True, clock=False, warm_up=warm_up)
    print(
        f"(d)  RSS over {memory_runs} simulate() runs, each thread deleted after its run: "
        f"{growth:+.2f} MB at the end, {peak:+.2f} MB at the peak"
    )
    print(
        f"     for comparison, {kept_runs} runs keeping every thread in the "
        f"InMemorySaver: {kept:+.2f} MB (the saver's own storage, {kept_peak:+.2f} MB peak)"
    )
    print(f"overhead_ratio={timings.paired_ratio('simulate', 'bare'):.3f}")
    print(f"fuzz_ratio={timings.paired_ratio('bare', 'fuzz'):.3f}")
    print(f"memory_growth_mb={max(growth, peak):.2f}")


if __name__ == "__main__":
    main()
