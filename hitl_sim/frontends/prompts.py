"""What each prompt showed the human, and whether that was enough to decide on.

A `Prompt` is one question put to the human: the screen since the previous answer (what the
program printed, then the prompt itself), what was typed, and when (on the frozen clock). Screens
are stored with secrets masked. `shown_violations(interrupt, prompts)` checks that the prompts of
one interrupt showed every call under review (its tool, each argument) and the choices allowed:

- ``args_not_shown``: a tool name or an argument value the human never saw before deciding;
- ``choices_not_shown``: an allowed decision (approve / edit / reject / respond) never offered.

A secret argument (`api_key`, ...) counts as shown when its name is.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hitl_sim import Violation
from hitl_sim.normalise import Redactor

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt


@dataclass(frozen=True)
class Prompt:
    """One prompt: what the screen showed, and what the human typed."""

    index: int
    """1-based, over the session."""
    screen: str
    """Everything shown since the previous answer, the prompt line included (secrets masked)."""
    typed: str
    """What was typed (masked for `keys(..., secret=True)` and secret values)."""
    at: datetime
    """When it was answered, on the frozen clock."""

    @property
    def line(self) -> str:
        """The prompt line itself: the screen's last line."""
        return self.screen.rstrip("\n").rsplit("\n", 1)[-1]

    def describe(self) -> str:
        return f"prompt {self.index} {self.line!r} <- {self.typed!r}"


def _shown_forms(value: Any) -> list[str]:
    """Ways a value may be printed: str, repr, JSON."""
    forms = [str(value), repr(value)]
    with contextlib.suppress(TypeError, ValueError):
        forms.append(json.dumps(value))
    return forms


def _plain(screen: str) -> str:
    """The screen without the bracket shortcuts of `[a]pprove`, lower case."""
    return re.sub(r"[\[\(](\w)[\]\)]", r"\1", screen).lower()


def shown_violations(
    interrupt: PendingInterrupt, prompts: Sequence[Prompt], redactor: Redactor | None = None
) -> list[Violation]:
    """What the prompts of `interrupt` failed to show: see the module docs."""
    redactor = redactor or Redactor()
    redactor.learn(interrupt.value)
    screen = "".join(prompt.screen for prompt in prompts)
    where = interrupt.label
    evidence = tuple(p.describe() for p in prompts) or ("(no prompt was shown)",)
    found: list[Violation] = []
    for action in interrupt.actions:
        missing: list[str] = []
        if action.name not in screen:
            missing.append(f"the tool name {action.name!r}")
        for key, value in action.args.items():
            if redactor.is_secret(key):
                if key not in screen:
                    missing.append(f"the argument name {key!r}")
                continue
            if not any(redactor.text(form) in screen for form in _shown_forms(value)):
                missing.append(f"argument {key}={redactor.text(repr(value))}")
        if missing:
            found.append(
                Violation(
                    "args_not_shown",
                    f"The human decided {action.name} at {where} without seeing "
                    f"{', '.join(missing)}. Expected the prompt to show the tool and every "
                    "argument (print them before asking).",
                    evidence,
                )
            )
        plain = _plain(screen)
        hidden = [choice for choice in action.allowed if choice not in plain]
        if hidden:
            found.append(
                Violation(
                    "choices_not_shown",
                    f"The prompt for {action.name} at {where} never offered "
                    f"{', '.join(map(repr, hidden))} (allowed: {', '.join(action.allowed)}). "
                    "Expected every allowed decision on screen, e.g. '[a]pprove / [e]dit / "
                    "[r]eject'.",
                    evidence,
                )
            )
    return found


def asked_on(graph: Any, thread_id: str) -> list[PendingInterrupt]:
    """Every interrupt a thread ever paused at, oldest first (read from its checkpoint history):
    what a CLI program in another process asked, for `shown_violations`."""
    from hitl_sim.interrupts import pending_in

    config = {"configurable": {"thread_id": thread_id}}
    seen: dict[str | None, PendingInterrupt] = {}
    for snapshot in reversed(list(graph.get_state_history(config))):
        for found in pending_in(snapshot):
            if found.kind != "breakpoint" and found.id not in seen:
                seen[found.id] = found
    return [_numbered(interrupt, seq) for seq, interrupt in enumerate(seen.values(), 1)]


def _numbered(interrupt: PendingInterrupt, seq: int) -> PendingInterrupt:
    from dataclasses import replace

    return replace(interrupt, seq=seq)
