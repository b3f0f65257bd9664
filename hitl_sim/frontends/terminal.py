"""A scripted human at the terminal, in-process: `input()` answered from a keystroke script.

`Terminal(script)` is a context manager: inside it, `input()` (and `print`, through
`sys.stdout`) belong to the script. Each `input(prompt)` records a `Prompt` (what the screen
showed since the last answer, masked) and returns the next `Keys`, after checking the prompt shows
its `at` text. A prompt with no keystrokes left is a `ScriptExhausted`; keystrokes left when the
block ends are an `UnusedScript`; a prompt that does not show what the script expects is a
`PromptMismatch`.

`TerminalReviewer(ask, script)` is a responder for `simulate()`: for each interrupt it calls the
app's own prompt function `ask(interrupt_value)` (the value the app reads from
`result["__interrupt__"][0].value`) in a `Terminal`, and sends exactly the resume value it built.
`reviewer.violations()` lists what its prompts failed to show (`args_not_shown`,
`choices_not_shown`); a value the middleware cannot take is a `CheckFailed` at once
(``resume_wrong_shape``), since the run cannot go on faithfully.
"""

from __future__ import annotations

import builtins
import io
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hitl_sim import CheckFailed, ScriptExhausted, UnexpectedInterrupt, Violation
from hitl_sim.decisions import Decision, unchecked
from hitl_sim.errors import UnusedScript
from hitl_sim.frontends.answers import read_answers
from hitl_sim.frontends.findings import raise_found
from hitl_sim.frontends.keys import Keys, script_of
from hitl_sim.frontends.prompts import Prompt, shown_violations
from hitl_sim.normalise import Redactor

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run

DOCS = "See docs/approval-front-ends.md#terminal-prompts"


class PromptMismatch(UnexpectedInterrupt):
    """A prompt did not show what the script's next `keys(..., at=...)` expects."""

    prompt: Prompt | None = None


class _Screen(io.TextIOBase):
    """What the program printed: a stand-in for sys.stdout, shared by every thread."""

    def __init__(self) -> None:
        self.text = io.StringIO()
        self.lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        with self.lock:
            return self.text.write(s)

    def value(self) -> str:
        with self.lock:
            return self.text.getvalue()


class Terminal:
    """An in-process terminal whose keyboard is a script. See the module docs."""

    def __init__(self, script: Iterable[Keys | str], *, redactor: Redactor | None = None) -> None:
        self.left: list[Keys] = script_of(script, "Terminal()")
        self.used: list[Keys] = []
        self.prompts: list[Prompt] = []
        self.redactor = redactor or Redactor()
        self._screen = _Screen()
        self._mark = 0
        self._depth = 0

    # -- the block

    def __enter__(self) -> Terminal:
        self._saved = (builtins.input, sys.stdout)
        builtins.input = self._input
        sys.stdout = self._screen
        self._depth += 1
        return self

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        builtins.input, sys.stdout = self._saved
        self._depth -= 1
        if kind is None:
            self.check_used()

    @contextmanager
    def typing(self) -> Iterator[list[Prompt]]:
        """Patch `input()` for a block, keeping the script's place (leftovers are not checked):
        the prompts of the block are yielded."""
        start = len(self.prompts)
        saved = (builtins.input, sys.stdout)
        builtins.input = self._input
        sys.stdout = self._screen
        found: list[Prompt] = []
        try:
            yield found
        finally:
            builtins.input, sys.stdout = saved
            found.extend(self.prompts[start:])

    @property
    def output(self) -> str:
        """Everything shown so far, secrets masked."""
        return self.redactor.text(self._screen.value())

    def check_used(self) -> None:
        if self.left:
            listed = "\n".join(f"- {k.describe()}" for k in self.left)
            raise UnusedScript(
                f"The program stopped asking with {len(self.left)} keystroke(s) left "
                f"unused:\n{listed}\nExpected a prompt for each. {self._history()}\n"
                f"Remove them, or check the program asks what you scripted. {DOCS}"
            )

    # -- input()

    def _input(self, prompt: object = "") -> str:
        self._screen.write(str(prompt))
        full = self._screen.value()
        screen, self._mark = full[self._mark :], len(full)
        index = len(self.prompts) + 1
        shown = self.redactor.text(screen)
        line = shown.rstrip("\n").rsplit("\n", 1)[-1]
        if not self.left:
            raise ScriptExhausted(
                f"The program asked prompt {index} {line!r} and the script has no keystrokes "
                f"left. The screen showed:\n{_indent(shown)}\n{self._history()}\n"
                f"Add keys(...) for it, or check why the program asks again. {DOCS}"
            )
        wanted = self.left[0]
        if not wanted.matches(screen):
            error = PromptMismatch(
                f"Prompt {index} {line!r} does not show {wanted.at!r}, which the next "
                f"keystrokes {wanted.describe()} expect. The screen showed:\n{_indent(shown)}\n"
                f"{self._history()}\nFix the script's at=..., or the program's prompt. {DOCS}"
            )
            error.prompt = Prompt(index, shown, "", _now())
            raise error
        self.left.pop(0)
        self.used.append(wanted)
        typed = "***" if wanted.secret else self.redactor.text(wanted.text)
        if wanted.secret:
            self.redactor.remember(wanted.text)
        self.prompts.append(Prompt(index, shown, typed, _now()))
        self._screen.write(wanted.text + "\n")  # the terminal echoes what is typed
        self._mark = len(self._screen.value())
        return wanted.text

    def _history(self) -> str:
        if not self.prompts:
            return "No prompt was answered before it."
        return "Answered before it:\n" + "\n".join(f"- {p.describe()}" for p in self.prompts)


def _now() -> datetime:
    return datetime.now(UTC)


def _indent(text: str) -> str:
    return "\n".join(f"    | {line}" for line in text.rstrip("\n").split("\n"))


class TerminalReviewer:
    """A responder answering each interrupt through the app's own terminal prompt."""

    def __init__(
        self,
        ask: Any,
        script: Iterable[Keys | str],
        *,
        by: str | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        if not callable(ask):
            from hitl_sim.errors import InvalidArgument

            raise InvalidArgument(
                f"TerminalReviewer() takes the app's prompt function first, got {ask!r}. "
                "Expected ask(interrupt_value) -> the value the app resumes with."
            )
        self.ask: Callable[[Any], Any] = ask
        self.by = by
        self.terminal = Terminal(script, redactor=redactor)
        self.asked: list[tuple[PendingInterrupt, list[Prompt]]] = []
        self._violations: list[Violation] = []

    @property
    def prompts(self) -> list[Prompt]:
        return self.terminal.prompts

    def decide(self, interrupt: PendingInterrupt, run: Run | None) -> list[Decision] | None:
        redactor = self.terminal.redactor
        redactor.learn(interrupt.value)
        used = len(self.terminal.used)
        with self.terminal.typing() as prompts:
            value = self.ask(interrupt.value)
        self.asked.append((interrupt, prompts))
        self._violations.extend(shown_violations(interrupt, prompts, redactor))
        answers = read_answers(value, [interrupt])
        if answers.problems:
            found = Violation(
                "resume_wrong_shape",
                f"The app answered {interrupt.label} with a resume value the middleware cannot "
                f"take: {'; '.join(answers.problems)}.",
                (f"sent: {redactor.text(repr(value))}", *(p.describe() for p in prompts)),
            )
            error = CheckFailed(
                f"{found}\nExpected {{'decisions': [{{'type': 'approve'}}, ...]}}, one per "
                f"action request. Fix the app's resume builder. {DOCS}"
            )
            error.violations = [found]
            raise error
        latency = sum((k.after for k in self.terminal.used[used:]), timedelta(0))
        payloads = answers.per_interrupt[0][1]
        return [
            unchecked(payload, by=self.by, after=latency if i == 0 else 0)
            for i, payload in enumerate(payloads)
        ]

    def unused(self) -> list[Decision]:
        return []

    def violations(self) -> list[Violation]:
        """What the prompts failed to show, and keystrokes left unused (``unused_keys``)."""
        found = list(self._violations)
        if self.terminal.left:
            found.append(
                Violation(
                    "unused_keys",
                    f"{len(self.terminal.left)} keystroke(s) were never asked for.",
                    tuple(k.describe() for k in self.terminal.left),
                )
            )
        return found

    def check(self) -> None:
        """Raise `CheckFailed` listing every violation of `violations()`."""
        raise_found(self.violations(), "the terminal prompts")
