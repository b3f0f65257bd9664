"""What a user's type checker must catch (run by `nox -s typing`: `mypy --strict` with
`warn_unused_ignores`, so each `type: ignore` below fails the session if the misuse it marks
stops being an error).

Never executed: it only has to type-check.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from hitl_sim import HitlSim, Reviewer, Run, approve, recover, resume, simulate
from hitl_sim.checking import violations

Agent = CompiledStateGraph[Any, Any, Any, Any]


def misuse(graph: Agent, run: Run, sim: HitlSim) -> None:
    simulate(object(), 123, 42)  # type: ignore[arg-type]
    simulate(graph, "go", max_resumez=3)  # type: ignore[call-arg]
    simulate(graph, "go", max_resumes="3")  # type: ignore[arg-type]
    simulate(graph, "go", mode="batch")  # type: ignore[arg-type]
    resume(graph, run, [approve()], clok=False)  # type: ignore[call-arg]
    recover(run, graph, None, mood="stream")  # type: ignore[call-arg]
    run.check(ran_twicee=False)  # type: ignore[call-arg]
    run.check(ran_twice="no")  # type: ignore[arg-type]
    violations(run, unapproved_cal=False)  # type: ignore[call-arg]
    sim.simulate(graph, "go", thread="t1")  # type: ignore[call-arg]


def correct_use(graph: Agent, run: Run, sim: HitlSim) -> None:
    simulate(graph, "go", [approve()], max_resumes=3, mode="stream", clock=False)
    simulate(graph, {"messages": []}, Reviewer([approve()]))
    simulate(graph, None, lambda interrupt, run: approve(), thread_id="t1")
    resume(graph, run.thread_id, [approve()], clock=False)
    recover(run, graph, None, allow_rerun=True, durability="exit")
    run.check(ran_twice=False, app_audit=[])
    violations(run, unapproved_call=False)
    sim.simulate(graph, "go", thread_id="t1")
