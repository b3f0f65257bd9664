"""A progress line for long runs: `[ 7/75] 1 failed, 0 errors  scenarios/x.yaml` rewritten in
place on a terminal (stderr, say), and nothing at all elsewhere, so logs and files stay the same
bytes whatever the speed or the order items finish in (`-n N` parallel runs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from hitl_sim.reporting.color import Colors
from hitl_sim.reporting.item import Status

__all__ = ["Progress"]


@dataclass
class Progress:
    """Counts finished items out of `total`; draws only when `live` (a terminal)."""

    stream: TextIO
    total: int
    live: bool
    colors: Colors = field(default_factory=lambda: Colors(False))
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    _width: int = 0

    @classmethod
    def for_stream(cls, stream: TextIO, total: int, color: str = "auto") -> Progress:
        """Live on a terminal only (`isatty`); coloured as `color` says (see `Colors`)."""
        return cls(stream, total, _isatty(stream), Colors.for_stream(stream, color))

    def line(self, ident: str, status: Status) -> str:
        """The text drawn after `ident` finished with `status` (counted already)."""
        digits = len(str(self.total))
        bad = self.counts.get("FAIL", 0), self.counts.get("ERROR", 0)
        tally = f"{bad[0]} failed, {bad[1]} errors"
        tally = self.colors.paint(tally, "FAIL") if any(bad) else tally
        return f"[{self.done:>{digits}}/{self.total}] {tally}  {self.colors.status(status)} {ident}"

    def advance(self, ident: str, status: Status) -> None:
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if not self.live:
            return
        text = self.line(ident, status)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        """Erase the line (a terminal's scrollback keeps only the report)."""
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._width = 0


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False
