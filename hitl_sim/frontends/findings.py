"""Front-end checks report like `run.check()`: named `Violation`s with evidence, in a
`CheckFailed`."""

from __future__ import annotations

from collections.abc import Sequence

from hitl_sim import CheckFailed, Violation
from hitl_sim.normalise import Redactor


def raise_found(found: Sequence[Violation], what: str, redactor: Redactor | None = None) -> None:
    """Raise `CheckFailed` (with `.violations`) when `found` is not empty; secrets masked."""
    if not found:
        return
    text = (redactor or Redactor()).text
    found = [Violation(v.check, text(v.message), tuple(map(text, v.evidence))) for v in found]
    listed = "\n".join(f"{i}. {v}".replace("\n", "\n   ") for i, v in enumerate(found, 1))
    error = CheckFailed(
        f"{what} broke {len(found)} check(s):\n{listed}\nFix the app. See "
        "docs/approval-front-ends.md#checks"
    )
    error.violations = list(found)
    raise error
