"""Pending interrupts, read off a graph's state and told apart by shape.

LangGraph and LangChain produce four kinds of pause:

- ``batched``: `HumanInTheLoopMiddleware`'s `HITLRequest` (`action_requests` + `review_configs`),
  answered with ``{"decisions": [...]}``, one decision per action request, by position;
- ``per_call``: the middleware's `ToolApprovalRequest` (``{"type": "tool_approval", ...}``), one per
  gated call, answered with a single decision keyed by interrupt id;
- ``raw``: any other `interrupt(value)` payload, answered with a free-form value;
- ``breakpoint``: a static `interrupt_before` / `interrupt_after` stop, which has no `Interrupt`
  object at all and shows only in `StateSnapshot.next`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from langgraph.types import Interrupt, StateSnapshot

InterruptKind = Literal["batched", "per_call", "raw", "breakpoint"]


@dataclass(frozen=True)
class ActionRequest:
    """One tool call put to the reviewer."""

    name: str
    args: dict[str, Any]
    description: str | None
    allowed: tuple[str, ...]
    """The decision types the middleware accepts for this tool."""
    tool_call_id: str | None = None
    """Known directly in per_call mode; in batched mode the driver matches it from the AIMessage."""

    def describe(self) -> str:
        """The call as messages show it: `send_email(to='bob', body='hi')`."""
        args = ", ".join(f"{key}={value!r}" for key, value in self.args.items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class PendingInterrupt:
    """One pause waiting for an answer."""

    id: str | None
    """LangGraph's interrupt id; None for static breakpoints."""
    kind: InterruptKind
    value: Any
    node: str
    """The task (node) that paused, e.g. 'HumanInTheLoopMiddleware.after_model', 'tools', 'ask'."""
    actions: tuple[ActionRequest, ...] = ()
    """The tool calls under review (batched: all of them; per_call: one; raw/breakpoint: none)."""
    response_schema: Any = None
    seq: int = 0
    """1-based number of this interrupt within its run, set by the driver."""
    agent: str | None = None
    """The agent that raised it (e.g. a deep agent's subagent name), where the driver can tell."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How messages name this interrupt: `interrupt #2 (batched, node 'tools')`."""
        return f"interrupt #{self.seq} ({self.kind}, node {self.node!r})"


def kind_of(value: Any) -> InterruptKind:
    """Tell an interrupt payload's kind from its shape."""
    if isinstance(value, Mapping):
        if "action_requests" in value and "review_configs" in value:
            return "batched"
        if value.get("type") == "tool_approval" and "name" in value:
            return "per_call"
    return "raw"


def _actions(value: Any, kind: InterruptKind, schema: Any) -> tuple[ActionRequest, ...]:
    if kind == "batched":
        allowed = {
            cfg["action_name"]: tuple(cfg.get("allowed_decisions") or ())
            for cfg in value["review_configs"]
        }
        return tuple(
            ActionRequest(
                name=req["name"],
                args=dict(req.get("args") or {}),
                description=req.get("description"),
                allowed=allowed.get(req["name"], ()),
            )
            for req in value["action_requests"]
        )
    if kind == "per_call":
        return (
            ActionRequest(
                name=value["name"],
                args=dict(value.get("args") or {}),
                description=value.get("description"),
                allowed=allowed_by_schema(schema),
                tool_call_id=value.get("tool_call_id"),
            ),
        )
    return ()


def allowed_by_schema(schema: Any) -> tuple[str, ...]:
    """The decision types a per_call `response_schema` accepts, in the middleware's order.

    The schema is a discriminated union (`discriminator.mapping`) for several allowed decisions,
    or a single decision object whose `type` is a `const` for one.
    """
    if not isinstance(schema, Mapping):
        return ()
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if isinstance(mapping, Mapping):
        return tuple(mapping)
    const = ((schema.get("properties") or {}).get("type") or {}).get("const")
    return (const,) if isinstance(const, str) else ()


def from_interrupt(interrupt: Interrupt, node: str) -> PendingInterrupt:
    """Wrap one LangGraph `Interrupt` raised by task `node`."""
    kind = kind_of(interrupt.value)
    schema = getattr(interrupt, "response_schema", None)
    return PendingInterrupt(
        id=interrupt.id,
        kind=kind,
        value=interrupt.value,
        node=node,
        actions=_actions(interrupt.value, kind, schema),
        response_schema=schema,
    )


def pending_in(snapshot: StateSnapshot) -> list[PendingInterrupt]:
    """Every interrupt waiting in `snapshot`, in task order; a static breakpoint if there is none.

    A breakpoint is reported once, for the first node in `snapshot.next`, since one
    `invoke(None)` resumes them all.
    """
    found = [from_interrupt(intr, task.name) for task in snapshot.tasks for intr in task.interrupts]
    if found or not snapshot.next:
        return found
    if any(task.error is not None for task in snapshot.tasks):
        return []
    return [PendingInterrupt(id=None, kind="breakpoint", value=None, node=snapshot.next[0])]
