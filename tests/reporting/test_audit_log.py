"""The audit log of real runs: events, normalised ids, frozen times, JSON Lines, rendering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import (
    Reviewer,
    ScriptedChatModel,
    approve,
    call,
    edit,
    reject,
    say,
    simulate,
    unchecked,
)
from hitl_sim.reporting import AuditLog, snapshot_text
from hitl_sim.run import RunError, Step

ROOT = Path(__file__).resolve().parents[2]


@tool
def send_email(to: str, body: str, api_key: str = "") -> str:
    """Send an email."""
    return f"sent to {to}"


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    return f"deleted {path}"


def agent(mode="batched", *, api_key="sk-live-123456", path="/srv/a"):
    """Asks to delete a file and send an email in one turn, both gated."""
    return create_agent(
        ScriptedChatModel(
            [
                [
                    call("delete_file", path=path),
                    call("send_email", to="ops@example.com", body="done", api_key=api_key),
                ],
                say("Kept /srv/a; emailed the team."),
            ]
        ),
        tools=[send_email, delete_file],
        middleware=[
            HumanInTheLoopMiddleware(
                interrupt_on={"send_email": True, "delete_file": True}, interrupt_mode=mode
            )
        ],
        checkpointer=InMemorySaver(),
    )


def cleanup_run(to="team@example.com", clock=None, **options):
    """The scenario the tests snapshot: reject the delete after 2 h, redirect the email."""
    frozen = {} if clock is None else {"clock": clock}
    return simulate(
        agent(**options),
        "Delete /srv/a and email ops",
        reviewer=[
            reject("Keep it, we need a backup first", by="ops-lead", after=timedelta(hours=2)),
            edit(to=to, by="ops-lead"),
        ],
        **frozen,
    )


def test_events_follow_the_run_in_order_with_frozen_times():
    log = cleanup_run().audit
    assert log.kinds == ["interrupt", "decision", "decision", "resume", "tool", "finished"]
    assert [event.at for event in log] == [
        "2030-01-01T09:00:00Z",
        *["2030-01-01T11:00:00Z"] * 5,
    ]
    assert {event.thread for event in log} == {"thread-1"}
    assert [event.resume for event in log] == [0, 1, 1, 1, 1, 1]
    assert [event.seq for event in log] == [1, 2, 3, 4, 5, 6]


def test_each_event_carries_what_an_auditor_asks_for():
    events = cleanup_run().audit.to_dicts()
    raised, rejected, edited, resumed, ran, finished = events
    assert raised["interrupt"] == "interrupt-1"
    assert raised["kind"] == "batched"
    assert raised["actions"][0] == {
        "tool": "delete_file",
        "args": {"path": "/srv/a"},
        "description": (
            "Tool execution requires approval\n\nTool: delete_file\nArgs: {'path': '/srv/a'}"
        ),
        "allowed": ["approve", "edit", "reject", "respond"],
        "call": "call-1",
    }
    assert rejected == {
        "seq": 2,
        "event": "decision",
        "at": "2030-01-01T11:00:00Z",
        "thread": "thread-1",
        "resume": 1,
        "interrupt": "interrupt-1",
        "tool": "delete_file",
        "call": "call-1",
        "decision": "reject",
        "by": "ops-lead",
        "latency_seconds": 7200,
        "message": "Keep it, we need a backup first",
    }
    assert edited["decision"] == "edit"
    assert edited["args"] == {"api_key": "***", "body": "done", "to": "team@example.com"}
    assert resumed["answers"] == ["interrupt-1"]
    assert resumed["how"] == "command"
    assert ran["tool"] == "send_email"
    assert ran["call"] == "call-2"
    assert ran["args"] == {"api_key": "***", "body": "done", "to": "team@example.com"}
    assert ran["result"] == "sent to team@example.com"
    assert "error" not in ran
    assert finished["event"] == "finished"


def test_jsonl_is_one_sorted_object_per_line():
    text = cleanup_run().audit.to_jsonl()
    lines = text.splitlines()
    assert text.endswith("\n")
    assert len(lines) == 6
    for line in lines:
        data = json.loads(line)
        assert list(data) == sorted(data)
        assert line == json.dumps(data, sort_keys=True, ensure_ascii=False)
    assert lines[3] == (
        '{"answers": ["interrupt-1"], "at": "2030-01-01T11:00:00Z", "event": "resume", '
        '"how": "command", "resume": 1, "seq": 4, "thread": "thread-1"}'
    )


def test_render_reads_as_a_table():
    assert str(cleanup_run().audit) == "\n".join(
        [
            "audit log of thread-1 (6 events)",
            "  1. 2030-01-01T09:00:00Z  interrupt interrupt-1 (batched, node"
            " 'HumanInTheLoopMiddleware.after_model')",
            "       - delete_file(path='/srv/a') call-1  allowed: approve/edit/reject/respond",
            "       - send_email(api_key='***', body='done', to='ops@example.com') call-2"
            "  allowed: approve/edit/reject/respond",
            "  2. 2030-01-01T11:00:00Z  decision  delete_file call-1:"
            " reject('Keep it, we need a backup first') (by ops-lead, after 7200s)",
            "  3. 2030-01-01T11:00:00Z  decision  send_email call-2:"
            " edit(api_key='***', body='done', to='team@example.com') (by ops-lead)",
            "  4. 2030-01-01T11:00:00Z  resume    command answering interrupt-1",
            "  5. 2030-01-01T11:00:00Z  tool      send_email(api_key='***', body='done',"
            " to='team@example.com') -> 'sent to team@example.com'",
            "  6. 2030-01-01T11:00:00Z  finished",
        ]
    )


def test_per_call_interrupts_get_their_own_labels():
    run = simulate(
        agent("per_call"),
        "go",
        reviewer=Reviewer.by_tool({"delete_file": reject("no"), "send_email": approve(by="u1")}),
    )
    log = run.audit
    assert log.kinds == [
        "interrupt",
        "interrupt",
        "decision",
        "decision",
        "resume",
        "tool",
        "finished",
    ]
    assert [e.data["interrupt"] for e in log.of("interrupt")] == ["interrupt-1", "interrupt-2"]
    assert log.of("resume")[0].data["answers"] == ["interrupt-1", "interrupt-2"]
    assert log.label_of(run.interrupts[1].id) == "interrupt-2"
    assert log.label_of(run.thread_id) == "thread-1"


def test_a_run_left_pending_ends_with_what_it_waits_on():
    log = simulate(agent(), "go", reviewer=None, expect_pending=True).audit
    assert log.kinds == ["interrupt", "pending"]
    assert log[-1].data == {"pending": ["interrupt-1"], "expected": True}
    assert log[-1].describe() == "waiting on interrupt-1"


def test_a_failed_run_ends_with_the_error():
    run = simulate(agent(), "go", reviewer=[unchecked({"type": "maybe"}), approve()])
    log = run.audit
    assert log.kinds == ["interrupt", "decision", "decision", "resume", "failed"]
    assert log[1].data["value"] == {"type": "maybe"}
    assert log[-1].data == {
        "error": "ValueError",
        "message": "Unexpected human decision: {'type': 'maybe'}. Decision type 'maybe' is not "
        "allowed for tool 'delete_file'. Expected one of ['approve', 'edit', 'reject', "
        "'respond'] based on the tool's configuration.",
        "node": "HumanInTheLoopMiddleware.after_model",
        "resumable": True,
        "poisoned": True,
    }


def test_an_error_the_run_recovered_from_stays_in_the_log():
    run = cleanup_run()
    error = RunError(ValueError("boom"), 1, "tools", resumable=True)
    at = run.steps[-1].at
    run.steps.insert(-1, Step("error", 1, error, at))
    log = AuditLog.from_run(run)
    assert log.kinds[-2:] == ["error", "finished"]
    assert log[-2].describe() == "ValueError: boom [resumable]"


def test_tools_of_one_superstep_are_listed_in_the_models_call_order():
    run = simulate(agent(), "go", reviewer=[approve(), approve()])
    tools = [step for step in run.steps if step.kind == "tool"]
    first, second = (run.steps.index(step) for step in tools)
    swapped = list(run.steps)
    swapped[first], swapped[second] = swapped[second], swapped[first]
    assert [e.data["tool"] for e in run.audit.of("tool")] == ["delete_file", "send_email"]
    assert replace(run, steps=swapped).audit.to_jsonl() == run.audit.to_jsonl()


def test_timestamps_can_be_elapsed_seconds_or_left_out():
    run = cleanup_run()
    assert [e.at for e in AuditLog.from_run(run, timestamps="elapsed")] == [0] + [7200] * 5
    assert all("at" not in line for line in AuditLog.from_run(run, timestamps="none").to_dicts())


def test_raw_ids_can_be_kept():
    run = cleanup_run()
    log = AuditLog.from_run(run, normalise_ids=False)
    assert log[0].thread == run.thread_id
    assert log[0].data["interrupt"] == run.interrupts[0].id


def test_ids_that_show_up_inside_strings_are_normalised_too():
    run = cleanup_run()
    interrupt_id = run.interrupts[0].id
    error = RunError(KeyError(f"no answer for {interrupt_id} on {run.thread_id}"), 1, None, False)
    run.steps.insert(-1, Step("error", 1, error, run.steps[-1].at))
    message = AuditLog.from_run(run).of("error")[0].data["message"]
    assert message == "'no answer for interrupt-1 on thread-1'"


def test_the_same_scenario_gives_the_same_bytes_in_process():
    first, second = cleanup_run(), cleanup_run()
    assert first.thread_id != second.thread_id
    assert first.messages[0].id != second.messages[0].id
    assert first.interrupts[0].id != second.interrupts[0].id
    assert first.audit.to_jsonl() == second.audit.to_jsonl()
    assert first.audit == second.audit
    assert first.audit != cleanup_run(to="ceo@example.com").audit
    assert snapshot_text(first) == snapshot_text(second)


SCRIPT = (
    "import sys; from tests.reporting.test_audit_log import cleanup_run; "
    "from hitl_sim.reporting import snapshot_text; run = cleanup_run(); "
    "sys.stdout.write(run.audit.to_jsonl() + snapshot_text(run))"
)


def test_the_same_scenario_gives_the_same_bytes_in_separate_processes():
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "TZ": "America/New_York"},
            stdout=subprocess.PIPE,
        )
        for seed in ("1", "2")
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    run = cleanup_run()
    assert outputs[0] == outputs[1] == (run.audit.to_jsonl() + snapshot_text(run)).encode()


def test_the_log_is_a_sequence_of_events():
    log = cleanup_run().audit
    assert len(log) == 6
    assert log[0].event == "interrupt"
    assert [e.event for e in log[4:]] == ["tool", "finished"]
    assert repr(log) == (
        "<AuditLog of 6 events: interrupt, decision, decision, resume, tool, finished>"
    )


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2030, 1, 1, 9, 0), "2030-01-01T09:00:00Z"),
        (datetime(2030, 1, 1, 10, 0, tzinfo=UTC), "2030-01-01T10:00:00Z"),
        (
            datetime(2030, 1, 1, 12, 0, 0, 500, tzinfo=UTC) + timedelta(hours=0),
            "2030-01-01T12:00:00.000500Z",
        ),
    ],
)
def test_times_are_utc_with_a_z(moment, expected):
    from hitl_sim.normalise import timestamp

    assert timestamp(moment) == expected


def test_the_audit_and_snapshot_modules_import_nothing_heavy():
    code = (
        "import sys, hitl_sim.reporting.audit_log, hitl_sim.reporting.snapshots\n"
        "heavy = {'langgraph', 'langchain', 'langchain_core', 'syrupy', 'freezegun', 'pytest'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def raw_and_breakpoint_graph():
    """A node that asks with interrupt(), then a static breakpoint before `ship`."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt

    class Order(TypedDict, total=False):
        item: str
        approved_by: str
        shipped: bool

    def ask(state: Order) -> Order:
        reply = interrupt({"question": f"Buy {state['item']}?", "token": "tok-123456"})
        return {"approved_by": reply["approver"]}

    def ship(state: Order) -> Order:
        return {"shipped": True}

    builder = StateGraph(Order)
    builder.add_node("ask", ask)
    builder.add_node("ship", ship)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "ship")
    builder.add_edge("ship", END)
    return builder.compile(checkpointer=InMemorySaver(), interrupt_before=["ship"])


def test_raw_interrupts_and_breakpoints_are_logged_with_their_answers():
    from hitl_sim import answer, update

    run = simulate(
        raw_and_breakpoint_graph(),
        {"item": "laptop"},
        reviewer=[
            answer({"approver": "cfo"}, by="cfo", after=60),
            update(shipped=False, by="ops"),
        ],
    )
    assert run.final_state["shipped"] is True
    assert run.audit.render().splitlines()[1:] == [
        "  1. 2030-01-01T09:00:00Z  interrupt interrupt-1 (raw, node 'ask')",
        "       - value {'question': 'Buy laptop?', 'token': '***'}",
        "  2. 2030-01-01T09:01:00Z  decision  interrupt-1: answer({'approver': 'cfo'})"
        " (by cfo, after 60s)",
        "  3. 2030-01-01T09:01:00Z  resume    command answering interrupt-1",
        "  4. 2030-01-01T09:01:00Z  interrupt interrupt-2 (breakpoint, node 'ship')",
        "  5. 2030-01-01T09:01:00Z  decision  interrupt-2: update({'shipped': False}) (by ops)",
        "  6. 2030-01-01T09:01:00Z  resume    continue answering interrupt-2",
        "  7. 2030-01-01T09:01:00Z  finished",
    ]


def test_async_runs_log_parallel_tools_in_call_order():
    import asyncio

    from hitl_sim import asimulate

    async def twice():
        return [
            await asimulate(agent(), "go", reviewer=[approve(), approve()], mode=mode)
            for mode in ("invoke", "stream")
        ]

    runs = asyncio.run(twice())
    assert [e.data["tool"] for e in runs[0].audit.of("tool")] == ["delete_file", "send_email"]
    assert runs[0].audit == runs[1].audit


def test_an_unfrozen_run_is_deterministic_without_times():
    runs = [cleanup_run(clock=False) for _ in range(2)]
    assert runs[0].audit[0].at != "2030-01-01T09:00:00Z"
    logs = [AuditLog.from_run(run, timestamps="none").to_jsonl() for run in runs]
    assert logs[0] == logs[1]
