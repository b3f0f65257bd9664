"""The hitl-sim exception hierarchy.

Every error subclasses `HitlSimError` and the builtin it behaves like, so
`pytest.raises(ValueError)` and `except AssertionError` keep working. Misuse of the harness is a
`TypeError`/`ValueError`; a verdict about the code under test is an `AssertionError`, so pytest
reports it as a failure. Structured fields ride on the exception as attributes.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from itertools import islice
from typing import Any

ERRORS_DOC = "docs/errors.md"
"""The error reference: one section per error class, what triggers it and the fix."""


class HitlSimError(Exception):
    """Base class of every error hitl-sim raises.

    Each carries a note (shown under the message in a traceback, never part of `str(error)`)
    pointing to its section of the error reference, e.g. `See docs/errors.md#threaderror`.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.add_note(f"See {ERRORS_DOC}#{type(self).__name__.lower()} (hitl-sim error reference).")


class InvalidArgument(HitlSimError, TypeError):
    """A hitl-sim API was called with arguments it cannot use."""


class InvalidValue(InvalidArgument, ValueError):
    """An API argument of the right type whose value is out of range (e.g. a negative latency).

    The message names the value and the range allowed. Also a `ValueError`, what Python raises for
    a value of the right type that is still wrong (`timedelta(seconds=float("nan"))`).
    """


class ScenarioError(HitlSimError, ValueError):
    """A scenario file, model script or reviewer script is malformed."""


class UnknownName(ScenarioError):
    """A reviewer names a tool or an argument the agent does not have (a typo the agent would
    silently ignore: an edit of a misspelt argument runs the original call). Raised before
    anything is sent."""

    problems: Sequence[str] = ()
    """One line per unknown name: where, the known names and the nearest match."""


class ScriptExhausted(HitlSimError, AssertionError):
    """A scripted model or reviewer was asked for more than its script holds."""

    interrupt: Any = None
    """The reviewer's case: the `PendingInterrupt` no decision was left for."""
    consumed: Sequence[Any] = ()
    """The reviewer's case: the decisions given before it ran out."""


class UnusedScript(HitlSimError, AssertionError):
    """A run ended with scripted turns or decisions nobody asked for."""


class UnexpectedInterrupt(HitlSimError, AssertionError):
    """An interrupt arrived that no responder could answer."""

    interrupt: Any = None
    """The `PendingInterrupt` nobody could answer."""


class ThreadError(HitlSimError, RuntimeError):
    """A resume would go to a thread with nothing pending, another thread, or no checkpointer."""


class RealModelBlocked(HitlSimError, RuntimeError):
    """Code under simulation tried to reach a real provider model."""


class CheckFailed(HitlSimError, AssertionError):
    """`Run.check()` found safety violations; `.violations` lists them with their evidence."""

    violations: Sequence[Any] = ()
    """The `hitl_sim.checking.violation.Violation`s found."""


class ScenarioFailed(HitlSimError, AssertionError):
    """Some expectations of a scenario did not hold; `.result` has the details."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.report())
        self.result = result


class TooManyResumes(HitlSimError, AssertionError):
    """A run kept pausing past `max_resumes`: an approval loop that never ends."""


class CheckpointerUnavailable(HitlSimError, RuntimeError):
    """A checkpointer cannot be opened here (e.g. no PostgreSQL server configured)."""


class Unsupported(HitlSimError, RuntimeError):
    """The installed libraries cannot run this scenario (e.g. AutoMode needs langchain 1.5).
    `hitl-sim run` and pytest report it as skipped, with the reason; it never counts as passed."""


class ProcessFailed(HitlSimError, RuntimeError):
    """A process the harness started (a resume in a new process) died without a result."""


class OracleMismatch(HitlSimError, AssertionError):
    """A real run did something other than what the oracle (`hitl_sim.fuzzing.oracle`) predicted
    (see `FuzzAgent`)."""

    def __init__(self, message: str, differences: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.differences = list(differences)
        """One line per difference: what the oracle expected, what the agent did."""


class _Excerpt(reprlib.Repr):
    """`repr`, cut short: a few items per container, a few levels, long strings elided."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 10
        self.maxstring = self.maxother = limit
        self.maxlong = 40

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:  # keys in order, as repr shows
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        pieces = [
            f"{self.repr1(key, level - 1)}: {self.repr1(x[key], level - 1)}"
            for key in islice(x, self.maxdict)
        ]
        if len(x) > self.maxdict:
            pieces.append("...")
        return "{" + ", ".join(pieces) + "}"

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 4 * self.maxlong:  # repr() refuses ints over 4,300 digits
            return f"<an integer of about {int(x.bit_length() * 0.30103) + 1:,} digits>"
        return super().repr_int(x, level)


def excerpt(value: object, limit: int = 200) -> str:
    """`repr(value)` for messages, at most about `limit` characters however big the value is."""
    text = _Excerpt(limit).repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "CheckFailed",
    "CheckpointerUnavailable",
    "HitlSimError",
    "InvalidArgument",
    "InvalidValue",
    "OracleMismatch",
    "ProcessFailed",
    "RealModelBlocked",
    "ScenarioError",
    "ScenarioFailed",
    "ScriptExhausted",
    "ThreadError",
    "TooManyResumes",
    "UnexpectedInterrupt",
    "UnknownName",
    "Unsupported",
    "UnusedScript",
    "ERRORS_DOC",
    "excerpt",
]
