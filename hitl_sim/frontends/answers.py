"""Reading the resume value an application built: which payload answers which pending call.

`HumanInTheLoopMiddleware` takes `{"decisions": [...]}` (one decision per action request, in
order) for a single batched interrupt, one decision for a per_call interrupt, and a map from
interrupt id to answer when several are pending. `read_answers(value, pending)` splits an app's
value along those lines and lists every way it does not fit (the shape hitl-sim's own driver
would send), so a front end that builds the resume itself is judged on what it really sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hitl_sim.decisions import MIDDLEWARE_DECISIONS
from hitl_sim.errors import excerpt

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt


@dataclass(frozen=True)
class Answers:
    """An app's resume value, split per interrupt: payloads in action order, and problems."""

    per_interrupt: tuple[tuple[PendingInterrupt, tuple[Any, ...]], ...]
    problems: tuple[str, ...]


def _payload_problems(payload: Any, interrupt: PendingInterrupt, index: int) -> list[str]:
    action = interrupt.actions[index] if index < len(interrupt.actions) else None
    about = action.name if action is not None else f"action {index + 1}"
    if not isinstance(payload, Mapping):
        return [f"the decision for {about} is {excerpt(payload)}, not a dict with a 'type'"]
    kind = payload.get("type")
    if kind not in MIDDLEWARE_DECISIONS:
        return [
            f"the decision for {about} has type {excerpt(kind)}; the middleware knows "
            f"{', '.join(MIDDLEWARE_DECISIONS)} (got {excerpt(payload)})"
        ]
    if action is not None and action.allowed and kind not in action.allowed:
        return [f"the decision for {about} is {kind!r}; allowed: {', '.join(action.allowed)}"]
    if kind == "edit":
        edited = payload.get("edited_action")
        if not isinstance(edited, Mapping) or not isinstance(edited.get("args"), Mapping):
            return [
                f"the edit for {about} has no edited_action {{'name': ..., 'args': {{...}}}} "
                f"(got {excerpt(payload)})"
            ]
    return []


def _batched(value: Any, interrupt: PendingInterrupt) -> tuple[tuple[Any, ...], list[str]]:
    if not isinstance(value, Mapping) or not isinstance(value.get("decisions"), list):
        return (), [
            f"{interrupt.label} takes {{'decisions': [...]}} (one per action request); the app "
            f"sent {excerpt(value)}"
        ]
    decisions = value["decisions"]
    problems: list[str] = []
    if len(decisions) != len(interrupt.actions):
        problems.append(
            f"{interrupt.label} has {len(interrupt.actions)} action request(s); the app sent "
            f"{len(decisions)} decision(s)"
        )
    for index, payload in enumerate(decisions):
        problems.extend(_payload_problems(payload, interrupt, index))
    return tuple(decisions), problems


def _single(value: Any, interrupt: PendingInterrupt) -> tuple[tuple[Any, ...], list[str]]:
    if interrupt.kind == "batched":
        return _batched(value, interrupt)
    if interrupt.kind == "per_call":
        return (value,), _payload_problems(value, interrupt, 0)
    return (value,), []


def read_answers(value: Any, pending: Sequence[PendingInterrupt]) -> Answers:
    """Split `value` (what the app put in `Command(resume=...)`) over `pending`."""
    if not pending:
        return Answers((), ("nothing is pending on the thread",))
    by_id = {interrupt.id: interrupt for interrupt in pending}
    keyed = isinstance(value, Mapping) and value and all(key in by_id for key in value)
    if keyed and isinstance(value, Mapping):
        parts: list[tuple[PendingInterrupt, tuple[Any, ...]]] = []
        problems: list[str] = []
        for key, item in value.items():
            payloads, found = _single(item, by_id[key])
            parts.append((by_id[key], payloads))
            problems.extend(found)
        return Answers(tuple(parts), tuple(problems))
    if len(pending) > 1:
        return Answers(
            (),
            (
                f"{len(pending)} interrupts are pending; a resume must map each interrupt id to "
                f"its answer, and the app sent {excerpt(value)}",
            ),
        )
    payloads, found = _single(value, pending[0])
    return Answers(((pending[0], payloads),), tuple(found))
