"""Cross-checking the application's own audit trail against the decisions really given."""

from __future__ import annotations

import json
import logging
from typing import Any, TypedDict

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from hitl_sim import (
    CheckFailed,
    ScriptedChatModel,
    answer,
    approve,
    call,
    edit,
    reject,
    say,
    simulate,
)
from hitl_sim.checking import AuditMismatch, capture_log, cross_check
from hitl_sim.checking.app_audit import AppAudit, app_record
from hitl_sim.errors import InvalidArgument
from tests.agents import delete_file, send_email

AUDIT = logging.getLogger("hitl_audit")


class AuditedHITL(HumanInTheLoopMiddleware):
    """An application's HITL middleware that logs every decision it applies."""

    @staticmethod
    def _record(decision: dict[str, Any], tool_call: Any) -> dict[str, Any] | None:
        ran = decision.get("edited_action") or tool_call
        return {"tool": tool_call["name"], "decision": decision["type"], "args": ran["args"]}

    @classmethod
    def _process_decision(cls, decision, tool_call, config):  # type: ignore[override]
        record = cls._record(decision, tool_call)
        if record is not None:
            AUDIT.info(record)
        return HumanInTheLoopMiddleware._process_decision(decision, tool_call, config)


class ForgetsRejections(AuditedHITL):
    @staticmethod
    def _record(decision, tool_call):
        if decision["type"] == "reject":
            return None
        return AuditedHITL._record(decision, tool_call)


class LogsTheModelsArgs(AuditedHITL):
    @staticmethod
    def _record(decision, tool_call):
        return {"tool": tool_call["name"], "decision": decision["type"], "args": tool_call["args"]}


class LogsTwice(AuditedHITL):
    @classmethod
    def _process_decision(cls, decision, tool_call, config):  # type: ignore[override]
        AUDIT.info(cls._record(decision, tool_call))
        return super()._process_decision(decision, tool_call, config)


def run_with(middleware_class):
    graph = create_agent(
        ScriptedChatModel(
            [
                [call("delete_file", path="/srv/a"), call("send_email", to="ops", body="hi")],
                say("done"),
            ]
        ),
        tools=[send_email, delete_file],
        middleware=[middleware_class(interrupt_on={"send_email": True, "delete_file": True})],
        checkpointer=InMemorySaver(),
    )
    with capture_log("hitl_audit") as records:
        run = simulate(graph, "clean up", reviewer=[reject("backup first"), edit(to="team")])
    return run, records


def test_a_complete_audit_trail_passes():
    run, records = run_with(AuditedHITL)
    assert [app_record(r) for r in records] == [
        {"tool": "delete_file", "decision": "reject", "args": {"path": "/srv/a"}},
        {"tool": "send_email", "decision": "edit", "args": {"to": "team", "body": "hi"}},
    ]
    assert cross_check(run, records, args="args") == []
    run.check(app_audit=AppAudit(records, args="args"))


def test_a_decision_the_application_did_not_record_is_reported():
    run, records = run_with(ForgetsRejections)
    found = cross_check(run, records)
    assert [m.kind for m in found] == ["unrecorded_decision"]
    assert found[0].message == (
        "The application's audit trail has no record of reject('backup first') for delete_file "
        "(interrupt #1 (batched, node 'ForgetsRejections.after_model')). Expected a "
        "record with tool='delete_file', decision='reject'; it logged 1 decision record(s):\n"
        "- {'args': {'body': 'hi', 'to': 'team'}, 'decision': 'edit', 'tool': 'send_email'}"
    )
    with pytest.raises(CheckFailed) as failed:
        run.check(app_audit=records)
    assert [v.check for v in failed.value.violations] == ["unrecorded_decision"]
    assert "[unrecorded_decision] The application's audit trail has no record of" in str(
        failed.value
    )


def test_a_decision_recorded_with_the_wrong_arguments_is_reported():
    run, records = run_with(LogsTheModelsArgs)
    assert cross_check(run, records) == []  # type and tool are right
    found = cross_check(run, records, args="args")
    assert found == [
        AuditMismatch(
            "misrecorded_decision",
            "The application recorded edit(to='team') for send_email (interrupt #1 (batched, "
            "node 'LogsTheModelsArgs.after_model')) wrongly: args: expected "
            "{'to': 'team', 'body': 'hi'}, recorded {'to': 'ops', 'body': 'hi'}. Its record: "
            "{'args': {'body': 'hi', 'to': 'ops'}, 'decision': 'edit', 'tool': 'send_email'}",
            {
                "expected": {
                    "args": {"body": "hi", "to": "team"},
                    "decision": "edit",
                    "tool": "send_email",
                },
                "record": {
                    "args": {"body": "hi", "to": "ops"},
                    "decision": "edit",
                    "tool": "send_email",
                },
            },
        )
    ]


def test_a_decision_recorded_twice_is_reported_as_made_up():
    run, records = run_with(LogsTwice)
    found = cross_check(run, records)
    assert [m.kind for m in found] == ["unexpected_record", "unexpected_record"]
    assert found[0].message.startswith(
        "The application recorded a decision no reviewer gave: "
        "{'args': {'path': '/srv/a'}, 'decision': 'reject', 'tool': 'delete_file'}. "
        "Decisions given: [\"reject('backup first') for delete_file"
    )


def test_a_wrong_decision_word_is_reported_and_synonyms_are_read():
    run, _ = run_with(AuditedHITL)
    good = [
        {"tool": "delete_file", "decision": "Denied"},
        {"tool": "send_email", "decision": "modified"},
    ]
    assert cross_check(run, good) == []
    bad = [
        {"tool": "delete_file", "decision": "approved"},
        {"tool": "send_email", "decision": "edited"},
    ]
    found = cross_check(run, bad)
    assert [m.kind for m in found] == ["misrecorded_decision"]
    assert "wrongly: decision: expected 'reject', recorded 'approved'." in found[0].message


def test_field_names_are_configurable_and_other_log_lines_are_ignored():
    run, _ = run_with(AuditedHITL)
    records = [
        {"event": "startup"},
        {"action": "delete_file", "outcome": "rejected", "why": "backup first"},
        {"action": "send_email", "outcome": "edited"},
    ]
    assert cross_check(run, records, tool="action", decision="outcome", message="why") == []
    wrong_reason = [dict(records[1], why="no reason"), records[2]]
    found = cross_check(run, wrong_reason, tool="action", decision="outcome", message="why")
    assert "why: expected 'backup first', recorded 'no reason'" in found[0].message


def test_log_records_give_their_dict_json_message_or_extra_fields():
    with capture_log("hitl_audit") as records:
        AUDIT.info({"tool": "a", "decision": "approve"})
        AUDIT.info(json.dumps({"tool": "b", "decision": "reject"}))
        AUDIT.info("decision made", extra={"tool": "c", "decision": "edit"})
        AUDIT.info("plain text line")
    assert [app_record(r) for r in records] == [
        {"tool": "a", "decision": "approve"},
        {"tool": "b", "decision": "reject"},
        {"tool": "c", "decision": "edit"},
        {},
    ]


def test_capture_log_lowers_the_level_for_the_block_only():
    logger = logging.getLogger("hitl_audit.capture_test")
    logger.setLevel(logging.WARNING)
    with capture_log("hitl_audit.capture_test") as records:
        logger.info("seen")
    logger.info("not seen")
    assert [r.getMessage() for r in records] == ["seen"]
    assert logger.level == logging.WARNING
    assert logger.handlers == []


class Request(TypedDict, total=False):
    tool: str
    args: dict[str, Any]
    result: str


def approval_graph(audited_user):
    """The seed's raw style: a node asks with interrupt() and logs the answer itself."""

    def approval(state: Request) -> Request:
        reply = interrupt({"tool": state["tool"], "args": state["args"]})
        AUDIT.info(
            {"tool": state["tool"], "decision": reply["decision"], "user_id": audited_user(reply)}
        )
        return {"result": "ran" if reply["decision"] == "approve" else "skipped"}

    builder = StateGraph(Request)
    builder.add_node("approval", approval)
    builder.add_edge(START, "approval")
    builder.add_edge("approval", END)
    return builder.compile(checkpointer=InMemorySaver())


def raw_run(audited_user):
    graph = approval_graph(audited_user)
    with capture_log() as records:
        run = simulate(
            graph,
            {"tool": "wire_money", "args": {"amount": 500}},
            reviewer=[answer({"decision": "approve", "user_id": "cfo"}, by="cfo")],
        )
    return run, records


def test_raw_interrupt_answers_are_cross_checked_by_the_payloads_tool():
    run, records = raw_run(lambda reply: reply["user_id"])
    assert run.final_state["result"] == "ran"
    assert cross_check(run, records, by="user_id") == []
    run.check(app_audit=AppAudit(records, by="user_id"))


def test_a_raw_app_that_records_the_wrong_reviewer_is_caught():
    run, records = raw_run(lambda reply: "system")
    found = cross_check(run, records, by="user_id")
    assert [m.kind for m in found] == ["misrecorded_decision"]
    assert "user_id: expected 'cfo', recorded 'system'" in found[0].message


def test_an_app_audit_that_is_not_records_is_a_usage_error():
    run, _ = raw_run(lambda reply: reply["user_id"])
    with pytest.raises(InvalidArgument) as error:
        run.check(app_audit="hitl_audit")
    assert str(error.value) == (
        "app_audit='hitl_audit' is not an audit trail. Pass the records the application logged "
        "(a list of dicts or logging.LogRecord, e.g. from capture_log('hitl_audit')), or "
        "AppAudit(records, by=..., args=...) to name their fields."
    )


def test_approve_is_checked_against_the_models_arguments():
    graph = create_agent(
        ScriptedChatModel([call("send_email", to="ops", body="hi"), say("ok")]),
        tools=[send_email],
        middleware=[AuditedHITL(interrupt_on={"send_email": True})],
        checkpointer=InMemorySaver(),
    )
    with capture_log() as records:
        run = simulate(graph, "mail", reviewer=[approve()])
    assert cross_check(run, records, args="args") == []
    forged = [{"tool": "send_email", "decision": "approve", "args": {"to": "x", "body": "hi"}}]
    assert [m.kind for m in cross_check(run, forged, args="args")] == ["misrecorded_decision"]


def test_records_with_other_field_names_get_a_hint():
    run, _ = run_with(AuditedHITL)
    records = [{"action": "delete_file", "outcome": "rejected"}]
    found = cross_check(run, records)
    assert [m.kind for m in found] == ["unrecorded_decision", "unrecorded_decision"]
    assert found[0].message.endswith(
        "it logged 0 decision record(s).\n"
        "(1 other record(s) have neither a 'tool' nor a 'decision' field and were not read as "
        "decisions. If your application names these facts differently, say so: "
        "AppAudit(records, tool=..., decision=...) or cross_check(run, records, tool=..., "
        "decision=...).)"
    )
