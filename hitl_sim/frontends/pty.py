"""A scripted human at a real CLI program, on a pseudo-terminal (pexpect).

`PtySession(argv, script).run()` starts the program on a pty, and for each `Keys` waits (at most
`timeout` seconds of real time) until the screen shows its `at` text, records a `Prompt` (the
screen since the last answer, secrets masked), and types the text and Enter. Once the script is
used up it waits for the program to exit. The same script format as the in-process
`hitl_sim.frontends.terminal`, with `at=` required: on a pty it is the only way to tell that the
program is asking.

Fails closed, naming the screen: a prompt that never comes is a `PromptTimeout`, a program that
exits with keystrokes left an `UnusedScript`, a program still waiting for input after the last
keystroke a `ScriptExhausted`. `session.violations(interrupts)` checks what the prompts showed
(`args_not_shown`, `choices_not_shown`) against the interrupts the program's thread paused at
(`hitl_sim.frontends.prompts.asked_on(graph, thread_id)` reads them from its checkpointer).

Time is real here: pexpect's timeouts read the wall clock, so do not run it under a frozen clock.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hitl_sim import ScriptExhausted, Violation
from hitl_sim.errors import InvalidArgument, UnusedScript, excerpt
from hitl_sim.frontends.findings import raise_found
from hitl_sim.frontends.keys import Keys, script_of
from hitl_sim.frontends.prompts import Prompt, shown_violations
from hitl_sim.frontends.terminal import PromptMismatch
from hitl_sim.normalise import Redactor

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt

DOCS = "See docs/approval-front-ends.md#a-real-terminal"


class PromptTimeout(PromptMismatch):
    """The program did not show the prompt the script waits for within the timeout."""


class PtySession:
    """One run of a CLI program on a pseudo-terminal, answered from a script."""

    def __init__(
        self,
        argv: Sequence[str],
        script: Iterable[Keys | str],
        *,
        timeout: float = 10.0,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(argv, str) or not argv:
            raise InvalidArgument(
                f"PtySession() takes the program as a list of arguments, got {argv!r}, e.g. "
                "[sys.executable, 'my_cli.py']."
            )
        self.argv = list(argv)
        self.script = script_of(script, "PtySession()")
        for index, wanted in enumerate(self.script, 1):
            if wanted.at is None:
                raise InvalidArgument(
                    f"Keystroke {index} {wanted.describe()} has no at=...: on a pty the session "
                    "can only tell the program is asking by what it shows. Write "
                    f"keys({wanted.text!r}, at='<the prompt>'). {DOCS}"
                )
        self.timeout = timeout
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self.prompts: list[Prompt] = []
        self.redactor = Redactor()
        self.exitstatus: int | None = None
        self._output: list[str] = []

    @property
    def output(self) -> str:
        """Everything the program showed (typed text echoed), secrets masked."""
        return self.redactor.text("".join(self._output))

    def run(self) -> PtySession:
        """Run the program to its end through the script; returns the session."""
        import pexpect

        child = pexpect.spawn(
            self.argv[0],
            self.argv[1:],
            cwd=self.cwd,
            env=self.env,
            encoding="utf-8",
            timeout=self.timeout,
            dimensions=(50, 200),
        )
        try:
            for index, wanted in enumerate(self.script, 1):
                pattern = wanted.pattern()
                assert pattern is not None  # checked in __init__
                found = child.expect([pattern, pexpect.EOF, pexpect.TIMEOUT])
                screen = _text(child.before) + (_text(child.after) if found == 0 else "")
                self._output.append(screen)
                if found != 0:
                    self._failed(child, index, wanted, screen, found == 1)
                shown = self.redactor.text(screen)
                if wanted.secret:
                    self.redactor.remember(wanted.text)
                typed = "***" if wanted.secret else self.redactor.text(wanted.text)
                self.prompts.append(Prompt(index, shown, typed, datetime.now(UTC)))
                child.sendline(wanted.text)
            found = child.expect([pexpect.EOF, pexpect.TIMEOUT])
            rest = _text(child.before)
            self._output.append(rest)
            if found == 1:
                raise ScriptExhausted(
                    f"{self._who()} is still running {self.timeout}s after the last scripted "
                    f"keystroke, probably waiting for input. Its screen since then:\n"
                    f"{_indent(self.redactor.text(rest))}\n{self._history()}\nAdd keys(...) "
                    f"for what it asks, or raise timeout=. {DOCS}"
                )
        finally:
            child.close(force=True)
            self.exitstatus = (
                child.exitstatus if child.exitstatus is not None else child.signalstatus
            )
        return self

    def _failed(self, child: Any, index: int, wanted: Keys, screen: str, ended: bool) -> None:
        shown = _indent(self.redactor.text(screen))
        if ended:
            child.close()
            left = "\n".join(f"- {k.describe()}" for k in self.script[index - 1 :])
            raise UnusedScript(
                f"{self._who()} exited (status {child.exitstatus!r}) before prompt {index}, "
                f"with keystrokes left:\n{left}\nIts screen since the last answer:\n{shown}\n"
                f"{self._history()}\nRemove them, or check why the program stopped. {DOCS}"
            )
        raise PromptTimeout(
            f"{self._who()} did not show {wanted.at!r} within {self.timeout}s, which "
            f"keystroke {index} {wanted.describe()} waits for. Its screen since the last "
            f"answer:\n{shown}\n{self._history()}\nFix at=..., the program's prompt, or raise "
            f"timeout=. {DOCS}"
        )

    def _who(self) -> str:
        return f"The program {excerpt(' '.join(self.argv[1:]) or self.argv[0], 100)}"

    def _history(self) -> str:
        if not self.prompts:
            return "No prompt was answered before it."
        return "Answered before it:\n" + "\n".join(f"- {p.describe()}" for p in self.prompts)

    # -- checks

    def violations(
        self, interrupts: Sequence[PendingInterrupt], groups: Sequence[int] | None = None
    ) -> list[Violation]:
        """What the prompts failed to show about `interrupts`. `groups`: how many prompts each
        interrupt took, in order (default: every prompt counts for every interrupt)."""
        if groups is not None and (
            len(groups) != len(interrupts) or sum(groups) > len(self.prompts)
        ):
            raise InvalidArgument(
                f"groups={list(groups)!r} must give one prompt count per interrupt "
                f"({len(interrupts)}) and add up to at most the {len(self.prompts)} prompts."
            )
        found: list[Violation] = []
        start = 0
        for position, interrupt in enumerate(interrupts):
            if groups is None:
                prompts = self.prompts
            else:
                prompts = self.prompts[start : start + groups[position]]
                start += groups[position]
            found.extend(shown_violations(interrupt, prompts, self.redactor))
        return found

    def check(
        self, interrupts: Sequence[PendingInterrupt], groups: Sequence[int] | None = None
    ) -> None:
        raise_found(self.violations(interrupts, groups), "The CLI program's prompts", self.redactor)


def _text(value: Any) -> str:
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def _indent(text: str) -> str:
    return "\n".join(f"    | {line}" for line in text.rstrip("\n").split("\n"))


def python() -> str:
    """The interpreter running this process, for `PtySession([python(), "my_cli.py"], ...)`."""
    return sys.executable
