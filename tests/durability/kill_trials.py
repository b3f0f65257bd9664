"""SIGKILL trials: kill a resume at random moments and check every statement a `CrashReport`
makes against what the thread really does.

    python -m tests.durability.kill_trials --trials 50 --checkpointer sqlite
    HITL_SIM_POSTGRES_URL=... python -m tests.durability.kill_trials --checkpointer postgres

Each trial pauses `build_review_chain_agent` at its first review (delete_file, with an ungated
lookup beside it), approves it in a new process and SIGKILLs that process at a random moment
while the tools run or just after (a ledger entry, then 0-100 ms). Before the harness reads the
thread, the store is copied and the copy is continued with `invoke(None)`: that is the ground
truth. The decision was lost if the copy asks the first review again; it was kept with the next
review pending if the copy was already waiting on send_email's review; the thread looked
finished with work left if `next == ()`, nothing was pending, and the copy still ran something
(a model turn, a tool, or on to a review).
The tool calls run again after the harness's re-run must be exactly the ones the report listed
as started without a saved result. Any mismatch is a wrong verdict.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from hitl_sim import approve
from hitl_sim.durability import CheckpointStore, Ledger, checkpoint_store
from hitl_sim.durability.crash import CrashReport, crash_during_resume
from hitl_sim.durability.restart import clock_for_resume
from hitl_sim.errors import InvalidArgument
from hitl_sim.interrupts import pending_in
from tests.durability.agents import build_review_chain_agent

AGENT = "tests.durability.agents:build_review_chain_agent"
WHEN = ("delete_file:start", "lookup:start", "delete_file", "lookup")
GATED = ("delete_file", "send_email")
TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


@dataclass
class Truth:
    decision: str = ""
    looks_finished_with_work_left: bool = False


@dataclass
class Trial:
    report: CrashReport
    truth: Truth
    entries: list[dict[str, Any]]
    killed_pid: int
    wrong: list[str] = field(default_factory=list)


@contextmanager
def _twin(store: CheckpointStore, folder: Path) -> Iterator[CheckpointStore]:
    """A copy of `store` as the kill left it."""
    if store.kind == "sqlite":
        path = folder / "twin.sqlite"
        source, target = sqlite3.connect(str(store.path)), sqlite3.connect(str(path))
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        with checkpoint_store("sqlite", path=path) as twin:
            yield twin
        return
    import psycopg

    url = store._postgres_url()
    with checkpoint_store("postgres", url=url) as twin:
        with twin.open():
            pass  # creates the tables
        with psycopg.connect(url, autocommit=True) as conn:
            for table in TABLES:
                conn.execute(
                    f'INSERT INTO "{twin.schema}".{table} SELECT * FROM "{store.schema}".{table}'
                )
        yield twin


def _asked(state: Any) -> list[str]:
    return [a.name for p in pending_in(state) if p.kind != "breakpoint" for a in p.actions]


def ground_truth(store: CheckpointStore, thread_id: str, ledger: Path, folder: Path) -> Truth:
    """Continue a copy of the killed thread with `invoke(None)` and see what it does."""
    copy = folder / "truth.jsonl"
    if ledger.exists():
        shutil.copy(ledger, copy)
    config = {"configurable": {"thread_id": thread_id}}
    with _twin(store, folder) as twin, twin.open() as saver:
        graph = build_review_chain_agent(saver, ledger=str(copy), seconds=0)
        before = graph.get_state(config)
        messages, effects = len(before.values.get("messages", [])), len(Ledger(copy).entries())
        with freeze_time(clock_for_resume(saver, thread_id)):
            graph.invoke(None, config)
        after = graph.get_state(config)
    did_more = (
        len(after.values.get("messages", [])) > messages
        or len(Ledger(copy).entries()) > effects
        or bool(after.next or after.interrupts)  # it ran on to a review
    )
    if "send_email" in _asked(before):
        decision = "kept; next review pending"
    elif "delete_file" in _asked(after):
        decision = "lost"
    else:
        decision = "kept"
    looks_finished = not before.next and not _asked(before)
    return Truth(decision, looks_finished and did_more)


def one_trial(kind: str, folder: Path, rng: random.Random, idempotent: bool) -> Trial | None:
    ledger = folder / "effects.jsonl"
    truth = Truth()
    kwargs: dict[str, Any] = {"ledger": str(ledger), "idempotent": idempotent}

    def after_kill(store: CheckpointStore, thread_id: str) -> None:
        found = ground_truth(store, thread_id, ledger, folder)
        truth.decision, truth.looks_finished_with_work_left = (
            found.decision,
            found.looks_finished_with_work_left,
        )

    with checkpoint_store(kind, directory=folder) as store:  # type: ignore[arg-type]
        try:
            report = crash_during_resume(
                AGENT,
                "Clean up /srv/a",
                [approve(), approve()],
                ledger=ledger,
                when=rng.choice(WHEN),
                kill_after=rng.choice((0.0, rng.uniform(0.0, 0.1))),
                checkpointer=store,
                factory_kwargs={**kwargs, "seconds": 0.05},
                rerun_kwargs={**kwargs, "seconds": 0.0},
                after_kill=after_kill,
            )
        except InvalidArgument:
            return None  # the resume process finished before the kill: no crash
    entries = Ledger(ledger).entries()
    first_pid = entries[0]["pid"]
    trial = Trial(report, truth, entries, first_pid)
    trial.wrong = judge(trial)
    return trial


def _rerun_calls(trial: Trial) -> set[str]:
    """Tool calls the killed process started that were started again later."""
    starts = [e for e in trial.entries if e["name"].endswith(":start")]
    killed = {e["tool_call_id"] for e in starts if e["pid"] == trial.killed_pid}
    later = {e["tool_call_id"] for e in starts if e["pid"] != trial.killed_pid}
    return killed & later


def judge(trial: Trial) -> list[str]:
    report, truth, wrong = trial.report, trial.truth, []
    if report.decision != truth.decision:
        wrong.append(f"decision: said {report.decision!r}, was {truth.decision!r}")
    if report.looks_finished_but_is_not != truth.looks_finished_with_work_left:
        wrong.append(
            f"looks finished but is not: said {report.looks_finished_but_is_not}, "
            f"was {truth.looks_finished_with_work_left}"
        )
    said = {text.rsplit("[", 1)[1].rstrip("]") for text in report.unsaved_tool_calls or ()}
    if said != _rerun_calls(trial):
        wrong.append(f"at-least-once: said {sorted(said)}, re-ran {sorted(_rerun_calls(trial))}")
    if not report.finished or report.rerun_error:
        wrong.append(f"the re-run did not finish: {report.rerun_error}")
    return wrong


def _call(entry: dict[str, Any]) -> str:
    """The tool call a ledger entry belongs to."""
    return str(entry.get("tool_call_id") or entry.get("idempotency_key"))


def figures(trials: list[Trial]) -> dict[str, Any]:
    killed_mid_run = ran_again = rerun = effects_twice = 0
    for trial in trials:
        starts = Counter(_call(e) for e in trial.entries if e["name"].endswith(":start"))
        effects = Counter(_call(e) for e in trial.entries if e["name"] in GATED)
        mine = [e for e in trial.entries if e["pid"] == trial.killed_pid]
        started = {_call(e) for e in mine if e["name"].endswith(":start")}
        mid_run = started - {_call(e) for e in mine if not e["name"].endswith(":start")}
        killed_mid_run += len(mid_run)
        ran_again += len(mid_run & _rerun_calls(trial))
        rerun += sum(count > 1 for count in starts.values())
        effects_twice += sum(count > 1 for count in effects.values())
    return {
        "trials (killed)": len(trials),
        "approvals lost": sum(t.truth.decision == "lost" for t in trials),
        "tools killed mid-run": killed_mid_run,
        "  of them ran again": ran_again,
        "tool calls re-run (started twice)": rerun,
        "approved tools run twice (effect twice)": effects_twice,
        "threads looking finished with work left": sum(
            t.truth.looks_finished_with_work_left for t in trials
        ),
        "  reported as such": sum(t.report.looks_finished_but_is_not for t in trials),
        "crash reports per verdict": dict(Counter(t.report.decision for t in trials)),
        "wrong verdicts": sum(len(t.wrong) for t in trials),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.durability.kill_trials")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--checkpointer", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--idempotent", action="store_true", help="tools key their effect by tool_call_id"
    )
    args = parser.parse_args(argv)
    rng, trials, skipped = random.Random(args.seed), [], 0
    started = time.monotonic()
    for number in range(args.trials):
        with tempfile.TemporaryDirectory(prefix="hitl-sim-kill-") as folder:
            trial = one_trial(args.checkpointer, Path(folder), rng, args.idempotent)
        if trial is None:
            skipped += 1
            continue
        trials.append(trial)
        for line in trial.wrong:
            print(f"trial {number}: WRONG {line}\n{trial.report}", file=sys.stderr)
    print(
        f"{args.checkpointer}, {args.trials} trials (seed {args.seed}"
        f"{', idempotent tools' if args.idempotent else ''}), "
        f"{skipped} finished before the kill, {time.monotonic() - started:.0f} s:"
    )
    for key, value in figures(trials).items():
        print(f"  {key}: {value}")
    return 1 if any(t.wrong for t in trials) else 0


if __name__ == "__main__":
    sys.exit(main())
