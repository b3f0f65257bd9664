"""One reported item (a scenario or a test) as the reports need it, whoever produced it.

`from_result(result)` reads a `hitl_sim.scenarios.runner.ScenarioResult` (or anything shaped like
one, see `ResultLike`); `ReportItem(...)` directly serves the pytest plugin's test items and the
command line's ERROR and SKIP rows. Fail closed: a status that is not PASS, FAIL, ERROR or SKIP
(or pytest's passed/failed/error/skipped) is reported as ERROR, and an item given as PASS that
carries a failed expectation is a FAIL. SKIP is never counted as passed.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from hitl_sim.normalise import Redactor, stable_text
from hitl_sim.reporting.diagram import ViolationLike, mermaid, svg, violations_of
from hitl_sim.run import Run

__all__ = [
    "STATUSES",
    "Failure",
    "ReportItem",
    "ResultLike",
    "RunView",
    "Status",
    "expectation_keys",
    "from_result",
    "from_test",
    "shown_path",
    "status_of",
]

Status = Literal["PASS", "FAIL", "ERROR", "SKIP"]
STATUSES: tuple[Status, ...] = ("FAIL", "ERROR", "SKIP", "PASS")
"""Every status, worst first (the order reports list them in)."""
_PYTEST = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def _known(value: object) -> bool:
    word = value.strip() if isinstance(value, str) else None
    return word is not None and (word.upper() in STATUSES or word.lower() in _PYTEST)


def status_of(value: object) -> Status:
    """`value` as a status: PASS/FAIL/ERROR/SKIP or pytest's outcome word; anything else
    (None, an unknown word, a typo) is ERROR: an item nobody judged is never a pass."""
    if isinstance(value, str):
        word = value.strip()
        if word.upper() in ("PASS", "FAIL", "ERROR", "SKIP"):
            return word.upper()  # type: ignore[return-value]
        if word.lower() in _PYTEST:
            return _PYTEST[word.lower()]  # type: ignore[return-value]
    return "ERROR"


@dataclass(frozen=True)
class Failure:
    """One failed expectation, and where the scenario file states it (`path:line`)."""

    text: str
    where: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.text}" if self.where else self.text


@dataclass(frozen=True)
class RunView:
    """One run as the reports show it, already drawn and masked: plain strings, so an item can
    cross a process boundary (`hitl-sim run -n`, pytest-xdist) or be stored as JSON."""

    svg: str
    mermaid: str
    timeline: str
    audit: str

    @classmethod
    def of(cls, run: Run, violations: Sequence[ViolationLike] | None) -> RunView:
        return cls(
            svg=svg(run, violations),
            mermaid=mermaid(run, violations),
            timeline=stable_text(run.timeline()),
            audit=stable_text(str(run.audit)),
        )


@dataclass(frozen=True)
class ReportItem:
    """What every report shows of one scenario or test.

    Give it `runs` (drawn when a report needs them) or `views` (drawn already: `rendered()`
    turns the one into the other, with every text masked, for sending to another process)."""

    id: str
    status: Status
    description: str = ""
    tags: tuple[str, ...] = ()
    where: str | None = None
    """The scenario file (or test file:line)."""
    failures: tuple[Failure, ...] = ()
    runs: tuple[Run, ...] = ()
    violations: tuple[tuple[ViolationLike, ...] | None, ...] = ()
    """Per run, what the safety checks found (None: not judged). Shorter than `runs`: the
    missing ones are judged by the report (`hitl_sim.reporting.diagram.violations_of`)."""
    details: str = ""
    """The whole text report: the failed expectations and the timelines, an error's traceback
    summary, a skip's reason."""
    snapshot_diffs: tuple[str, ...] = ()
    """Unified diffs of snapshots that did not match."""
    views: tuple[RunView, ...] = ()
    """The runs drawn already (when `runs` is empty: see `rendered()`)."""
    _note: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        given = self.status
        status = status_of(given)
        note = ""
        if status == "ERROR" and not _known(given):
            note = f"given status {given!r} is not PASS/FAIL/ERROR/SKIP: not judged"
        elif status == "PASS" and self.failures:
            status = "FAIL"
            note = f"given as {given!r}, but an expectation failed"
        if note:
            object.__setattr__(self, "_note", note)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "tags", tuple(str(t) for t in self.tags))
        object.__setattr__(self, "runs", tuple(self.runs))
        object.__setattr__(self, "failures", tuple(self.failures))

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    @property
    def status_note(self) -> str:
        """Why the status is not the one given (empty when it is)."""
        return self._note

    def violations_of_run(self, index: int) -> tuple[ViolationLike, ...] | None:
        if index < len(self.violations):
            return self.violations[index]
        return tuple(violations_of(self.runs[index]))

    def mask(self, text: str) -> str:
        """`text` with every secret any of the item's runs saw masked (secret pairs too)."""
        return self._masker(text)

    @functools.cached_property
    def run_views(self) -> tuple[RunView, ...]:
        """Each run drawn (the given `views` when the item carries no runs)."""
        if not self.runs:
            return self.views
        return tuple(RunView.of(run, self.violations_of_run(i)) for i, run in enumerate(self.runs))

    def rendered(self, *, draw: bool = True) -> ReportItem:
        """This item with its runs drawn into `views` and every text masked: only strings left,
        so it pickles and round-trips through `to_dict` / `from_dict`. `draw=False` leaves the
        runs out undrawn (for the JUnit XML and the table, which show no diagram)."""
        mask = self.mask
        return dataclasses.replace(
            self,
            id=mask(self.id),
            description=mask(self.description),
            tags=tuple(mask(tag) for tag in self.tags),
            failures=tuple(
                Failure(mask(f.text), mask(f.where) if f.where else None) for f in self.failures
            ),
            details=mask(self.details),
            snapshot_diffs=tuple(mask(diff) for diff in self.snapshot_diffs),
            runs=(),
            violations=(),
            views=self.run_views if draw else (),
        )

    def to_dict(self) -> dict[str, Any]:
        """The rendered item as JSON-ready data (what pytest-xdist can carry to the controller)."""
        done = self.rendered()
        return {
            "id": done.id,
            "status": done.status,
            "note": done.status_note,
            "description": done.description,
            "tags": list(done.tags),
            "where": done.where,
            "failures": [[f.text, f.where] for f in done.failures],
            "details": done.details,
            "snapshot_diffs": list(done.snapshot_diffs),
            "views": [dataclasses.asdict(view) for view in done.views],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportItem:
        """The item `to_dict` gave (an unknown status is still an ERROR)."""
        return cls(
            id=str(data["id"]),
            status=data.get("status"),  # type: ignore[arg-type]
            description=str(data.get("description", "")),
            tags=tuple(data.get("tags", ())),
            where=data.get("where"),
            failures=tuple(Failure(str(t), w) for t, w in data.get("failures", ())),
            details=str(data.get("details", "")),
            snapshot_diffs=tuple(data.get("snapshot_diffs", ())),
            views=tuple(RunView(**view) for view in data.get("views", ())),
            _note=str(data.get("note", "")),
        )

    @functools.cached_property
    def _masker(self) -> Callable[[str], str]:
        return _masker(self.runs)


class _ScenarioLike(Protocol):
    @property
    def description(self) -> str: ...

    @property
    def tags(self) -> Sequence[str]: ...

    @property
    def where(self) -> str: ...


class ResultLike(Protocol):
    """What `from_result` needs of a `ScenarioResult`."""

    @property
    def scenario(self) -> _ScenarioLike: ...

    @property
    def runs(self) -> Sequence[Run]: ...

    @property
    def failures(self) -> Sequence[str]: ...

    @property
    def passed(self) -> bool: ...

    def report(self) -> str: ...


Locate = Callable[[Any, tuple[str | int, ...]], str]
"""`(scenario, keys) -> "path:line"`: `hitl_sim.scenarios.loader.where_in_file` fits."""
Judge = Callable[[Run], Sequence[ViolationLike]]
"""`run -> violations`: `hitl_sim.checking.checks.violations` fits (default: `violations_of`)."""

_LABEL = re.compile(r"^(?:run|then\[(?P<step>\d+)\] \([a-z]+\)): (?P<rest>.*)", re.S)
_KEY = re.compile(r"^(?P<key>[a-z_]+)(?:[.\[:]| )")
_NOT_EXPECT = {"model script": ("model",)}


_EXPECT_KEYS = frozenset(
    [
        "status",
        "executed",
        "not_executed",
        "final_message",
        "error",
        "raises",
        "interrupts",
        "pending",
        "violations",
        "checks_off",
        "model_saw",
        "state",
        "model_calls",
        "decisions",
        "snapshot",
    ]
)
"""The keys of a scenario's `expect:` (a failure naming another word points at `expect:`)."""


def expectation_keys(failure: str) -> tuple[str | int, ...]:
    """The keys of the scenario file a `ScenarioResult` failure is about:
    `"run: status: expected ..."` is `("expect", "status")`, `"then[1] (resume): executed: ..."`
    is `("then", 1, "expect", "executed")`, `"run: raised ..."` is `("expect", "raises")`; a
    failure about no key of the file is `()` (the scenario itself)."""
    for prefix, keys in _NOT_EXPECT.items():
        if failure.startswith(prefix + ":"):
            return keys
    label = _LABEL.match(failure)
    if label is None:
        key = _KEY.match(failure)
        return ("expect", key["key"]) if key and key["key"] in _EXPECT_KEYS else ()
    base: tuple[str | int, ...] = (
        ("then", int(label["step"]), "expect") if label["step"] is not None else ("expect",)
    )
    rest = label["rest"]
    if rest.startswith("raised ") or rest.startswith("expected ") and "to be raised" in rest:
        return (*base, "raises")
    key = _KEY.match(rest)
    return (*base, key["key"]) if key and key["key"] in _EXPECT_KEYS else base


def shown_path(text: str) -> str:
    """`text` with this working directory's prefix dropped and machine paths stabilised."""
    cwd = os.getcwd().rstrip(os.sep) + os.sep
    return stable_text(text.replace(cwd, ""))


def from_result(
    result: ResultLike,
    *,
    id: str | None = None,
    locate: Locate | None = None,
    judge: Judge | None = None,
    status: str | None = None,
) -> ReportItem:
    """The item of one scenario result. `locate` finds each failed expectation's line in the
    file (else the failure names the scenario); `judge` finds each run's safety violations for
    its diagram (default: every default check but the scenario's own `checks_off`, with
    `violations_of`, so the diagram agrees with the verdict)."""
    scenario = result.scenario
    runs = tuple(result.runs)
    redact = _masker(runs)
    where = shown_path(scenario.where)
    failures = []
    snapshot_diffs = []
    for text in result.failures:
        place = where
        if locate is not None:
            try:
                place = shown_path(locate(scenario, expectation_keys(text)))
            except Exception:  # a file edited or removed since it ran: name the scenario
                place = where
        failures.append(Failure(redact(text), place))
        if ": snapshot: " in f": {text}" or text.startswith(("snapshot:", "run: snapshot:")):
            snapshot_diffs.append(redact(text.partition("snapshot: ")[2]))
    if judge is None:  # the scenario's own `checks_off`, so its diagram agrees with its verdict
        off = _checks_off(scenario)
        judged = tuple(tuple(violations_of(run, off)) for run in runs)
    else:
        judged = tuple(tuple(judge(run)) for run in runs)
    given = status if status is not None else "PASS" if result.passed else "FAIL"
    return ReportItem(
        id=shown_path(id if id is not None else scenario.where),
        status=status_of(given),
        description=" ".join(scenario.description.split()) + _switched_off(scenario, runs),
        tags=tuple(scenario.tags),
        where=where,
        failures=tuple(failures),
        runs=runs,
        violations=judged,
        details=shown_path(result.report()),
        snapshot_diffs=tuple(snapshot_diffs),
    )


def _switched_off(scenario: object, runs: Sequence[Run]) -> str:
    """What the scenario's `checks_off` hid, so a report never shows it as a silent pass."""
    off = _checks_off(scenario)
    if not off:
        return ""
    hidden = Counter(v.check for run in runs for v in violations_of(run, ()) if v.check in off)
    found = ", ".join(f"{check} x{count}" for check, count in sorted(hidden.items()))
    return f" [checks off: {', '.join(off)}; they would have found: {found or 'nothing'}]"


def _checks_off(scenario: object) -> tuple[str, ...]:
    """The checks a scenario switches off (`expect.checks_off`, and each `then:` step's)."""
    expects = [getattr(scenario, "expect", None)]
    expects += [getattr(step, "expect", None) for step in getattr(scenario, "then", ()) or ()]
    names = [str(n) for expect in expects for n in getattr(expect, "checks_off", ()) or ()]
    return tuple(dict.fromkeys(names))


def _masker(runs: Sequence[Run]) -> Callable[[str], str]:
    redactors = [run.redactor() for run in runs] or [Redactor()]

    def mask(text: str) -> str:
        for redactor in redactors:
            text = redactor.text(text)
        return text

    return mask


def from_test(
    nodeid: str,
    outcome: object,
    *,
    where: str | None = None,
    message: str = "",
    details: str = "",
    runs: Sequence[Run] = (),
    tags: Sequence[str] = (),
    description: str = "",
) -> ReportItem:
    """The item of one pytest test (plain values, so this module needs no pytest): `outcome`
    is pytest's word (passed, failed, skipped, error; anything else is ERROR), `where` its
    `path:line`, `message` the first line of the failure (the failed assertion) and `details`
    the whole longrepr. A failed test without a message still carries one failure."""
    status = status_of(outcome)
    failures: tuple[Failure, ...] = ()
    if status == "FAIL":
        first = message or next((s for s in details.splitlines() if s.strip()), "")
        failures = (Failure(first.strip() or "the test failed", where),)
    mask = _masker(tuple(runs))
    return ReportItem(
        id=shown_path(nodeid),
        status=outcome if _known(outcome) else repr(outcome),  # type: ignore[arg-type]
        description=" ".join(description.split()),
        tags=tuple(tags),
        where=shown_path(where) if where else None,
        failures=tuple(
            Failure(mask(f.text), shown_path(f.where) if f.where else None) for f in failures
        ),
        runs=tuple(runs),
        details=shown_path(mask(details)),
    )
