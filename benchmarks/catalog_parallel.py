"""How much `hitl-sim run -n N` speeds up the built-in catalog, and that it changes nothing else.

Runs the whole catalog with `hitl-sim run` on one process and on N (default: one per CPU), in
fresh interpreters, alternately (1, N, N, 1, ...) so both see the same machine; checks that the
table (times aside), the JUnit XML (times aside) and the HTML report are the same; and prints
the wall-clock median of each and their ratio. The last line is the verdict:
`parallel_speedup=<one process / N processes>` (on a busy or one-core machine it can be below 1).

    python benchmarks/catalog_parallel.py            # 3 rounds, -n auto
    python benchmarks/catalog_parallel.py -n 2 --rounds 1
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(processes: int, folder: Path, tag: str) -> tuple[float, str, str, bytes]:
    junit, page = folder / f"{tag}.xml", folder / f"{tag}.html"
    command = [sys.executable, "-m", "hitl_sim.cli", "run", "-n", str(processes)]
    command += ["--junit-xml", str(junit), "--html", str(page)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"hitl-sim run -n {processes} exited {done.returncode}:\n{done.stdout}")
    table = re.sub(r"\d+\.\d+s\b", "T", done.stdout)
    xml = re.sub(r'time="[\d.]+"', 'time="T"', junit.read_text())
    return seconds, table, xml, page.read_bytes()


def _lines(value: str | bytes) -> list[str]:
    text = value.decode() if isinstance(value, bytes) else value
    return text.splitlines()[:2000]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", dest="processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    times: dict[int, list[float]] = {1: [], args.processes: []}
    seen: dict[int, tuple[str, str, bytes]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for round_ in range(args.rounds):
            order = (1, args.processes) if round_ % 2 == 0 else (args.processes, 1)
            for processes in order:
                seconds, *outputs = _run(processes, folder, f"r{round_}-n{processes}")
                times[processes].append(seconds)
                first = seen.setdefault(processes, tuple(outputs))  # type: ignore[arg-type]
                for name, given, known in zip(
                    ("table", "JUnit XML", "HTML"), outputs, first, strict=True
                ):
                    if given != known:
                        lines = difflib.unified_diff(
                            _lines(known), _lines(given), f"-n {processes} first", "this round"
                        )
                        raise SystemExit(f"{name} changed (round {round_}):\n" + "\n".join(lines))
        for name, one_, many_ in zip(
            ("table", "JUnit XML", "HTML"), seen[1], seen[args.processes], strict=True
        ):
            if one_ != many_:
                lines = difflib.unified_diff(_lines(one_), _lines(many_), "-n 1", "-n N")
                raise SystemExit(
                    f"{name}: -n {args.processes} differs from -n 1:\n" + "\n".join(lines)
                )
    one, many = statistics.median(times[1]), statistics.median(times[args.processes])
    print(f"catalog: {seen[1][0].strip().splitlines()[-1]}")
    print(f"-n 1: {one:.2f} s   -n {args.processes}: {many:.2f} s   (medians of {args.rounds})")
    print("outputs: the same table, JUnit XML and HTML report on both")
    print(f"parallel_speedup={one / many:.2f}")


if __name__ == "__main__":
    main()
