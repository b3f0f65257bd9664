"""What a CrashReport states after a SIGKILL, pinned for each verdict: the decision kept (and
the tool calls that may have run without their result being saved), kept with the next review
pending, lost, and a thread that looks finished but is not. An idempotency key keyed by the
tool_call_id stops the second effect when LangGraph re-runs a killed tool."""

from __future__ import annotations

import sqlite3

import pytest

from hitl_sim import answer, approve
from hitl_sim.durability import Ledger, crash_during_resume

CHAIN = "tests.durability.agents:build_review_chain_agent"
REVIEWS = "tests.durability.agents:build_two_review_graph"
BOTH = pytest.mark.hitl_checkpointer("sqlite", "postgres")


def _lines(report):
    return str(report).splitlines()


@BOTH
def test_decision_kept_names_the_tool_calls_that_may_have_run_unsaved(
    hitl_checkpoint_store, tmp_path
):
    ledger = Ledger(tmp_path / "effects.jsonl")
    report = crash_during_resume(
        CHAIN,
        "Clean up /srv/a",
        [approve(), approve()],
        ledger=ledger,
        when="delete_file:start",
        kill_after=1.0,  # both tools (one step) are working; the step's checkpoint is saved
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={"ledger": str(ledger.path), "seconds": 120},
        rerun_kwargs={"ledger": str(ledger.path), "seconds": 0},
    )

    assert report.decision == "kept"
    assert report.decision_kept
    assert report.unsaved_tool_calls == (
        "delete_file(path='/srv/a') [t1_delete]",
        "lookup(key='owner') [t1_lookup]",
    )
    assert not report.looks_finished
    assert report.rerun == "invoke(None), then answered the next review"
    assert report.finished
    lines = _lines(report)
    assert lines[0] == f"Crash report ({hitl_checkpoint_store.kind}, thread {report.thread_id!r}):"
    assert sorted(report.effects_at_kill) == ["delete_file:start", "lookup:start"]
    assert lines[2:5] == [
        "  after restart: next=('tools', 'tools'), interrupts pending: []",
        "  the reviewer's decision was kept on the thread: the re-run did not ask again",
        "  may have run without their result being saved (at-least-once): "
        "[\"delete_file(path='/srv/a') [t1_delete]\", \"lookup(key='owner') [t1_lookup]\"]",
    ]
    assert lines[5].startswith("  re-run by invoke(None), then answered the next review: ")
    assert sorted(report.ran_again) == [
        "delete_file:start(path='/srv/a', tool_call_id='t1_delete') x2",
        "lookup:start(key='owner', tool_call_id='t1_lookup') x2",
    ]
    assert lines[7:] == ["  thread finished: True"]
    assert ledger.names().count("send_email") == 1  # the next review was answered once


@BOTH
def test_decision_kept_next_review_pending_is_not_a_lost_decision(hitl_checkpoint_store, tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")
    report = crash_during_resume(
        REVIEWS,
        {"log": []},
        [answer("yes"), answer("ok")],
        ledger=ledger,
        when="slow:start",
        kill_after=1.0,  # `second` is asking, `slow` (beside it) is working
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={"ledger": str(ledger.path)},
        rerun_kwargs={"ledger": str(ledger.path), "seconds": 0},
    )

    assert report.decision == "kept; next review pending"
    assert report.decision_kept
    assert str(report) == "\n".join(
        [
            f"Crash report ({hitl_checkpoint_store.kind}, thread {report.thread_id!r}):",
            "  killed while: slow:start (effects so far: ['first:answered', 'slow:start'])",
            "  after restart: next=('second', 'slow'), interrupts pending: ['raw']",
            "  the reviewer's decision was kept; next review pending: the thread moved past it and "
            "waits on a later review",
            "  may have run without their result being saved (at-least-once): ['slow() [slow-1]']",
            "  re-run by answered the next review: effects now ['first:answered', 'slow:start', "
            "'slow:start']",
            "  executed twice: [\"slow:start(tool_call_id='slow-1') x2\"]",
            "  thread finished: True",
        ]
    )


@BOTH
def test_decision_lost_when_the_answered_review_is_pending_again(hitl_checkpoint_store, tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")
    report = crash_during_resume(
        REVIEWS,
        {"log": []},
        [answer("yes"), answer("ok")],
        ledger=ledger,
        when="first:answered",
        kill_after=1.0,  # `first` got its answer and is still working: nothing of it is saved
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={"ledger": str(ledger.path), "first_seconds": 120},
        rerun_kwargs={"ledger": str(ledger.path), "seconds": 0},
    )

    assert report.decision == "lost"
    assert not report.decision_kept
    assert str(report) == "\n".join(
        [
            f"Crash report ({hitl_checkpoint_store.kind}, thread {report.thread_id!r}):",
            "  killed while: first:answered (effects so far: ['first:answered'])",
            "  after restart: next=('first',), interrupts pending: ['raw']",
            "  the reviewer's decision was lost with the process: the same review was pending "
            "again and was asked again",
            "  may have run without their result being saved (at-least-once): unknown (the ledger "
            "entries carry no tool_call_id)",
            "  re-run by answered again: effects now ['first:answered', 'first:answered', "
            "'slow:start']",
            "  executed twice: [\"first:answered(answer='yes') x2\"]",
            "  thread finished: True",
        ]
    )


def _drop_newest_checkpoint(store, thread_id):
    """As if the kill came after the tools' writes were saved but before the next checkpoint."""
    with sqlite3.connect(str(store.path)) as conn:
        (newest,) = conn.execute(
            "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            (thread_id,),
        ).fetchone()
        for table in ("checkpoints", "writes"):
            conn.execute(
                f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id = ?",
                (thread_id, newest),
            )


@pytest.mark.hitl_checkpointer("sqlite")
def test_a_thread_that_looks_finished_but_is_not_is_named(hitl_checkpoint_store, tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")
    report = crash_during_resume(
        CHAIN,
        "Clean up /srv/a",
        [approve(), approve()],
        ledger=ledger,
        when="model:turn2",
        kill_after=1.0,  # the tools are done and saved; the model's second turn is running
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={"ledger": str(ledger.path), "seconds": 0, "model_seconds": 120},
        rerun_kwargs={"ledger": str(ledger.path), "seconds": 0},
        after_kill=_drop_newest_checkpoint,
    )

    assert report.looks_finished
    assert report.looks_finished_but_is_not
    assert report.decision == "kept"
    assert report.unsaved_tool_calls == ()  # both results are in the saved writes
    assert report.work_left == (
        "the tasks tools, tools saved their writes but no checkpoint follows them",
    )
    lines = _lines(report)
    assert lines[2:6] == [
        "  after restart: next=(), interrupts pending: []",
        "  the reviewer's decision was kept on the thread: the re-run did not ask again",
        "  may have run without their result being saved (at-least-once): none",
        "  looks finished but is not: next=() and nothing pending, yet the tasks tools, tools "
        "saved their writes but no checkpoint follows them",
    ]
    assert lines[-1] == (
        "  note: get_state() showed the thread as finished (next=(), nothing pending), yet the "
        "crashed step's saved writes made invoke(None) run more: a finished-looking thread is "
        "not proof that nothing is left."
    )
    assert report.finished
    assert report.ran_again == ()  # the saved results were used: no tool ran twice
    assert ledger.names().count("send_email") == 1


@pytest.mark.parametrize("idempotent", [False, True], ids=["no-key", "keyed-by-tool_call_id"])
@pytest.mark.hitl_checkpointer("sqlite")
def test_an_idempotency_key_stops_the_second_effect(hitl_checkpoint_store, tmp_path, idempotent):
    ledger = Ledger(tmp_path / "effects.jsonl")
    kwargs = {"ledger": str(ledger.path), "seconds": 0, "idempotent": idempotent}
    report = crash_during_resume(
        CHAIN,
        "Clean up /srv/a",
        [approve(), approve()],
        ledger=ledger,
        when="delete_file",  # the effect is done; the tool has not returned its result yet
        kill_after=1.0,
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={**kwargs, "linger": 120},
        rerun_kwargs=kwargs,
    )

    assert "delete_file(path='/srv/a') [t1_delete]" in report.unsaved_tool_calls
    assert ledger.names().count("delete_file:start") == 2  # LangGraph re-ran the tool
    assert ledger.names().count("delete_file") == (1 if idempotent else 2)
    assert report.finished


def test_record_once_records_a_key_once(tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")

    assert ledger.record_once("t1", "send_email", to="ops", key="k") is True
    assert ledger.record_once("t1", "send_email", to="ops", key="k") is False
    assert ledger.record_once("t2", "send_email", to="ops", key="k") is True
    assert [(e["name"], e["idempotency_key"], e["key"]) for e in ledger.entries()] == [
        ("send_email", "t1", "k"),
        ("send_email", "t2", "k"),
    ]
    assert ledger.repeated() == []


def test_the_kill_trials_run_and_no_verdict_is_wrong(capsys):
    from tests.durability import kill_trials

    assert kill_trials.main(["--trials", "2", "--seed", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("sqlite, 2 trials (seed 5), ")
    assert "  wrong verdicts: 0" in out


def test_a_resume_that_exits_before_kill_after_is_no_crash(tmp_path):
    from hitl_sim.durability import checkpoint_store
    from hitl_sim.errors import InvalidArgument

    ledger = Ledger(tmp_path / "effects.jsonl")
    with (
        checkpoint_store("sqlite", directory=tmp_path) as store,
        pytest.raises(InvalidArgument) as raised,
    ):
        crash_during_resume(
            CHAIN,
            "Clean up /srv/a",
            [approve(), approve()],
            ledger=ledger,
            when="delete_file:start",
            kill_after=60.0,  # the resume process is done long before
            checkpointer=store,
            factory_kwargs={"ledger": str(ledger.path), "seconds": 0},
        )
    assert "or exited within kill_after=60.0 s of it; entries: [" in str(raised.value)
