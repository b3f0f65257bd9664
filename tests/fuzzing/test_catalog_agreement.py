"""The oracle agrees with the real middleware on every catalog scenario it covers.

Each `create_agent` scenario of the built-in catalog (`scenarios/`) is run as the catalog runs it;
the model turns it made and the answers it sent are read back from the `Run` and replayed through
the oracle, and the run must match the prediction exactly. Scenarios the oracle does not cover are
listed by reason: deep agents and hand-written graphs (`factory`), multi-step scenarios (`then:`),
tools that interrupt or raise, and scenarios whose answer `simulate` refuses to send.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim.calls import Call
from hitl_sim.catalog import catalog_dir
from hitl_sim.driving.gates import HITL_NODE
from hitl_sim.fuzzing.bench import PlannedTurn, RunPlan, compare
from hitl_sim.fuzzing.oracle import HitlConfig, predict
from hitl_sim.run import Run
from hitl_sim.scenarios.build import build_agent, build_model, build_tools
from hitl_sim.scenarios.loader import load_scenarios
from hitl_sim.scenarios.runner import run_scenario
from hitl_sim.scenarios.schema import Scenario

SCENARIOS = [s for path in sorted(catalog_dir().glob("*.yaml")) for s in load_scenarios(path)]


def _not_covered(scenario: Scenario) -> str | None:
    if scenario.agent.kind != "create_agent":
        return f"agent kind {scenario.agent.kind}"
    if scenario.then:
        return "multi-step (then:)"
    if scenario.agent.interrupt_before or scenario.agent.interrupt_after:
        return "static breakpoints"
    if any(t.asks is not None or t.raises is not None for t in scenario.agent.tools.values()):
        return "a tool that interrupts or raises"
    if getattr(scenario.reviewer, "kind", None) == "chat":
        return "the app makes its own graph calls (a chat reply may be sent as new input)"
    return None


COVERED = [s for s in SCENARIOS if _not_covered(s) is None]


def _middleware(scenario: Scenario):
    graph = build_agent(scenario, build_model(scenario), InMemorySaver())
    node = graph.nodes.get(HITL_NODE)
    return node.bound.func.__self__ if node is not None else None


def _turns(run: Run, config: HitlConfig) -> list[PlannedTurn]:
    """The turns the model made and the payloads sent for them (None: left unanswered)."""
    turns = []
    for request in run.model_requests:
        if request.response is None or not request.response.tool_calls:
            continue
        calls = tuple(Call.of(c) for c in request.response.tool_calls)
        order = {c.id: n for n, c in enumerate(calls)}
        sent = [d for d in run.decisions if d.action is not None and d.action.tool_call_id in order]
        if config.interrupt_mode == "per_call":
            sent.sort(key=lambda d: order[d.action.tool_call_id])
        reviewed = [a for i in run.interrupts for a in i.actions if a.tool_call_id in order]
        answered = tuple(d.payload for d in sent) if sent or not reviewed else None
        turns.append(PlannedTurn(calls, answered))
    return turns


def test_the_oracle_covers_most_of_the_catalog():
    assert len(COVERED) >= 25, [s.where for s in COVERED]


@pytest.mark.parametrize("scenario", COVERED, ids=lambda s: Path(s.where).name)
def test_catalog_scenario_matches_the_oracle(scenario):
    result = run_scenario(scenario)
    if not result.runs:
        assert scenario.expect.raises is not None, result.failures
        pytest.skip("simulate refused to send the answer (checked by the scenario itself)")
    run = result.runs[0]
    middleware = _middleware(scenario)
    assert middleware is not None, "a create_agent scenario without HumanInTheLoopMiddleware"
    config = HitlConfig.of(middleware, list(build_tools(scenario.agent.tools).values()))
    turns = _turns(run, config)
    final = run.messages[-1].content if run.messages else ""
    plan = RunPlan(tuple(turns), final=final if isinstance(final, str) else "")
    outcomes = []
    for turn in turns:
        outcomes.append(predict(config, turn.calls, turn.decisions and list(turn.decisions)))
        if not outcomes[-1].finished:
            break
    assert compare(outcomes, run, plan) == []
