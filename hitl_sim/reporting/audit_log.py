"""The audit log of a run: who approved what, when, and what ran.

`run.audit` (or `AuditLog.from_run(run, ...)`) lists, in order, every interrupt raised, decision
given, resume, tool executed, and how the run ended, each with the frozen-clock time and the
thread. Ids are normalised to labels (`thread-1`, `interrupt-1`, `call-1`) and secret arguments
masked, so the same scenario gives byte-identical JSON Lines on every run.

The application's own audit trail is checked against it by `hitl_sim.checking.app_audit`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any, Literal, overload

from hitl_sim.normalise import (
    DEFAULT_REDACTED,
    Normaliser,
    RedactOption,
    run_normaliser,
    seconds,
    timestamp,
)

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import (
        DecisionRecord,
        PolicyBlock,
        Run,
        RunError,
        SideEffect,
        Step,
        ToolExecution,
    )

EventKind = Literal[
    "interrupt",
    "decision",
    "resume",
    "tool",
    "side_effect",
    "blocked",
    "error",
    "finished",
    "pending",
    "failed",
]
Timestamps = Literal["clock", "elapsed", "none"]

__all__ = [
    "DEFAULT_REDACTED",
    "AuditEvent",
    "AuditLog",
]


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log. `data` holds the kind's fields, already normalised."""

    seq: int
    event: EventKind
    at: str | int | float | None
    """ISO time on the run's clock (`timestamps="clock"`), or seconds since the first event."""
    thread: str
    resume: int
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        head = {"seq": self.seq, "event": self.event, "at": self.at, "thread": self.thread}
        head = {k: v for k, v in head.items() if v is not None}
        return {**head, "resume": self.resume, **self.data}

    def to_json(self) -> str:
        """One JSON object, keys sorted: the line `AuditLog.to_jsonl()` writes."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    def describe(self) -> str:
        """The event's details, readable (without time and kind; an interrupt lists its
        actions on further lines)."""
        return _DESCRIBE[self.event](self.data)


class AuditLog(Sequence[AuditEvent]):
    """The ordered, normalised audit events of one run."""

    def __init__(self, events: Iterable[AuditEvent], normaliser: Normaliser) -> None:
        self.events = tuple(events)
        self.normaliser = normaliser

    @classmethod
    def from_run(
        cls,
        run: Run,
        *,
        redact: RedactOption = ...,
        timestamps: Timestamps = "clock",
        normalise_ids: bool = True,
        normaliser: Normaliser | None = None,
    ) -> AuditLog:
        """Build the log of `run`.

        `redact`: keys whose values are masked (by their words, at any depth; see
        `hitl_sim.normalise.DEFAULT_REDACTED`); default the run's own (`simulate(redact=...)`),
        `None` masks nothing. `timestamps`: `"clock"` (the frozen clock's time, the default),
        `"elapsed"` (seconds since the first event) or `"none"`. `normalise_ids=False` keeps raw
        ids.
        """
        norm = normaliser or run_normaliser(run, redact, normalise_ids=normalise_ids)
        return cls(_Builder(run, norm, timestamps).events(), norm)

    def __len__(self) -> int:
        return len(self.events)

    @overload
    def __getitem__(self, index: int) -> AuditEvent: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[AuditEvent]: ...
    def __getitem__(self, index: int | slice) -> AuditEvent | Sequence[AuditEvent]:
        return self.events[index]

    def __iter__(self) -> Iterator[AuditEvent]:
        return iter(self.events)

    def __eq__(self, other: object) -> bool:
        """Two logs are equal when their events are (e.g. the same scenario run twice)."""
        if not isinstance(other, AuditLog):
            return NotImplemented
        return self.events == other.events

    __hash__ = None  # type: ignore[assignment]

    def of(self, *kinds: EventKind) -> list[AuditEvent]:
        """The events of the given kinds, in order."""
        return [event for event in self.events if event.event in kinds]

    @property
    def kinds(self) -> list[str]:
        return [event.event for event in self.events]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [event.to_dict() for event in self.events]

    def to_jsonl(self) -> str:
        """JSON Lines, one event a line, keys sorted, ending with a newline."""
        return "".join(event.to_json() + "\n" for event in self.events)

    def label_of(self, raw_id: str) -> str | None:
        """The label a raw id (thread, interrupt, call, ...) got in this log."""
        return self.normaliser.label_of(raw_id)

    def render(self) -> str:
        """A readable table of the events: what a failing check or snapshot shows."""
        thread = self.events[0].thread if self.events else "?"
        lines = [f"audit log of {thread} ({len(self.events)} events)"]
        for event in self.events:
            at = "" if event.at is None else f"{event.at}  "
            head = f"{event.seq:>3}. {at}{event.event:<9} "
            first, *more = event.describe().split("\n")
            lines.append((head + first).rstrip())
            lines.extend(f"       {line}" for line in more)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"<AuditLog of {len(self.events)} events: {', '.join(self.kinds)}>"


def unfinished_events(run: Run, norm: Normaliser, timestamps: Timestamps) -> list[dict[str, Any]]:
    """The audit events as dicts whose strings `norm.finish()` has not rewritten yet.

    For output that puts the log beside other data (a snapshot): the caller finishes the whole
    document once, so every raw id gets one label throughout.
    """
    return [event.to_dict() for event in _Builder(run, norm, timestamps).events(finish=False)]


class _Builder:
    """Walks `run.steps` once, turning each into an event with a shared normaliser."""

    def __init__(self, run: Run, norm: Normaliser, timestamps: Timestamps) -> None:
        self.run = run
        self.norm = norm
        self.timestamps = timestamps
        self.thread: str = norm.label("thread", run.thread_id) or ""
        self.out: list[AuditEvent] = []
        self.first: Any = None

    def events(self, finish: bool = True) -> list[AuditEvent]:
        last_at = None
        for step in _stable_steps(self.run):
            last_at = step.at
            if step.kind == "error" and step.record is self.run.error:
                continue
            made = self.data_of(step)
            if made is not None:
                self.add(made[0], step.resume, step.at, made[1])
        last_resume = self.run.steps[-1].resume if self.run.steps else 0
        status = self.run.status
        self.add(status, last_resume, last_at, self.ending())
        if not finish:
            return self.out
        return [
            AuditEvent(
                e.seq, e.event, e.at, str(e.thread), e.resume, self.norm.finish(dict(e.data))
            )
            for e in self.out
        ]

    def add(self, kind: EventKind, resume: int, at: Any, data: dict[str, Any]) -> None:
        compact = {k: v for k, v in data.items() if v is not None}
        self.out.append(
            AuditEvent(len(self.out) + 1, kind, self.time(at), self.thread, resume, compact)
        )

    def time(self, at: Any) -> str | int | float | None:
        if at is None or self.timestamps == "none":
            return None
        if self.timestamps == "elapsed":
            self.first = self.first or at
            return seconds(at - self.first)
        return timestamp(at)

    def data_of(self, step: Step) -> tuple[EventKind, dict[str, Any]] | None:
        record = step.record
        if step.kind == "interrupt":
            return "interrupt", self.interrupt(record)
        if step.kind == "decision":
            return "decision", self.decision(record)
        if step.kind == "resume":
            answered = [d.interrupt for d in self.run.decisions if d.resume == step.resume]
            labels = list(dict.fromkeys(self.interrupt_label(i) for i in answered))
            return "resume", {"answers": labels, "how": getattr(step.record, "how", None)}
        if step.kind == "tool" and not hasattr(record, "call_id"):  # a `Spy`'s SideEffect
            return "side_effect", self.side_effect(record)
        if step.kind == "tool":
            return "tool", self.tool(record)
        if step.kind == "blocked":
            return "blocked", self.blocked(record)
        if step.kind == "error":
            return "error", self.error(record)
        return None

    def interrupt_label(self, interrupt: PendingInterrupt) -> str | None:
        raw = interrupt.id if interrupt.id is not None else ("breakpoint", interrupt.seq)
        return self.norm.label("interrupt", raw)

    def interrupt(self, interrupt: PendingInterrupt) -> dict[str, Any]:
        data: dict[str, Any] = {
            "interrupt": self.interrupt_label(interrupt),
            "kind": interrupt.kind,
            "node": interrupt.node,
            "agent": interrupt.agent,
        }
        if interrupt.actions:
            data["actions"] = [
                {
                    "tool": action.name,
                    "args": self.norm.plain(action.args),
                    "description": action.description,
                    "allowed": list(action.allowed),
                    "call": self.norm.label("call", action.tool_call_id),
                }
                for action in interrupt.actions
            ]
            data["actions"] = [
                {k: v for k, v in a.items() if v is not None} for a in data["actions"]
            ]
        elif interrupt.kind == "raw":
            data["value"] = self.norm.plain(interrupt.value)
        return data

    def decision(self, record: DecisionRecord) -> dict[str, Any]:
        decision, action = record.decision, record.action
        data: dict[str, Any] = {
            "interrupt": self.interrupt_label(record.interrupt),
            "tool": action.name if action is not None else None,
            "call": self.norm.label("call", action.tool_call_id) if action is not None else None,
            "decision": decision.type,
            "by": decision.by,
            "latency_seconds": seconds(decision.after),
        }
        payload = record.payload if isinstance(record.payload, Mapping) else {}
        if decision.type == "edit":
            edited = payload.get("edited_action") or {}
            data["args"] = self.norm.plain(edited.get("args", decision.args or {}))
            name = edited.get("name", decision.name)
            if action is None or name != action.name:
                data["edited_tool"] = name
        elif decision.type in ("reject", "respond"):
            data["message"] = payload.get("message", decision.message)
        elif decision.type == "update":
            data["values"] = self.norm.plain(decision.value)
        elif decision.type in ("answer", "unchecked"):
            data["value"] = self.norm.plain(record.payload)
        return data

    def tool(self, execution: ToolExecution) -> dict[str, Any]:
        return {
            "tool": execution.name,
            "call": self.norm.label("call", execution.call_id),
            "args": self.norm.plain(execution.args),
            "result": self.norm.plain(_content(execution.result)),
            "error": execution.error,
            "agent": execution.agent,
        }

    def side_effect(self, effect: SideEffect) -> dict[str, Any]:
        return {
            "name": effect.name,
            "args": self.norm.plain(effect.args),
            "kwargs": self.norm.plain(effect.kwargs) or None,
        }

    def blocked(self, block: PolicyBlock) -> dict[str, Any]:
        return {
            "policy": block.policy,
            "tool": block.name,
            "call": self.norm.label("call", block.call_id),
            "args": self.norm.plain(block.args),
            "probability": block.probability,
            "reason": block.reason,
            "agent": block.agent,
        }

    def error(self, error: RunError) -> dict[str, Any]:
        return {
            "error": error.type,
            "message": error.message,
            "node": error.node,
            "resumable": error.resumable,
            "poisoned": error.poisoned,
            "tool": error.tool,
            "lost": [self.tool(execution) for execution in error.lost] or None,
        }

    def ending(self) -> dict[str, Any]:
        if self.run.error is not None:
            return self.error(self.run.error)
        if self.run.pending:
            return {
                "pending": [self.interrupt_label(i) for i in self.run.pending],
                "expected": self.run.expect_pending,
            }
        return {}


def _content(result: Any) -> Any:
    """A ToolMessage result as its content (the tool's return value); anything else as is."""
    if getattr(result, "type", None) == "tool" and hasattr(result, "content"):
        return result.content
    return result


def _stable_steps(run: Run) -> list[Step]:
    """The run's steps, with tools that ran in the same superstep in the model's call order.

    Tools of one superstep run in a thread pool, so callbacks arrive in any order; sorting each
    block of adjacent tool steps of one resume and one agent by the position of their call id
    (in the messages, then in every model response, subagents' included) keeps the log
    deterministic.
    """
    order: dict[str, int] = {}
    responses = [request.response for request in run.model_requests]
    for message in [*run.messages, *responses]:
        for call in getattr(message, "tool_calls", None) or ():
            order.setdefault(str(call.get("id")), len(order))

    def position(step: Step) -> tuple[int, str, str]:
        record = step.record
        at = order.get(str(record.call_id), len(order))
        return at, record.name, json.dumps(record.args, sort_keys=True, default=repr)

    def block(step: Step) -> tuple[int, str | None] | None:
        if step.kind != "tool" or not hasattr(step.record, "call_id"):  # a Spy's side effect
            return None
        return step.resume, step.record.agent

    steps: list[Step] = []
    for key, group in groupby(run.steps, key=block):
        members = list(group)
        steps.extend(members if key is None else sorted(members, key=position))
    return steps


def _args(args: Any) -> str:
    if not isinstance(args, Mapping):
        return "" if args is None else repr(args)
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def _describe_interrupt(d: Mapping[str, Any]) -> str:
    head = f"{d['interrupt']} ({d['kind']}, node {d['node']!r})"
    if "agent" in d:
        head += f" in agent {d['agent']!r}"
    calls = [
        f"- {a['tool']}({_args(a.get('args'))}) {a.get('call', '')}".rstrip()
        + f"  allowed: {'/'.join(a.get('allowed', ()))}"
        for a in d.get("actions", ())
    ]
    if "value" in d:
        calls.append(f"- value {d['value']!r}")
    return "\n".join([head, *calls])


def _describe_decision(d: Mapping[str, Any]) -> str:
    what = d["decision"]
    if "edited_tool" in d:
        what += f" -> {d['edited_tool']}"
    if "args" in d:
        what += f"({_args(d['args'])})"
    for key in ("message", "value", "values"):
        if key in d:
            what += f"({d[key]!r})"
    about = f"{d['tool']} {d.get('call', '')}".strip() if "tool" in d else d["interrupt"]
    extra = [f"by {d['by']}"] if "by" in d else []
    if d.get("latency_seconds"):
        extra.append(f"after {d['latency_seconds']}s")
    return f"{about}: {what}" + (f" ({', '.join(extra)})" if extra else "")


def _describe_tool(d: Mapping[str, Any]) -> str:
    call = f"{d['tool']}({_args(d.get('args'))})"
    if "agent" in d:
        call += f" in agent {d['agent']!r}"
    if "error" in d:
        return f"{call} raised {d['error']}"
    return f"{call} -> {d.get('result')!r}"


def _describe_side_effect(d: Mapping[str, Any]) -> str:
    args = [repr(a) for a in d.get("args", ())]
    args += [f"{k}={v!r}" for k, v in (d.get("kwargs") or {}).items()]
    return f"{d['name']}({', '.join(args)})"


def _describe_blocked(d: Mapping[str, Any]) -> str:
    call = f"{d['tool']}({_args(d.get('args'))})"
    if "agent" in d:
        call += f" in agent {d['agent']!r}"
    odds = f", probability {d['probability']}" if "probability" in d else ""
    why = f": {d['reason']}" if "reason" in d else ""
    return f"{call} blocked by {d['policy']}{odds}{why}"


def _describe_error(d: Mapping[str, Any]) -> str:
    flags = [name for name in ("resumable", "poisoned") if d.get(name)]
    return f"{d['error']}: {d['message']}" + (f" [{', '.join(flags)}]" if flags else "")


_DESCRIBE = {
    "interrupt": _describe_interrupt,
    "decision": _describe_decision,
    "resume": lambda d: (
        f"{d.get('how', 'command')} answering " + (", ".join(d["answers"]) or "nothing")
    ),
    "tool": _describe_tool,
    "side_effect": _describe_side_effect,
    "blocked": _describe_blocked,
    "error": _describe_error,
    "finished": lambda d: "",
    "pending": lambda d: (
        "waiting on " + ", ".join(d["pending"]) + ("" if d.get("expected") else " (not expected)")
    ),
    "failed": _describe_error,
}
