"""SIGKILL while a resumed tool runs: what the thread looks like after a restart, and what a
re-run does (semantics §4b: the tool can run twice)."""

from __future__ import annotations

import pytest

from hitl_sim import approve
from hitl_sim.durability import CrashReport, Ledger, crash_during_resume

AGENT = "tests.durability.agents:build_slow_archive_agent"


@pytest.mark.hitl_checkpointer("sqlite", "postgres")
def test_a_tool_killed_mid_run_runs_again_after_the_restart(hitl_checkpoint_store, tmp_path):
    ledger = Ledger(tmp_path / "effects.jsonl")

    report = crash_during_resume(
        AGENT,
        "Archive the database",
        [approve()],
        ledger=ledger,
        when="archive:start",
        checkpointer=hitl_checkpoint_store,
        factory_kwargs={"ledger": str(ledger.path), "seconds": 120},
        rerun_kwargs={"ledger": str(ledger.path), "seconds": 0},
    )

    assert isinstance(report, CrashReport)
    assert report.effects_at_kill == ("archive:start",)
    # Whatever the kill left (the approval stored, or lost with the process and asked again),
    # the tool's half-done work is not recorded, so continuing the thread runs it again:
    assert report.effects_after_rerun == ("archive:start", "archive:start", "archive:end")
    assert report.ran_again == ("archive:start(path='/srv/db') x2",)
    assert report.executed_twice
    assert report.finished
    assert report.rerun_error is None
    assert report.rerun == ("invoke(None)" if report.decision_kept else "answered again")
    killer, rerun = {e["pid"] for e in ledger.entries()[:1]}, ledger.entries()[1]["pid"]
    assert rerun not in killer  # the re-run happened in another process than the killed one
    text = str(report)
    assert text.splitlines()[0] == (
        f"Crash report ({hitl_checkpoint_store.kind}, thread {report.thread_id!r}):"
    )
    assert "  executed twice: [\"archive:start(path='/srv/db') x2\"]" in text.splitlines()


def test_a_crash_needs_the_signal_entry_to_be_written(tmp_path):
    from hitl_sim.durability import checkpoint_store
    from hitl_sim.errors import InvalidArgument

    ledger = Ledger(tmp_path / "effects.jsonl")
    with (
        checkpoint_store("sqlite", directory=tmp_path) as store,
        pytest.raises(InvalidArgument) as raised,
    ):
        crash_during_resume(
            AGENT,
            "Archive the database",
            [approve()],
            ledger=ledger,
            when="never-written",
            checkpointer=store,
            factory_kwargs={"ledger": str(ledger.path), "seconds": 0},
        )
    assert str(raised.value).endswith(
        f"ended without being killed: it wrote no 'never-written' to {ledger!r}, or exited "
        "within kill_after=0.0 s of it; entries: ['archive:start', 'archive:end']. Name an "
        "entry the tool writes before its slow part."
    )
