"""The `hitl-sim` command: run scenario files and report, or list them.

    hitl-sim run [PATHS...] [-k TEXT] [--junit-xml PATH] [--html PATH] [--markdown PATH]
                 [--color auto|always|never] [-n N|auto] [--checkpointer KIND] [--snapshot-update]
    hitl-sim list [PATHS...] [-k TEXT]

PATHS are scenario files or directories (default: the built-in catalog). Exit status: 0 when every
scenario passed, 1 when one failed, 2 when a file is malformed, a scenario could not run (its
agent or factory raised) or the command line is wrong. A malformed file or a crashing scenario
is an ERROR row: the other scenarios still run and the report and JUnit XML are still written.

`-n N` runs the scenarios on N processes (`auto`: one per CPU); the table, the reports and the
exit status are the same as on one process, in the same order. `--html` writes one
self-contained HTML report, `--markdown` appends a summary for `$GITHUB_STEP_SUMMARY`; a JUnit
failure's message is the first failed expectation with its file and line (see
`hitl_sim.reporting`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from hitl_sim.errors import HitlSimError, ScenarioError, Unsupported
from hitl_sim.normalise import Redactor
from hitl_sim.reporting.color import MODES, Colors
from hitl_sim.reporting.item import ReportItem, status_of
from hitl_sim.reporting.junit import junit_body, junit_message

if TYPE_CHECKING:
    from hitl_sim.scenarios.schema import Scenario


@dataclass
class _Row:
    id: str
    description: str
    status: str
    """PASS, FAIL, ERROR or SKIP (the installed libraries cannot run it; never a pass)."""
    seconds: float
    details: str = ""
    item: ReportItem | None = None
    """What the reports show (masked plain data; None until the row is done)."""

    def report_item(self) -> ReportItem:
        """The row's report item (an ERROR or SKIP row has no result: its details stand)."""
        return self.item or ReportItem(
            self.id, status_of(self.status), description=self.description, details=self.details
        )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the `hitl-sim` console script; returns the exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args, out)
        return _run(args, out)
    except ScenarioError as exc:
        print(f"error: {exc}", file=out)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl-sim", description="Run human-in-the-loop scenario files and report."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run scenarios and print a summary table")
    listing = commands.add_parser("list", help="list scenarios with their descriptions")
    for command in (run, listing):
        command.add_argument(
            "paths", nargs="*", type=Path, help="scenario files or directories (default: catalog)"
        )
        command.add_argument(
            "-k",
            dest="keywords",
            action="append",
            default=[],
            metavar="TEXT",
            help="only scenarios whose id or tags contain TEXT (repeat for any of several)",
        )
    run.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report")
    run.add_argument(
        "--html", type=Path, metavar="PATH", help="write one self-contained HTML report"
    )
    run.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="append a Markdown summary (e.g. to $GITHUB_STEP_SUMMARY)",
    )
    run.add_argument(
        "--color",
        choices=MODES,
        default="auto",
        help="colour the table: auto (a terminal without NO_COLOR), always, never",
    )
    run.add_argument(
        "-n",
        dest="processes",
        type=_processes,
        default=1,
        metavar="N",
        help="run on N processes (auto: one per CPU); the output is the same, in the same order",
    )
    run.add_argument(
        "--checkpointer",
        choices=["memory", "sqlite", "postgres"],
        default="memory",
        help="checkpointer for scenarios whose agent names none (default: memory)",
    )
    run.add_argument(
        "--snapshot-update",
        action="store_true",
        help="write the snapshots of scenarios that expect one instead of comparing",
    )
    return parser


def _processes(value: str) -> int:
    if value == "auto":
        return max(1, os.cpu_count() or 1)
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"-n takes a number of processes (1 or more) or auto, got {value!r}"
        )
    return count


def _selected(args: argparse.Namespace) -> tuple[list[tuple[str, Scenario]], list[_Row]]:
    """The selected scenarios, and an ERROR row for each file that could not be loaded."""
    from hitl_sim.catalog import catalog_dir
    from hitl_sim.scenarios.loader import find_scenario_files, load_scenarios

    paths = list(args.paths) or [catalog_dir()]
    found = []
    broken = []
    for path in find_scenario_files(paths):
        try:
            scenarios = load_scenarios(path)
        except ScenarioError as exc:
            broken.append(_Row(_ident(path, path.stem), "", "ERROR", 0.0, f"error: {exc}"))
            continue
        for scenario in scenarios:
            ident = _ident(path, scenario.name)
            searched = " ".join((ident, *scenario.tags))
            if not args.keywords or any(k in searched for k in args.keywords):
                found.append((ident, scenario))
    return found, broken


def _ident(path: Path, name: str) -> str:
    try:
        shown = path.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = Path(path.parent.name, path.name)
    return str(shown) if path.stem == name else f"{shown}::{name}"


def _list(args: argparse.Namespace, out: TextIO) -> int:
    selected, broken = _selected(args)
    for ident, scenario in selected:
        description = " ".join(scenario.description.split())
        print(f"{ident}\n    {description}", file=out)
    for row in broken:
        print(row.details, file=out)
    print(f"{len(selected)} scenario(s)", file=out)
    return 2 if broken else 0


def _run(args: argparse.Namespace, out: TextIO) -> int:
    started = time.perf_counter()
    selected, rows = _selected(args)
    colors = Colors.for_stream(out, args.color)
    draw = bool(args.html or args.markdown)
    width = max(
        [len("scenario"), *(len(ident) for ident, _ in selected), *(len(r.id) for r in rows)]
    )

    def show(row: _Row) -> None:
        print(
            f"{row.id:<{width}}  {colors.status(row.status, 6)}  {row.seconds:5.2f}s",
            file=out,
            flush=True,
        )

    print(f"{'scenario':<{width}}  result  time", file=out)
    print(f"{'-' * width}  ------  ------", file=out, flush=True)
    for row in rows:
        show(row)
    parallel = args.processes > 1 and len(selected) > 1
    jobs = [
        _Job(
            ident,
            scenario.path,
            scenario.name,
            args.snapshot_update,
            args.checkpointer,
            draw,
            None if parallel else scenario,  # a worker loads the file itself
        )
        for ident, scenario in selected
    ]
    done = _in_processes(jobs, args.processes) if parallel else map(_run_job, jobs)
    for row in done:
        rows.append(row)
        show(row)
    for row in rows:
        if row.status != "PASS":
            banner = f"{'=' * 30} {colors.status(row.status)}: {row.id} {'=' * 30}"
            print(f"\n{banner}\n{row.details}", file=out)
    total = time.perf_counter() - started
    counts = {s: sum(r.status == s for r in rows) for s in ("PASS", "FAIL", "ERROR", "SKIP")}
    skipped = f", {counts['SKIP']} skipped" if counts["SKIP"] else ""
    print(
        f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['ERROR']} errors"
        f"{skipped} in {total:.2f}s",
        file=out,
    )
    items = [row.report_item() for row in rows]
    if args.junit_xml is not None:
        _write_junit(rows, args.junit_xml, total)
    if args.html is not None:
        from hitl_sim.reporting.html import write_html

        write_html(args.html, items)
    if args.markdown is not None:
        from hitl_sim.reporting.markdown import write_markdown

        write_markdown(args.markdown, items)
    if counts["ERROR"]:
        return 2
    return 1 if counts["FAIL"] or not counts["PASS"] else 0


@dataclass(frozen=True)
class _Job:
    """One scenario to run, as plain data (a worker process loads the file itself)."""

    ident: str
    path: Path | None
    name: str
    update_snapshots: bool
    checkpointer: str
    draw: bool
    scenario: Scenario | None = None
    """The loaded scenario, when it runs in this process."""


def _run_job(job: _Job) -> _Row:
    """Run one scenario and make its row (in this process or a worker): masked plain data."""
    from hitl_sim.reporting.item import from_result
    from hitl_sim.scenarios.loader import load_scenario, where_in_file
    from hitl_sim.scenarios.runner import run_scenario

    began = time.perf_counter()
    description = ""
    try:
        scenario = job.scenario
        if scenario is None:
            if job.path is None:
                raise ScenarioError(f"{job.ident}: a scenario without a file runs in-process only")
            scenario = load_scenario(job.path, job.name)
        description = " ".join(scenario.description.split())
        result = run_scenario(
            scenario, update_snapshots=job.update_snapshots, checkpointer=job.checkpointer
        )
    except Unsupported as exc:
        row = _Row(job.ident, description, "SKIP", time.perf_counter() - began, str(exc))
    except HitlSimError as exc:
        seconds = time.perf_counter() - began
        row = _Row(job.ident, description, "ERROR", seconds, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # the agent's or factory's own code raised: report, go on
        seconds = time.perf_counter() - began
        row = _Row(job.ident, description, "ERROR", seconds, _crash(job.ident, exc))
    else:
        status = "PASS" if result.passed else "FAIL"
        item = from_result(result, id=job.ident, locate=where_in_file)
        row = _Row(job.ident, description, status, result.seconds, result.report())
        row.item = item.rendered(draw=job.draw)
    row.details = Redactor().text(row.details)  # secret pairs in any crash text, too
    return row


def _in_processes(jobs: Sequence[_Job], processes: int) -> Iterator[_Row]:
    """The rows of `jobs` run on `processes` worker processes, in the order of `jobs` (each as
    soon as it and every one before it are done), whatever order they finish in."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    import hitl_sim.scenarios.build
    import hitl_sim.scenarios.runner  # noqa: F401  (imported once here, inherited by a fork)

    # fork shares what this process imported (langchain takes seconds to import); it is safe
    # only while this process runs no other thread, else each worker starts afresh (spawn)
    methods = multiprocessing.get_all_start_methods()
    alone = threading.active_count() == 1
    context = multiprocessing.get_context("fork" if alone and "fork" in methods else "spawn")
    with ProcessPoolExecutor(
        max_workers=min(processes, len(jobs) or 1), mp_context=context
    ) as pool:
        futures = [pool.submit(_run_job, job) for job in jobs]
        for job, future in zip(jobs, futures, strict=True):
            try:
                yield future.result()
            except Exception as exc:  # the worker itself died (a crash, out of memory)
                text = f"{type(exc).__name__}: {exc}\nThe worker process running it failed."
                yield _Row(job.ident, "", "ERROR", 0.0, text)


def _crash(ident: str, exc: Exception) -> str:
    """What a scenario whose own code raised reports: the exception and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = next(
        (f for f in reversed(frames) if "/hitl_sim/" not in f.filename.replace("\\", "/")),
        frames[-1] if frames else None,
    )
    place = f" (raised in {where.name} at {where.filename}:{where.lineno})" if where else ""
    return (
        f"{type(exc).__name__}: {exc}{place}\n"
        f"Scenario {ident} could not run: code it calls (its agent factory, a tool or a node) "
        "raised before the run could finish or record the error. Fix that code, or if the graph "
        "is meant to fail, let it raise inside a node so the run records it (expect: error:)."
    )


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 cannot hold written as `\\xNN` escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _write_junit(rows: list[_Row], path: Path, total: float) -> None:
    suite = ET.Element(
        "testsuite",
        name="hitl-sim",
        tests=str(len(rows)),
        failures=str(sum(r.status == "FAIL" for r in rows)),
        errors=str(sum(r.status == "ERROR" for r in rows)),
        skipped=str(sum(r.status == "SKIP" for r in rows)),
        time=f"{total:.3f}",
    )
    for row in rows:
        file, _, name = row.id.partition("::")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml_text(file),
            name=_xml_text(name or Path(file).stem),
            time=f"{row.seconds:.3f}",
        )
        if row.status != "PASS":
            tag = {"FAIL": "failure", "ERROR": "error", "SKIP": "skipped"}[row.status]
            item = row.report_item()
            element = ET.SubElement(case, tag, message=_xml_text(junit_message(item)))
            element.text = _xml_text(junit_body(item) if row.item else row.details)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
