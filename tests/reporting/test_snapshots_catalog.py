"""Catalog scenarios of every interrupt shape snapshot to the same text on every run.

(The catalog's stored snapshots themselves are compared by the scenario suite, through
`expect.snapshot`; this checks the normalisation on each shape without depending on them.)
"""

from __future__ import annotations

import re

import pytest

from hitl_sim.catalog import catalog_dir
from hitl_sim.reporting.snapshots import snapshot_text
from hitl_sim.scenarios.loader import load_scenario
from hitl_sim.scenarios.runner import run_scenario

RAW_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-|\b[0-9a-f]{32}\b|hitl-sim-[0-9a-f]{6}")

SHAPES = [
    ("per_call_answer_together.yaml", None),  # several per_call interrupts, one resume
    ("deep_subagent_tool_interrupt.yaml", None),  # an interrupt inside a deep agent's subagent
    ("style_interrupt_before.yaml", None),  # a static breakpoint, continued with an update
    ("style_parallel_branches.yaml", None),  # raw interrupts pending in parallel branches
    ("style_tool_asks_human.yaml", None),  # a tool that calls interrupt() itself
    ("count_poisoned_thread.yaml", None),  # a poisoned thread: the run fails
    ("thread_resume_later.yaml", None),  # pending, then answered in a second run
    ("modes_raw_styles.yaml", "raw_stream"),  # stream mode
]


@pytest.mark.parametrize(("file", "name"), SHAPES, ids=[file for file, _ in SHAPES])
def test_a_catalog_scenario_snapshots_to_the_same_text_twice(file, name):
    scenario = load_scenario(catalog_dir() / file, name)
    first, second = run_scenario(scenario), run_scenario(scenario)
    assert first.runs
    texts = [snapshot_text(run) for run in first.runs]
    assert texts == [snapshot_text(run) for run in second.runs]
    assert [run.audit.to_jsonl() for run in first.runs] == [
        run.audit.to_jsonl() for run in second.runs
    ]
    for text in texts:
        assert RAW_ID.findall(text) == []
        assert "thread: thread-1" in text
