"""AutoModeMiddleware (langchain 1.5) next to HumanInTheLoopMiddleware on a real create_agent:
a call the policy blocks after a human approved it is recorded as blocked (run.blocked, the
timeline, the audit log) and reported as approved_call_blocked, never as approved_call_dropped;
a call an approval middleware really drops is still caught."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip(
    "langchain.agents.middleware.auto_mode", reason="AutoModeMiddleware needs langchain >= 1.5"
)

from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import (  # noqa: E402
    AgentMiddleware,
    AutoModeMiddleware,
    HumanInTheLoopMiddleware,
)
from langchain_core.decisions import BaseDecisionModel, ClassifierResponse, NoulAnswer  # noqa: E402
from langchain_core.messages import ToolMessage  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from hitl_sim import (  # noqa: E402
    CheckFailed,
    ScriptedChatModel,
    ScriptExhausted,
    approve,
    asimulate,
    call,
    edit,
    reject,
    say,
    simulate,
)
from hitl_sim.checking.checks import violations  # noqa: E402
from hitl_sim.driving.policy import blocked_by_policy  # noqa: E402
from hitl_sim.models import FunctionDecisionModel, ScriptedDecisionModel, allow, block  # noqa: E402
from tests.agents import delete_file, send_email  # noqa: E402

GATES = {"delete_file": True}


def _agent(model, classifier, *, policy_first=False, extra=(), gates=GATES):
    policy = AutoModeMiddleware(tools=["delete_file"], classifier=classifier)
    gate = HumanInTheLoopMiddleware(interrupt_on=gates)
    middleware = [policy, gate] if policy_first else [gate, policy]
    return create_agent(
        model,
        tools=[delete_file, send_email],
        middleware=[*middleware, *extra],
        checkpointer=InMemorySaver(),
    )


def _model():
    return ScriptedChatModel([call("delete_file", path="/etc/hosts"), say("It was blocked.")])


@pytest.mark.parametrize("policy_first", [False, True], ids=["hitl_first", "policy_first"])
def test_a_call_approved_then_blocked_is_blocked_not_dropped(policy_first):
    classifier = ScriptedDecisionModel([block("system file")])
    agent = _agent(_model(), classifier, policy_first=policy_first)
    run = simulate(agent, "delete /etc/hosts", [approve(by="ann")])

    assert run.status == "finished" and run.executed == []
    (blocked,) = run.blocked
    assert (blocked.policy, blocked.name, dict(blocked.args), blocked.call_id) == (
        "AutoModeMiddleware",
        "delete_file",
        {"path": "/etc/hosts"},
        "call_1",
    )
    assert (blocked.probability, blocked.reason, blocked.resume) == (1.0, "system file", 1)
    assert blocked.message == (
        "The tool call `delete_file` was blocked because it was classified as risky "
        "(probability: 1.00). The tool was not executed."
    )
    assert [v.check for v in violations(run)] == ["approved_call_blocked"]
    classifier.assert_consumed()
    assert classifier.requests[0].tool_call == {
        "id": "call_1",
        "name": "delete_file",
        "args": {"path": "/etc/hosts"},
    }
    # the policy saw the conversation, including the approved call
    assert [m.type for m in classifier.requests[0].messages] == ["human", "ai"]


def test_the_violation_names_the_approval_and_the_block():
    agent = _agent(_model(), ScriptedDecisionModel([block("system file")]))
    run = simulate(agent, "delete /etc/hosts", [approve(by="ann")])
    with pytest.raises(CheckFailed) as failed:
        run.check()
    assert str(failed.value).split("\n\n")[0].splitlines()[1:] == [
        "1. [approved_call_blocked] The reviewer approved delete_file (call 'call_1') but "
        "AutoModeMiddleware then blocked it, so the human's approval did not take effect. If the "
        "policy is meant to overrule the reviewer, assert on run.blocked and pass "
        "approved_call_blocked=False.",
        "       decided: approve(by='ann') for delete_file(path='/etc/hosts') at interrupt #1 "
        "(batched, node 'HumanInTheLoopMiddleware.after_model') (resume 1)",
        "       blocked: delete_file(path='/etc/hosts') by AutoModeMiddleware (probability 1.00): "
        "system file (resume 1)",
        "Fix the agent, or switch a check off with run.check(<name>=False).",
    ]
    run.check(approved_call_blocked=False)  # a test where the policy is meant to overrule


def test_the_timeline_and_audit_log_show_the_block():
    agent = _agent(_model(), ScriptedDecisionModel([block("system file")]))
    run = simulate(agent, "delete /etc/hosts", [approve(by="ann")])
    lines = run.timeline().splitlines()
    start = next(i for i, line in enumerate(lines) if "blocked by AutoModeMiddleware" in line)
    assert lines[start : start + 3] == [
        "    +0s r1 blocked by AutoModeMiddleware (probability 1.00): system file",
        "               delete_file(path='/etc/hosts') did not run",
        "    +0s r1 model turn 2: says It was blocked.",
    ]
    (event,) = run.audit.of("blocked")
    assert event.to_dict() == {
        "seq": 4,
        "event": "blocked",
        "at": "2030-01-01T09:00:00Z",
        "thread": "thread-1",
        "resume": 1,
        "policy": "AutoModeMiddleware",
        "tool": "delete_file",
        "call": "call-1",
        "args": {"path": "/etc/hosts"},
        "probability": 1.0,
        "reason": "system file",
    }
    assert event.describe() == (
        "delete_file(path='/etc/hosts') blocked by AutoModeMiddleware, probability 1.0: system file"
    )


@pytest.mark.parametrize("policy_first", [False, True], ids=["hitl_first", "policy_first"])
def test_a_call_the_policy_allows_runs_and_passes_the_checks(policy_first):
    classifier = ScriptedDecisionModel([allow("the user asked for it")])
    run = simulate(_agent(_model(), classifier, policy_first=policy_first), "x", [approve()])
    assert run.executed_names == ["delete_file"] and run.blocked == []
    run.check()
    classifier.assert_consumed()


def test_a_rejected_call_never_reaches_the_policy():
    classifier = ScriptedDecisionModel([])
    run = simulate(_agent(_model(), classifier), "x", [reject("no")])
    assert run.executed == [] and run.blocked == [] and classifier.requests == []
    run.check()


def test_an_edited_call_is_classified_and_blocked_with_the_edited_arguments():
    classifier = ScriptedDecisionModel([block("still a system file")])
    run = simulate(_agent(_model(), classifier), "x", [edit(path="/etc/passwd")])
    assert classifier.requests[0].tool_call["args"] == {"path": "/etc/passwd"}
    assert dict(run.blocked[0].args) == {"path": "/etc/passwd"}
    assert [v.check for v in violations(run)] == ["approved_call_blocked"]


def test_a_block_without_a_human_is_recorded_and_is_no_violation():
    model = ScriptedChatModel(
        [
            [call("delete_file", path="/etc/a"), call("send_email", to="bob", body="hi")],
            say("Done."),
        ]
    )
    run = simulate(_agent(model, ScriptedDecisionModel([block()]), gates={}), "x")
    assert run.executed_names == ["send_email"]
    assert [(b.name, b.reason, b.resume) for b in run.blocked] == [("delete_file", None, 0)]
    run.check()


def test_a_batch_with_one_blocked_and_one_allowed_call():
    model = ScriptedChatModel(
        [[call("delete_file", path="/tmp/a"), call("delete_file", path="/etc/b")], say("Done.")]
    )
    # parallel calls are classified in whatever order their threads run: decide by argument
    classifier = FunctionDecisionModel(
        lambda request: (
            block("system") if request.tool_call["args"]["path"] == "/etc/b" else allow()
        )
    )
    run = simulate(_agent(model, classifier), "x", [approve(), approve()])
    assert [dict(e.args) for e in run.executed] == [{"path": "/tmp/a"}]
    assert [dict(b.args) for b in run.blocked] == [{"path": "/etc/b"}]
    found = violations(run)
    assert [v.check for v in found] == ["approved_call_blocked"]
    assert "call 'call_2'" in found[0].message


class SkipsApprovedCalls(AgentMiddleware):
    """The broken twin: a wrapper that answers an approved call with an error message of its own
    instead of running it (a truly dropped call, not a policy block)."""

    def wrap_tool_call(self, request, handler):
        call = request.tool_call
        return ToolMessage("Skipped.", tool_call_id=call["id"], name=call["name"], status="error")


def test_the_broken_twin_drops_the_approved_call_and_is_caught():
    classifier = ScriptedDecisionModel([allow()])
    agent = _agent(_model(), classifier, extra=[SkipsApprovedCalls()])
    run = simulate(agent, "x", [approve()])
    assert run.executed == [] and run.blocked == []
    assert [v.check for v in violations(run)] == ["approved_call_dropped"]


class RiskyEverything(BaseDecisionModel):
    """A decision model that is not hitl-sim's (a team's own fake)."""

    model: str = "risky-everything"

    @property
    def _provider(self):
        return "test"

    def _classify(self, state, questions):
        return ClassifierResponse(
            model=self.model, answers={"is_risky": NoulAnswer(type="noul", noul=0.93)}
        )


def test_a_block_by_another_decision_model_is_read_from_the_messages():
    run = simulate(_agent(_model(), RiskyEverything()), "x", [approve()])
    (blocked,) = run.blocked
    assert (blocked.probability, blocked.reason) == (0.93, None)
    assert [v.check for v in violations(run)] == ["approved_call_blocked"]
    assert "blocked by AutoModeMiddleware (probability 0.93)" in run.timeline()


def test_asimulate_records_the_block_too():
    agent = _agent(_model(), ScriptedDecisionModel([block("async")]))
    run = asyncio.run(asimulate(agent, "x", [approve()]))
    assert [(b.name, b.reason) for b in run.blocked] == [("delete_file", "async")]


def test_a_decision_model_that_runs_out_stops_the_run_naming_the_call():
    agent = _agent(_model(), ScriptedDecisionModel([]))
    with pytest.raises(ScriptExhausted) as raised:
        simulate(agent, "x", [approve()])
    assert raised.value.args == (
        "ScriptedDecisionModel ran out of decisions: it was asked for decision 1, about "
        "delete_file(path='/etc/hosts') [call_1], but the script has 0 decisions.\n"
        "Add a decision for it (block('reason') or allow()), or find out why the policy was "
        "asked again.",
    )
    assert "resume 1 (#1): Command(resume={'decisions': [approve]})" in raised.value.__notes__[-1]


def test_only_policy_messages_count_as_blocks():
    blocked = ToolMessage(
        "The tool call `x` was blocked because it was classified as risky (probability: 0.70). "
        "The tool was not executed.",
        tool_call_id="c",
        status="error",
    )
    assert blocked_by_policy(blocked) == ("AutoModeMiddleware", 0.7)
    assert blocked_by_policy(blocked.model_copy(update={"status": "success"})) is None
    assert blocked_by_policy(ToolMessage("Skipped.", tool_call_id="c", status="error")) is None


def test_scenario_file_verdicts():
    from hitl_sim.driving.policy import verdict_of
    from hitl_sim.errors import ScenarioError

    assert [verdict_of(v, "d") for v in ("allow", "block", {"block": "r", "probability": 0.7})] == [
        allow(),
        block(),
        block("r", probability=0.7),
    ]
    with pytest.raises(ScenarioError) as raised:
        verdict_of({"deny": "x"}, "options.decisions[0]")
    assert str(raised.value) == (
        "options.decisions[0]: a decision-model verdict is `allow`, `block`, or a mapping like "
        "{block: reason} (optionally with probability), got {'deny': 'x'}."
    )
