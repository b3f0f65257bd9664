"""The benchmark runs end to end in quick mode and prints its verdict lines (no timing asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "hitl_bench.py"


def test_quick_benchmark_prints_the_three_verdicts_last():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-3:]
    assert [line.split("=")[0] for line in last] == [
        "overhead_ratio",
        "fuzz_ratio",
        "memory_growth_mb",
    ], done.stdout
    assert all(re.fullmatch(r"[a-z_]+=-?\d+\.\d+", line) for line in last), last
