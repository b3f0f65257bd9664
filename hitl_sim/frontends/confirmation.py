"""Confirmation levels as first-class: INFO just notifies, CONFIRM asks yes/no, VERIFY requires
typing a phrase such as `DELETE db-1` (the seeds' `ConfirmationLevel`).

Apps guard a destructive function with a confirmation dialog in the terminal. Wrap that function
with `levels.guard(fn, "verify", phrase="DELETE {resource_id}")` (the phrase is formatted with the
call's arguments) and answer the dialogs with a `Terminal` script; each guarded call is then judged
on the prompts shown since the previous guarded call and the last answer typed:

- ``confirmation_not_asked``: a CONFIRM or VERIFY action ran with no prompt before it (e.g. the
  app used INFO where it should ask);
- ``near_miss_accepted``: a VERIFY action ran although the text typed is not exactly the phrase
  (a phrase compared case-insensitively, stripped, or as a prefix);
- ``confirm_accepted_non_yes``: a CONFIRM action ran on an answer that is not a yes (`yes=`,
  compared case-insensitively after stripping spaces: `y`, `Y`, `yes`, ` YES `), an empty answer
  included: a prompt fails closed;
- ``phrase_not_shown``: the VERIFY prompt never showed the phrase to type;
- ``details_not_shown``: a CONFIRM or VERIFY prompt did not show an argument of the action.

A refusal that did not run is what should happen; the test asserts the effect it cares about
(`levels.calls`).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

from hitl_sim import Violation
from hitl_sim.errors import InvalidArgument
from hitl_sim.frontends.findings import raise_found
from hitl_sim.frontends.prompts import Prompt
from hitl_sim.frontends.terminal import Terminal

P = ParamSpec("P")
R = TypeVar("R")


class Level(StrEnum):
    """The seeds' confirmation levels."""

    INFO = "info"
    CONFIRM = "confirm"
    VERIFY = "verify"


@dataclass(frozen=True)
class Guarded:
    """One call of a guarded function, with the prompts answered for it."""

    name: str
    level: Level
    args: dict[str, Any]
    phrase: str | None
    prompts: tuple[Prompt, ...]
    typed: str | None = field(default=None, repr=False)
    """The last answer, unmasked (for the checks only; records show `prompts`)."""


class Confirmations:
    """The guarded functions of one app, answered through `terminal`. See the module docs."""

    def __init__(self, terminal: Terminal, *, yes: Sequence[str] = ("y", "yes")) -> None:
        if not isinstance(terminal, Terminal):
            raise InvalidArgument(
                f"Confirmations() takes the Terminal whose script answers the dialogs, got "
                f"{terminal!r}: Confirmations(Terminal([keys('DELETE db-1')]))."
            )
        self.terminal = terminal
        self.yes = tuple(answer.strip().lower() for answer in yes)
        self.calls: list[Guarded] = []
        self._seen = 0
        self._lock = threading.Lock()

    def guard(
        self, fn: Callable[P, R], level: Level | str, *, phrase: str | None = None
    ) -> Callable[P, R]:
        """`fn`, recording each call with the prompts answered since the previous guarded call."""
        try:
            chosen = Level(level)
        except ValueError:
            raise InvalidArgument(
                f"guard(level={level!r}) is not a level. Expected 'info', 'confirm' or 'verify'."
            ) from None
        if (chosen is Level.VERIFY) != (phrase is not None):
            raise InvalidArgument(
                "guard() takes phrase= exactly for level 'verify', e.g. "
                "guard(delete, 'verify', phrase='DELETE {resource_id}')."
            )
        signature = inspect.signature(fn)
        name = str(getattr(fn, "__name__", repr(fn)))

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            with self._lock:
                prompts = tuple(self.terminal.prompts[self._seen :])
                self._seen = len(self.terminal.prompts)
                used = self.terminal.used[len(self.terminal.used) - len(prompts) :]
                typed = used[-1].text if used else None
                text = None if phrase is None else phrase.format(**values)
                self.calls.append(Guarded(name, chosen, values, text, prompts, typed))
            return fn(*args, **kwargs)

        return guarded

    def violations(self) -> list[Violation]:
        found: list[Violation] = []
        for call in self.calls:
            found.extend(self._judge(call))
        return found

    def check(self) -> None:
        raise_found(self.violations(), "The app's confirmation dialogs", self.terminal.redactor)

    def _judge(self, call: Guarded) -> list[Violation]:
        about = f"{call.name}({', '.join(f'{k}={v!r}' for k, v in call.args.items())})"
        evidence = tuple(p.describe() for p in call.prompts)
        if call.level is Level.INFO:
            return []
        if not call.prompts or call.typed is None:
            return [
                Violation(
                    "confirmation_not_asked",
                    f"{about} ran at level {call.level.value.upper()} without asking: the app "
                    "only notified (INFO) or did not prompt at all. Expected a prompt answered "
                    "before it ran.",
                    ("(no prompt since the previous guarded call)",),
                )
            ]
        found: list[Violation] = []
        screen = "".join(p.screen for p in call.prompts)
        typed = call.typed
        if call.level is Level.VERIFY and call.phrase is not None:
            if typed != call.phrase:
                found.append(
                    Violation(
                        "near_miss_accepted",
                        f"{about} ran although {call.prompts[-1].typed!r} was typed and the "
                        f"phrase is {call.phrase!r}: the app compares loosely. Expected an "
                        "exact, case-sensitive match (`response == phrase`).",
                        evidence,
                    )
                )
            if call.phrase not in screen:
                found.append(
                    Violation(
                        "phrase_not_shown",
                        f"The VERIFY prompt for {about} never showed the phrase "
                        f"{call.phrase!r} to type.",
                        evidence,
                    )
                )
        if call.level is Level.CONFIRM and typed.strip().lower() not in self.yes:
            found.append(
                Violation(
                    "confirm_accepted_non_yes",
                    f"{about} ran on the answer {call.prompts[-1].typed!r}, which is not a yes "
                    f"({', '.join(map(repr, self.yes))}): a confirmation must fail closed.",
                    evidence,
                )
            )
        hidden = [
            f"{key}={value!r}"
            for key, value in call.args.items()
            if str(value) not in screen and repr(value) not in screen
        ]
        if hidden:
            found.append(
                Violation(
                    "details_not_shown",
                    f"The {call.level.value.upper()} prompt for {call.name} never showed "
                    f"{', '.join(hidden)}.",
                    evidence,
                )
            )
        return found
