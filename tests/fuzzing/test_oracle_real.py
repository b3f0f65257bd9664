"""The pinned oracle cases, replayed on real agents: the oracle and the middleware agree."""

from __future__ import annotations

import pytest

from hitl_sim import approve, edit, reject, respond, unchecked
from hitl_sim.errors import InvalidArgument
from hitl_sim.fuzzing.bench import FuzzAgent, OracleMismatch, PlannedTurn, RunPlan
from hitl_sim.fuzzing.oracle import HitlConfig
from tests.fuzzing.test_oracle import D1, E1, E2, GATES, R1, R2, TOOLS

AGENTS = {mode: FuzzAgent(TOOLS, GATES, interrupt_mode=mode) for mode in ("batched", "per_call")}

CASES = {
    "approve": ([E1, R1], [approve()]),
    "edit": ([E1], [edit(to="alice", body="edited")]),
    "edit wrong types": ([E1], [edit({"to": 123})]),
    "reject respond reject": ([E1, E2, D1], [reject(), respond("bob is away"), reject("keep")]),
    "mixed five": ([R1, E1, R2, D1, E2], [approve(), reject("no delete"), reject()]),
    "too few": ([E1, R1, D1], [approve()]),
    "too many": ([E1, R1, D1], [approve(), approve(), approve()]),
    "disallowed respond": ([E1, R1, D1], [approve(), respond("x")]),
    "unknown type": ([E1, R1, D1], [unchecked({"type": "maybe"}), approve()]),
    "edit without edited_action": ([E1, R1], [unchecked({"type": "edit"})]),
    "respond without message": ([E1, R1], [unchecked({"type": "respond"})]),
    "no type": ([E1, R1], [unchecked({"message": "hmm"})]),
    "bare string": ([E1, R1], [unchecked("approve")]),
    "edit without args": (
        [E1, R1],
        [unchecked({"type": "edit", "edited_action": {"name": "send_email"}})],
    ),
    "edit to unknown tool": ([E1, R1], [edit("no_such_tool", {})]),
    "redirected edit": ([E1], [edit("delete_file", {"path": "/etc/passwd"})]),
    "unanswered": ([E1, D1], [approve()]),
    "edit with a null edited_action": (
        [E1, R1],
        [unchecked({"type": "edit", "edited_action": None})],
    ),
    "edit with an empty edited_action": (
        [E1, R1],
        [unchecked({"type": "edit", "edited_action": {}})],
    ),
    "respond with a number": ([E1, R1], [unchecked({"type": "respond", "message": 123})]),
    "reject with a list reason": ([E1, R1], [unchecked({"type": "reject", "message": ["x"]})]),
    "approve carrying an edit": (
        [E1],
        [
            unchecked(
                {"type": "approve", "edited_action": {"name": "send_email", "args": {"to": "eve"}}}
            )
        ],
    ),
}


@pytest.mark.parametrize("mode", ["batched", "per_call"])
@pytest.mark.parametrize("case", list(CASES))
def test_real_agent_matches_the_oracle(mode, case):
    calls, answers = CASES[case]
    plan = RunPlan((PlannedTurn(tuple(calls), tuple(answers)),))
    AGENTS[mode].verify(plan)


def test_a_mismatch_lists_every_difference():
    plan = RunPlan((PlannedTurn((E1,), (approve(),)),), final="Done.")
    agent = AGENTS["batched"]
    wrong = agent.predict(RunPlan((PlannedTurn((E1,), (reject(),)),)))
    run = agent.run(plan)
    from hitl_sim.fuzzing.bench import compare

    assert compare(wrong, run, plan) == [
        "executed tools: expected [], got [('send_email', {'to': 'bob', 'body': 'hi'}, 'e1')]",
        "tool messages: expected [('e1', 'send_email', 'User rejected the tool call for "
        "`send_email` with id e1. The tool was not executed. Do not retry this tool call unless "
        "the user explicitly requests it.', 'error')], got [('e1', 'send_email', 'sent to bob', "
        "'success')]",
    ]


def test_verify_raises_oracle_mismatch_with_the_differences():
    agent = FuzzAgent(TOOLS, GATES)
    agent.config = HitlConfig({}, TOOLS)  # an oracle that believes nothing is gated
    with pytest.raises(OracleMismatch) as excinfo:
        agent.verify(RunPlan((PlannedTurn((E1,), (approve(),)),)))
    assert excinfo.value.differences == [
        "reviews: expected [], got [('send_email', {'to': 'bob', 'body': 'hi'}, \"Tool execution "
        "requires approval\\n\\nTool: send_email\\nArgs: {'to': 'bob', 'body': 'hi'}\", "
        "('approve', 'edit', 'reject', 'respond'))]"
    ]


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_middleware_options_reach_the_oracle(mode):
    options = {"edit_notice": None, "description_prefix": "PLEASE REVIEW"}
    agent = FuzzAgent(TOOLS, GATES, interrupt_mode=mode, middleware_options=options)
    run = agent.verify(RunPlan((PlannedTurn((E1, R1), (edit(to="al"),)),)))
    assert run.interrupts[0].actions[0].description.startswith("PLEASE REVIEW\n\nTool: send_email")
    assert run.messages[2].content == "sent to al"  # no edit notice


def test_fuzz_agent_misuse_is_an_invalid_argument():
    with pytest.raises(InvalidArgument) as excinfo:
        FuzzAgent(TOOLS, GATES, agent="langgraph")  # type: ignore[arg-type]
    assert str(excinfo.value) == (
        "FuzzAgent(agent='langgraph'): expected 'create_agent' or 'deep_agent'."
    )
    with pytest.raises(InvalidArgument) as excinfo:
        FuzzAgent(TOOLS, GATES, interrupt_mode="per_call", agent="deep_agent")
    assert str(excinfo.value) == (
        "FuzzAgent(agent='deep_agent') builds its gates with deepagents, which has no "
        "interrupt_mode or middleware options (got interrupt_mode='per_call', "
        "middleware_options={}). Leave them unset."
    )
    with pytest.raises(InvalidArgument) as excinfo:
        AGENTS["batched"].run([])  # type: ignore[arg-type]
    assert str(excinfo.value) == "FuzzAgent.run() takes a RunPlan, got []."
