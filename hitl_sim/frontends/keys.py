"""What a scripted human types at a prompt: `keys("a", at="[a]pprove")`.

One `Keys` answers one prompt (one `input()` call, or one line a CLI program waits for). The
same script drives the in-process terminal (`hitl_sim.frontends.terminal`) and a real CLI program
on a pseudo-terminal (`hitl_sim.frontends.pty`). `at` is text the prompt must show (a substring;
a compiled regex matches itself): checked in-process, and on a pty it is how the session knows
the program is asking. `after` is the human's latency on the frozen clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from hitl_sim.errors import InvalidArgument, InvalidValue


@dataclass(frozen=True)
class Keys:
    """One answer typed at one prompt (Enter is pressed after `text`)."""

    text: str
    at: str | re.Pattern[str] | None = None
    """What the prompt must show before this is typed; None: any prompt."""
    after: timedelta = field(default=timedelta(0))
    secret: bool = False
    """Mask what is typed in every record (a password typed at a prompt)."""

    def pattern(self) -> re.Pattern[str] | None:
        if self.at is None or isinstance(self.at, re.Pattern):
            return self.at
        return re.compile(re.escape(self.at))

    def matches(self, screen: str) -> bool:
        found = self.pattern()
        return found is None or found.search(screen) is not None

    def describe(self) -> str:
        typed = "'***'" if self.secret else repr(self.text)
        where = "" if self.at is None else f" at {_at_text(self.at)!r}"
        return f"keys({typed}{where})"


def _at_text(at: str | re.Pattern[str]) -> str:
    return at if isinstance(at, str) else at.pattern


def keys(
    text: str,
    *,
    at: str | re.Pattern[str] | None = None,
    after: timedelta | float = 0,
    secret: bool = False,
) -> Keys:
    """Type `text` (then Enter) at the next prompt, which must show `at` if given."""
    if not isinstance(text, str):
        raise InvalidArgument(
            f"keys() types a str, got {text!r} ({type(text).__name__}). Write keys('a') or, for "
            "JSON, keys(json.dumps({...}))."
        )
    if "\n" in text or "\r" in text:
        raise InvalidValue(
            f"keys({text!r}) holds a line break; one Keys answers one prompt. Split it: "
            "[keys('first'), keys('second')]."
        )
    if at is not None and not isinstance(at, str | re.Pattern):
        raise InvalidArgument(f"keys(at={at!r}) takes a str or a compiled regex.")
    if at == "":
        raise InvalidValue("keys(at='') matches every prompt; leave at=None for that.")
    latency = after if isinstance(after, timedelta) else timedelta(seconds=after)
    if latency < timedelta(0):
        raise InvalidValue(f"keys(after={after!r}) is negative; a latency is 0 or more.")
    return Keys(text, at, latency, secret)


def script_of(script: Iterable[Keys | str], where: str) -> list[Keys]:
    """A script checked: `Keys`, or plain strings as `keys(text)`."""
    if isinstance(script, str | Keys):
        raise InvalidArgument(
            f"{where} takes a list of keystrokes, got {script!r}. Write [keys('a')]."
        )
    found: list[Keys] = []
    for item in script:
        if isinstance(item, str):
            item = keys(item)
        if not isinstance(item, Keys):
            raise InvalidArgument(
                f"{where} got {item!r} in its script. Expected keys('text', at='prompt') or a str."
            )
        found.append(item)
    return found
