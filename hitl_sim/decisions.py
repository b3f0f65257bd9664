"""What a scripted human answers: `approve`, `edit`, `reject`, `respond`, `answer`, `update`,
`unchecked`.

A `Decision` is a value, not a payload: it is turned into the exact resume payload for the action it
answers (`Decision.payload_for`), so `edit(to="x")` can keep the original call's other arguments.
Every builder takes `by=` (a reviewer id) and `after=` (the reviewer's latency on the frozen clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from hitl_sim.errors import InvalidArgument, InvalidValue, excerpt

if TYPE_CHECKING:
    from hitl_sim.interrupts import ActionRequest

MiddlewareDecision = Literal["approve", "edit", "reject", "respond"]
"""A decision type `HumanInTheLoopMiddleware` takes (what `allowed_decisions` lists)."""
MIDDLEWARE_DECISIONS: tuple[MiddlewareDecision, ...] = ("approve", "edit", "reject", "respond")
DecisionType = MiddlewareDecision | Literal["answer", "update", "unchecked"]
"""Every `Decision.type`: the middleware's four, a raw `interrupt()`'s `answer`, a breakpoint's
`update`, and `unchecked` (sent as is)."""
DECISION_TYPES: tuple[DecisionType, ...] = (*MIDDLEWARE_DECISIONS, "answer", "update", "unchecked")
MAX_LATENCY = timedelta(days=365)
"""The longest reviewer latency (`after=`) or timeout: a year on the frozen clock."""


@dataclass(frozen=True)
class Decision:
    """One scripted answer. Build it with the functions below rather than directly."""

    type: DecisionType
    args: Mapping[str, Any] | None = None
    """edit: the arguments to run with (merged over the original call's unless `redirect`)."""
    name: str | None = None
    """edit: the tool to run instead (a redirect); None keeps the reviewed tool."""
    message: str | None = None
    """reject: the reason; respond: the text the model gets as the tool result."""
    value: Any = None
    """answer / unchecked: the resume value sent verbatim; update: the state values to write."""
    by: str | None = None
    after: timedelta = field(default=timedelta(0))

    def payload_for(self, action: ActionRequest | None) -> Any:
        """The resume payload this decision sends for `action` (None for raw interrupts)."""
        if self.type == "unchecked" and isinstance(self.value, Decision):
            return self.value.payload_for(action)
        if self.type in ("answer", "unchecked"):
            return self.value
        if self.type == "update":
            return None
        if self.type == "approve":
            return {"type": "approve"}
        if self.type in ("reject", "respond"):
            payload: dict[str, Any] = {"type": self.type}
            if self.message is not None:
                payload["message"] = self.message
            return payload
        args = dict(self.args or {})
        if action is not None and self.name is None:
            args = {**action.args, **args}
        name = self.name or (action.name if action is not None else None)
        return {"type": "edit", "edited_action": {"name": name, "args": args}}

    def describe(self) -> str:
        """A short human-readable form, e.g. `reject('keep it', by='vp')`."""
        parts: list[str] = []
        if self.type == "edit":
            if self.name is not None:
                parts.append(repr(self.name))
            parts.extend(f"{k}={v!r}" for k, v in (self.args or {}).items())
        elif self.type in ("reject", "respond") and self.message is not None:
            parts.append(repr(self.message))
        elif self.type == "unchecked" and isinstance(self.value, Decision):
            inner = self.value
            if (self.by, self.after) == (inner.by, inner.after):
                return f"unchecked({inner.describe()})"
            parts.append(inner.describe())
        elif self.type in ("answer", "unchecked", "update"):
            parts.append(repr(self.value))
        if self.by is not None:
            parts.append(f"by={self.by!r}")
        if self.after:
            parts.append(f"after={self.after}")
        return f"{self.type}({', '.join(parts)})"


def _latency(after: object) -> timedelta:
    if after is None:
        return timedelta(0)
    if isinstance(after, timedelta | int | float) and not isinstance(after, bool):
        check_span(after, "after", "A latency")
        return after if isinstance(after, timedelta) else timedelta(seconds=after)
    raise InvalidArgument(
        f"after={excerpt(after)} is not a latency. Expected a datetime.timedelta or a number of "
        "seconds, e.g. after=timedelta(hours=2)."
    )


def check_span(value: timedelta | float, name: str, what: str) -> None:
    """Refuse a latency or timeout outside 0 seconds .. `MAX_LATENCY` (nan and inf included)."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if not 0 <= seconds <= MAX_LATENCY.total_seconds():  # False for nan
        raise InvalidValue(
            f"{name}={excerpt(value)} is out of range. {what} is from 0 seconds to 365 days, "
            f"e.g. {name}=timedelta(hours=2)."
        )


def reviewer_id(by: object) -> str | None:
    """`by=` checked: a non-empty str, or None."""
    if by is None or isinstance(by, str) and by:
        return by
    if isinstance(by, str):
        raise InvalidValue("by='' is an empty reviewer id. Give a name, e.g. by='ann', or None.")
    raise InvalidArgument(f"by={excerpt(by)} is not a reviewer id. Expected a str, e.g. by='ann'.")


def _names(args: Mapping[Any, Any], builder: str) -> dict[str, Any]:
    for key in args:
        if not isinstance(key, str):
            raise InvalidArgument(
                f"{builder}() takes names as str keys, got {excerpt(key)} in {excerpt(args)}."
            )
    return dict(args)


def approve(*, by: str | None = None, after: timedelta | float | None = None) -> Decision:
    """Run the call as the model proposed it."""
    return Decision("approve", by=reviewer_id(by), after=_latency(after))


def edit(
    *target: Any, by: str | None = None, after: timedelta | float | None = None, **args: Any
) -> Decision:
    """Run the call with changed arguments.

    `edit(to="x")` keeps the call's other arguments; `edit("other_tool", {...})` redirects the call
    to another tool with exactly these arguments; `edit({...})` passes arguments as a mapping.
    """
    name: str | None = None
    given: dict[str, Any] = {}
    if len(target) == 2 and isinstance(target[0], str) and isinstance(target[1], Mapping):
        name, given = target[0], dict(target[1])
    elif len(target) == 1 and isinstance(target[0], Mapping):
        given = dict(target[0])
    elif len(target) == 1 and isinstance(target[0], str):
        name = target[0]
    elif target:
        raise InvalidArgument(
            f"edit{excerpt(target)} is not an edit. Expected edit(arg=value, ...), edit({{...}}), "
            "or edit('tool_name', {...}) to redirect the call to another tool."
        )
    if given and args:
        raise InvalidArgument(
            "edit() got arguments both as a mapping and as keywords; pass them one way."
        )
    if not target and not args:
        raise InvalidArgument(
            "edit() with no arguments changes nothing, so it would be an approve() by another "
            "name. Pass the arguments to change (edit(path='/tmp/safe')), a tool to redirect to "
            "(edit('tool_name', {...})), or use approve(); edit({}) says on purpose that the "
            "call is edited to itself."
        )
    if name == "":
        raise InvalidValue("edit('', ...) redirects to a tool with an empty name. Name the tool.")
    return Decision(
        "edit",
        args=_names(given or args, "edit"),
        name=name,
        by=reviewer_id(by),
        after=_latency(after),
    )


def reject(
    message: str | None = None, *, by: str | None = None, after: timedelta | float | None = None
) -> Decision:
    """Do not run the call; `message` is the reason the model is told."""
    if message is not None and not isinstance(message, str):
        raise InvalidArgument(
            f"reject() takes the reason as a str or None, got {excerpt(message)}."
        )
    return Decision("reject", message=message, by=reviewer_id(by), after=_latency(after))


def respond(
    message: str, *, by: str | None = None, after: timedelta | float | None = None
) -> Decision:
    """Do not run the call; the model gets `message` as the tool's result (ask-the-user tools)."""
    if not isinstance(message, str):
        raise InvalidArgument(f"respond() takes the reply text as a str, got {excerpt(message)}.")
    return Decision("respond", message=message, by=reviewer_id(by), after=_latency(after))


def answer(
    value: Any, *, by: str | None = None, after: timedelta | float | None = None
) -> Decision:
    """Answer a raw `interrupt()` with `value` (a dict, a string, anything the node expects)."""
    return Decision("answer", value=value, by=reviewer_id(by), after=_latency(after))


def unchecked(
    payload: Any, *, by: str | None = None, after: timedelta | float | None = None
) -> Decision:
    """Send `payload` verbatim as this decision, skipping local validation.

    For tests that send a malformed answer on purpose (e.g. `unchecked({"type": "maybe"})`) to
    prove what the agent does with it. The driver records the resulting error and poisoning.
    Given a decision, `unchecked(edit(extra=1))` sends that decision's payload without the
    checks (e.g. an edit of an argument the tool's schema does not list).
    """
    if isinstance(payload, Decision):  # its reviewer and latency, unless given here
        by = payload.by if by is None else by
        after = payload.after if after is None else after
    return Decision("unchecked", value=payload, by=reviewer_id(by), after=_latency(after))


def update(
    values: Mapping[str, Any] | None = None,
    *,
    by: str | None = None,
    after: timedelta | float | None = None,
    **kwargs: Any,
) -> Decision:
    """Continue past a static breakpoint after writing `values` into the graph state.

    `update(approved=True)` is `graph.update_state(config, {"approved": True})` then
    `graph.invoke(None, config)`, the way LangGraph resumes `interrupt_before` / `interrupt_after`.
    """
    if values is not None and not isinstance(values, Mapping):
        raise InvalidArgument(
            f"update() takes the state values as a mapping, got {excerpt(values)}."
        )
    given = _names(values or {}, "update")
    return Decision("update", value={**given, **kwargs}, by=reviewer_id(by), after=_latency(after))
