"""ANSI colour for a terminal: `--color auto|always|never`, with `NO_COLOR` respected.

`Colors.for_stream(sys.stdout, "auto")` colours only a terminal (`isatty`) whose environment
has no `NO_COLOR` (https://no-color.org: any non-empty value) and whose `TERM` is not `dumb`;
`always` colours even a pipe (CI logs that render ANSI) unless `NO_COLOR` is set, and `never`
never does. Text that is not coloured is returned unchanged, so output compares byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TextIO

from hitl_sim.errors import InvalidValue

__all__ = ["MODES", "Colors", "ColorMode", "wants_color"]

ColorMode = Literal["auto", "always", "never"]
MODES: tuple[ColorMode, ...] = ("auto", "always", "never")

_CODES = {
    "PASS": "32",  # green
    "FAIL": "31;1",  # bold red
    "ERROR": "35;1",  # bold magenta
    "SKIP": "33",  # yellow
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
}


def wants_color(
    stream: TextIO | None, mode: str = "auto", environ: Mapping[str, str] | None = None
) -> bool:
    """Whether output to `stream` is coloured in `mode` (`environ`: default `os.environ`)."""
    if mode not in MODES:
        raise InvalidValue(
            f"color mode {mode!r} is not one of {', '.join(MODES)}. "
            "Use --color auto (a terminal only), always, or never."
        )
    env = os.environ if environ is None else environ
    if mode == "never" or env.get("NO_COLOR", ""):
        return False
    if mode == "always":
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


@dataclass(frozen=True)
class Colors:
    """Wraps text in ANSI codes when `enabled`, else returns it unchanged."""

    enabled: bool

    @classmethod
    def for_stream(
        cls, stream: TextIO | None, mode: str = "auto", environ: Mapping[str, str] | None = None
    ) -> Colors:
        return cls(wants_color(stream, mode, environ))

    def paint(self, text: str, style: str) -> str:
        code = _CODES.get(style)
        if not self.enabled or code is None or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"

    def status(self, status: str, width: int = 0) -> str:
        """A PASS/FAIL/ERROR/SKIP word, padded to `width` outside the colour codes."""
        return self.paint(status, status) + " " * max(0, width - len(status))

    def bold(self, text: str) -> str:
        return self.paint(text, "bold")

    def dim(self, text: str) -> str:
        return self.paint(text, "dim")
