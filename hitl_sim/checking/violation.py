"""A violation: one broken safety property, with the records that show it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken safety property, with the records that show it."""

    check: str
    """The check's name, e.g. 'rejected_call_ran' (pass `<name>=False` to switch it off)."""
    message: str
    evidence: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"[{self.check}] {self.message}", *(f"    {line}" for line in self.evidence)]
        return "\n".join(lines)
