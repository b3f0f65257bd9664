"""A run as a sequence diagram: Mermaid text (GitHub renders it in Markdown, PR comments and job
summaries) and a self-contained SVG drawn here (no script, no font or network fetch, no ids, so
many can sit inline in one HTML page).

Participants, left to right: the user, the agent (its model), each subagent, the HITL gate, the
reviewer, and each tool. Messages: the input, each model turn, each interrupt (batched, per_call,
raw, static breakpoint) with the calls under review, each decision with who gave it and when on
the frozen clock, edited arguments and reasons, each resume, each tool that ran (and its result
or error), each call that was refused, and every safety violation with its evidence. A tool
execution that a violation's evidence names is drawn in red where it happened.

Deterministic and masked like the timeline: interrupts are `#1`, `#2`..., times are offsets from
the run's first step plus the frozen clock's time, every secret the run saw is masked
(`Run.redactor()`), and every text goes through `hitl_sim.normalise.stable_text`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any, Literal, Protocol

from hitl_sim.errors import CheckFailed
from hitl_sim.interrupts import PendingInterrupt
from hitl_sim.normalise import MASK, Redactor, stable_text
from hitl_sim.run import (
    DecisionRecord,
    ModelRequest,
    PolicyBlock,
    ResumeRecord,
    Run,
    RunError,
    SideEffect,
    ToolExecution,
)

__all__ = [
    "Message",
    "Note",
    "Participant",
    "SequenceDiagram",
    "ViolationLike",
    "mermaid",
    "sequence_diagram",
    "svg",
    "violations_of",
]

Tone = Literal["call", "reply", "approve", "refuse", "violation", "error", "info"]
Kind = Literal["user", "agent", "subagent", "gate", "reviewer", "tool"]


class ViolationLike(Protocol):
    """What a diagram needs of a safety violation (`hitl_sim.checking.violation.Violation` fits)."""

    @property
    def check(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def evidence(self) -> Sequence[str]: ...


Judged = Sequence[ViolationLike] | None | EllipsisType
"""A `violations=` argument: the violations found, None (the run was not judged: the diagram
says so), or `...` (judge it here with every default check, see `violations_of`)."""


@dataclass(frozen=True)
class Participant:
    key: str
    """The Mermaid id: user, agent, sub1.., gate, reviewer, tool1..."""
    label: str
    kind: Kind


@dataclass(frozen=True)
class Message:
    source: str
    target: str
    lines: tuple[str, ...]
    tone: Tone
    dashed: bool = False


@dataclass(frozen=True)
class Note:
    over: tuple[str, ...]
    lines: tuple[str, ...]
    tone: Tone


@dataclass(frozen=True)
class SequenceDiagram:
    """The diagram as data: what `mermaid` and `svg` draw."""

    title: str
    participants: tuple[Participant, ...]
    events: tuple[Message | Note, ...]

    @property
    def violation_count(self) -> int:
        return sum(1 for e in self.events if isinstance(e, Note) and e.tone == "violation")


def violations_of(run: Run, off: Sequence[str] = ()) -> list[ViolationLike]:
    """Every violation the default safety checks find in `run` (`run.check()`, with the checks
    named in `off` switched off, as a scenario's `expect.checks_off` does), without marking the
    run as checked (the pytest plugin's teardown check still runs)."""
    before = run.checked
    try:
        run.check(**dict.fromkeys(off, False))
    except CheckFailed as failed:
        return list(failed.violations)
    finally:
        run.checked = before
    return []


# ------------------------------------------------------------------------------ text


_WIDTH = 72
"""Characters per line of a label before it wraps."""
_MAX_LINES = 10


class _Text:
    """Masks, stabilises and shortens every text of one run's diagram."""

    def __init__(self, run: Run) -> None:
        self.redactor: Redactor = run.redactor()

    def clean(self, value: Any) -> str:
        text = value if isinstance(value, str) else repr(value)
        text = stable_text(self.redactor.text(text))
        return _printable(text)

    def short(self, value: Any, width: int = 80) -> str:
        text = self.clean(value).replace("\n", "\\n")
        return text if len(text) <= width else text[: width - 3] + "..."

    def call(self, name: str, args: Mapping[str, Any]) -> str:
        secret = self.redactor.is_secret
        shown = ", ".join(
            f"{key}={MASK if secret(key) else self.short(repr(value), 48)}"
            for key, value in args.items()
        )
        return f"{self.clean(name)}({shown})"


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _printable(text: str) -> str:
    """`text` without characters no SVG, HTML or terminal should hold (written `\\xNN`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _offset(at: datetime, start: datetime) -> str:
    seconds = int((at - start).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    if seconds and seconds % 3600 == 0:
        return f"{sign}{seconds // 3600}h"
    if seconds and seconds % 60 == 0:
        return f"{sign}{seconds // 60}m"
    return f"{sign}{seconds}s"


_DEFAULT_ASK = "Tool execution requires approval"
"""How `HumanInTheLoopMiddleware` describes a call with no `description` of its own."""


def _agent_label(graph: str | None) -> str:
    return f"Agent {graph}" if graph and graph != "LangGraph" else "Agent (model)"


def _span(after: timedelta) -> str:
    return _offset(datetime(2000, 1, 1) + after, datetime(2000, 1, 1))[1:]


def _clock(at: datetime) -> str:
    moment = at.astimezone(UTC) if at.tzinfo is not None else at
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ building


class _Builder:
    def __init__(self, run: Run, found: Sequence[ViolationLike] | None) -> None:
        self.run = run
        self.text = _Text(run)
        self.found = found
        self.participants: dict[str, Participant] = {}
        self.events: list[Message | Note] = []
        self.subagents: dict[str, str] = {}
        self.tools: dict[str, str] = {}
        self.start = run.steps[0].at if run.steps else None
        self.attached: set[int] = set()
        self.ran_calls = {(e.call_id, e.name) for e in run.executed if e.call_id is not None}

    # participants ------------------------------------------------------------------

    def agent(self, name: str | None) -> str:
        if name is None or name == self.run.graph_name:
            return "agent"
        if name not in self.subagents:
            self.subagents[name] = f"sub{len(self.subagents) + 1}"
        return self.subagents[name]

    def tool(self, name: str) -> str:
        if name not in self.tools:
            self.tools[name] = f"tool{len(self.tools) + 1}"
        return self.tools[name]

    def ordered(self) -> tuple[Participant, ...]:
        used = {e.source for e in self.events if isinstance(e, Message)}
        used |= {e.target for e in self.events if isinstance(e, Message)}
        used |= {key for e in self.events if isinstance(e, Note) for key in e.over}
        graph = self.run.graph_name
        people: list[Participant] = [
            Participant("user", "User", "user"),
            Participant("agent", _agent_label(graph), "agent"),
        ]
        people += [
            Participant(key, f"Subagent {self.text.short(name, 40)}", "subagent")
            for name, key in self.subagents.items()
        ]
        people += [
            Participant("gate", "HITL gate", "gate"),
            Participant("reviewer", "Reviewer", "reviewer"),
        ]
        people += [
            Participant(key, f"tool {self.text.short(name, 40)}", "tool")
            for name, key in self.tools.items()
        ]
        return tuple(p for p in people if p.kind in ("user", "agent") or p.key in used)

    # events ------------------------------------------------------------------------

    def when(self, at: datetime) -> str:
        return _offset(at, self.start) if self.start is not None else "+0s"

    def add(self, event: Message | Note) -> None:
        self.events.append(event)

    def build(self) -> SequenceDiagram:
        run = self.run
        self.add(Message("user", "agent", (f"input: {self.input()}",), "call"))
        for step in run.steps:
            record = step.record
            when = self.when(step.at)
            if step.kind == "model_turn":
                self.model_turn(record, when)
            elif step.kind == "interrupt":
                self.interrupt(record, when)
            elif step.kind == "decision":
                self.decision(record, step.at)
            elif step.kind == "resume":
                self.resume(record, when)
            elif step.kind == "tool" and isinstance(record, SideEffect):
                self.side_effect(record, when)
            elif step.kind == "tool":
                self.execution(record, when)
            elif step.kind == "blocked":
                self.blocked(record, when)
            elif step.kind == "error":
                self.error(record, when)
        self.ending()
        return SequenceDiagram(self.title(), self.ordered(), tuple(self.events))

    def title(self) -> str:
        count = len(self.found) if self.found is not None else None
        judged = (
            "safety checks not run"
            if count is None
            else "no safety violations"
            if count == 0
            else f"{count} safety violation{'s' * (count != 1)}"
        )
        return f"run: {self.run.status}; {judged}"

    def input(self) -> str:
        for request in self.run.model_requests[:1]:
            for message in request.messages:
                if getattr(message, "type", None) == "human":
                    return self.text.short(message.content, 100)
        return "invoke"

    def model_turn(self, request: ModelRequest, when: str) -> None:
        who = self.agent(request.agent)
        head = f"{when} model turn {request.turn}"
        response = request.response
        if response is None:
            self.add(Message(who, who, (f"{head}: (no response)",), "info"))
            return
        calls = list(getattr(response, "tool_calls", None) or ())
        if not calls:
            self.add(
                Message(who, who, (f"{head}: says {self.text.short(response.content)}",), "info")
            )
            return
        for proposed in calls:  # tools stand in the order the model first proposed them
            self.tool(str(proposed["name"]))
        said = f"says {self.text.short(response.content, 60)}, then " if response.content else ""
        lines = [f"{head}: {said}calls"]
        lines += [f"  {self.text.call(c['name'], c.get('args') or {})}" for c in calls]
        self.add(Message(who, who, tuple(lines), "info"))

    def interrupt(self, interrupt: PendingInterrupt, when: str) -> None:
        who = self.agent(interrupt.agent)
        node = self.text.short(interrupt.node, 60)
        head = f"{when} interrupt #{interrupt.seq} ({interrupt.kind}, node {node})"
        if interrupt.kind == "breakpoint":
            lines = [f"{head}: static breakpoint before node {self.text.short(interrupt.node)}"]
        elif not interrupt.actions:
            lines = [f"{head}: {self.text.short(interrupt.value, 120)}"]
        else:
            lines = [f"{head}: review"]
            for action in interrupt.actions:
                allowed = "/".join(action.allowed) or "?"
                lines.append(f"  {self.text.call(action.name, action.args)}  allowed: {allowed}")
                if action.description and not action.description.startswith(_DEFAULT_ASK):
                    lines.append(f"    {self.text.short(action.description, 100)}")
        self.add(Message(who, "gate", tuple(lines), "call"))
        self.add(
            Message("gate", "reviewer", (f"asks the reviewer about #{interrupt.seq}",), "call")
        )

    def decision(self, record: DecisionRecord, at: datetime) -> None:
        decision = record.decision
        about = (
            f" {self.text.call(record.action.name, record.action.args)}" if record.action else ""
        )
        who = f"by {self.text.short(decision.by, 40)}" if decision.by else "by (no reviewer id)"
        lines = [
            f"{self.when(at)} decision for #{record.interrupt.seq}{about}:",
            f"  {self.text.short(decision.describe(), 110)}",
            f"  {who}, at {_clock(at)}"
            + (f" (after {_span(decision.after)})" if decision.after else ""),
        ]
        payload = record.payload if isinstance(record.payload, Mapping) else {}
        edited = payload.get("edited_action")
        if decision.type == "edit" and isinstance(edited, Mapping):
            given = edited.get("args")
            edited_args: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
            lines.append(f"  edited to {self.text.call(str(edited.get('name')), edited_args)}")
        message = payload.get("message")
        if decision.type in ("reject", "respond") and isinstance(message, str):
            label = "reason" if decision.type == "reject" else "reply"
            lines.append(f"  {label}: {self.text.short(message, 100)}")
        refused = decision.type in ("reject", "respond") or payload.get("type") in (
            "reject",
            "respond",
        )
        tone: Tone = "refuse" if refused else "approve"
        self.add(Message("reviewer", "gate", tuple(lines), tone, dashed=True))
        if refused and record.action is not None:
            name = record.action.name
            ran = (record.action.tool_call_id, name) in self.ran_calls
            text = f"{self.text.clean(name)} refused ({decision.type}): must not run"
            if ran:
                text += "; it RAN (see the violation below)"
            self.add(Note((self.tool(name),), (text,), "violation" if ran else "refuse"))

    def resume(self, record: ResumeRecord, when: str) -> None:
        answered = ", ".join(f"#{seq}" for seq in record.answers)
        if record.how == "continue":
            written = (
                f"update_state({self.text.short(record.update, 60)}), " if record.update else ""
            )
            shown = f"{written}invoke(None)"
        else:
            cleared = "update_state(None), " if record.how == "recover" else ""
            shown = f"{cleared}Command(resume=...)"
        self.add(
            Message(
                "gate", "agent", (f"{when} resume {record.resume} ({answered}): {shown}",), "call"
            )
        )

    def implicated(self, execution: ToolExecution) -> list[tuple[int, ViolationLike]]:
        marker = f"(call {execution.call_id!r}, resume {execution.resume})"
        name = f"{execution.name}("
        return [
            (index, v)
            for index, v in enumerate(self.found or ())
            if any(
                line.startswith(("ran: ", "raised: ")) and marker in line and name in line
                for line in v.evidence
            )
        ]

    def execution(self, execution: ToolExecution, when: str) -> None:
        caller = self.agent(execution.agent)
        target = self.tool(execution.name)
        marks = self.implicated(execution)
        call_text = f"{when} {self.text.call(execution.name, execution.args)}"
        if marks:
            checks = ", ".join(sorted({v.check for _, v in marks}))
            self.add(Message(caller, target, (f"VIOLATION [{checks}]", call_text), "violation"))
        else:
            self.add(Message(caller, target, (call_text,), "call"))
        if execution.error is not None:
            reply = (f"raised {self.text.short(execution.error, 100)}",)
            self.add(Message(target, caller, reply, "error", dashed=True))
        else:
            reply = (f"-> {self.text.short(execution.result, 100)}",)
            self.add(Message(target, caller, reply, "reply", dashed=True))
        for index, violation in marks:
            if index not in self.attached:
                self.attached.add(index)
                self.add(Note((target,), self.violation_lines(violation), "violation"))

    def side_effect(self, effect: SideEffect, when: str) -> None:
        shown = [self.text.short(repr(a), 40) for a in effect.args]
        shown += [f"{k}={self.text.short(repr(v), 40)}" for k, v in effect.kwargs.items()]
        target = self.tool(effect.name)
        self.add(
            Message(
                "agent", target, (f"{when} side effect {effect.name}({', '.join(shown)})",), "call"
            )
        )

    def blocked(self, block: PolicyBlock, when: str) -> None:
        target = self.tool(block.name)
        odds = f" (probability {block.probability:.2f})" if block.probability is not None else ""
        lines = [f"{when} blocked by {self.text.short(block.policy, 40)}{odds}: did not run"]
        lines.append(f"  {self.text.call(block.name, block.args)}")
        if block.reason:
            lines.append(f"  reason: {self.text.short(block.reason, 100)}")
        self.add(Note((target,), tuple(lines), "refuse"))

    def error(self, error: RunError, when: str) -> None:
        state = (
            "poisoned" if error.poisoned else "resumable" if error.resumable else "not resumable"
        )
        where = f" in node {self.text.short(error.node, 60)}" if error.node else ""
        lines = (
            f"{when} error ({state}){where}:",
            f"{error.type}: {self.text.short(error.message, 200)}",
        )
        self.add(Note(("agent",), lines, "error"))

    def violation_lines(self, violation: ViolationLike) -> tuple[str, ...]:
        lines = [f"VIOLATION [{self.text.short(violation.check, 60)}]"]
        lines.append(self.text.short(violation.message, 300))
        lines += [f"evidence: {self.text.short(line, 300)}" for line in violation.evidence]
        return tuple(lines)

    def ending(self) -> None:
        run = self.run
        tone: Tone = "error" if run.status == "failed" else "info"
        lines = [f"run {run.status}"]
        if run.pending:
            lines.append("pending: " + ", ".join(f"#{p.seq}" for p in run.pending))
        if run.unused_decisions:
            unused = ", ".join(self.text.short(d.describe(), 60) for d in run.unused_decisions)
            lines.append(f"unused decisions: {unused}")
        ran = [self.text.clean(e.name) for e in run.executed]
        lines.append("ran: " + (", ".join(ran) if ran else "no tool"))
        said_no = [
            r.action
            for r in run.decisions
            if r.action is not None and r.decision.type in ("reject", "respond")
        ]
        refused = [  # a call is known not to have run only by its id
            self.text.clean(a.name)
            for a in said_no
            if a.tool_call_id is not None and (a.tool_call_id, a.name) not in self.ran_calls
        ]
        unknown = [self.text.clean(a.name) for a in said_no if a.tool_call_id is None]
        if refused:
            lines.append("refused (did not run): " + ", ".join(refused))
        if unknown:
            lines.append("refused (no call id to tell whether it ran): " + ", ".join(unknown))
        self.add(Note(("user", "agent"), tuple(lines), tone))
        if self.found is None:
            self.add(Note(("user", "agent"), ("safety checks not run on this run",), "info"))
            return
        everyone = tuple(p.key for p in self.ordered())
        span = (everyone[0], everyone[-1])
        for index, violation in enumerate(self.found):
            if index not in self.attached:
                self.add(Note(span, self.violation_lines(violation), "violation"))


def _judged(run: Run, violations: Judged) -> Sequence[ViolationLike] | None:
    if isinstance(violations, EllipsisType):
        return violations_of(run)
    return violations


def sequence_diagram(run: Run, violations: Judged = ...) -> SequenceDiagram:
    """The diagram of `run` as data. `violations`: what the safety checks found (default `...`:
    judge the run here with `violations_of`; None: not judged, and the diagram says so)."""
    return _Builder(run, _judged(run, violations)).build()


def _diagram(source: Run | SequenceDiagram, violations: Judged) -> SequenceDiagram:
    return source if isinstance(source, SequenceDiagram) else sequence_diagram(source, violations)


# ------------------------------------------------------------------------------ Mermaid


_MERMAID_ESCAPES = {
    "#": "#35;",
    ";": "#59;",
    "<": "#60;",
    ">": "#62;",
    "&": "#38;",
    "`": "#96;",
    ":": "#58;",
    "|": "#124;",
    "{": "#123;",
    "}": "#125;",
    '"': "#34;",
    "%": "#37;",
    "\\": "#92;",
}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_ESCAPES)) + "]")


def _mermaid_text(text: str) -> str:
    return _MERMAID_SPECIAL.sub(lambda m: _MERMAID_ESCAPES[m.group(0)], text)


def _mermaid_lines(lines: Sequence[str]) -> str:
    shown = [_mermaid_text(line) for line in _clip(lines)]
    return "<br/>".join(shown)


def _clip(lines: Sequence[str]) -> list[str]:
    wrapped = [piece for line in lines for piece in _wrap(line, 100)]
    if len(wrapped) > _MAX_LINES * 2:
        extra = len(wrapped) - _MAX_LINES * 2 + 1
        wrapped = [*wrapped[: _MAX_LINES * 2 - 1], f"... ({extra} more lines)"]
    return wrapped


_MERMAID_ARROW = {False: "->>", True: "-->>"}
_MERMAID_CROSS = {False: "-x", True: "--x"}
_MERMAID_RECT = {
    "violation": "rgb(255, 235, 233)",
    "error": "rgb(255, 235, 233)",
    "refuse": "rgb(255, 244, 229)",
}


def mermaid(source: Run | SequenceDiagram, violations: Judged = ...) -> str:
    """The diagram as Mermaid `sequenceDiagram` text (without a ```mermaid fence).

    Every label is escaped with Mermaid's entity codes, so no tool argument can end a message,
    open a comment, or inject markup; violations and errors sit in red `rect` blocks."""
    diagram = _diagram(source, violations)
    out = ["sequenceDiagram", f"    title {_mermaid_text(diagram.title)}"]
    for person in diagram.participants:
        kind = "actor" if person.kind in ("user", "reviewer") else "participant"
        out.append(f"    {kind} {person.key} as {_mermaid_text(person.label)}")
    for event in diagram.events:
        color = _MERMAID_RECT.get(event.tone)
        indent = "        " if color else "    "
        if color:
            out.append(f"    rect {color}")
        if isinstance(event, Note):
            over = ",".join(event.over[:2])
            out.append(f"{indent}Note over {over}: {_mermaid_lines(event.lines)}")
        else:
            arrows = _MERMAID_CROSS if event.tone == "error" else _MERMAID_ARROW
            arrow = arrows[event.dashed]
            line = f"{event.source}{arrow}{event.target}: {_mermaid_lines(event.lines)}"
            out.append(f"{indent}{line}")
        if color:
            out.append("    end")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ SVG


_CHAR = 7.2
"""Width of one character of the 12px monospace font (an estimate; labels keep a margin)."""
_LINE = 16
_COLUMN = 210
_MARGIN = 24
_HEAD = 44
_COLORS: dict[str, tuple[str, str]] = {
    # tone: (stroke/text, note fill)
    "call": ("#0b5cad", "#eef6ff"),
    "reply": ("#57606a", "#f6f8fa"),
    "approve": ("#1a7f37", "#dafbe1"),
    "refuse": ("#9a4700", "#fff4e5"),
    "violation": ("#cf222e", "#ffebe9"),
    "error": ("#cf222e", "#ffebe9"),
    "info": ("#24292f", "#f6f8fa"),
}
_HEAD_FILL = {
    "user": "#ddf4ff",
    "agent": "#fbefff",
    "subagent": "#fbefff",
    "gate": "#fff8c5",
    "reviewer": "#dafbe1",
    "tool": "#eaeef2",
}


def _wrap(line: str, width: int) -> list[str]:
    """`line` cut into pieces of at most `width` characters, at a space or comma if possible."""
    pieces: list[str] = []
    indent = line[: len(line) - len(line.lstrip(" "))][:8]
    rest = line
    while len(rest) > width:
        cut = max(rest.rfind(" ", width // 2, width), rest.rfind(",", width // 2, width) + 1)
        cut = cut if cut > 0 else width
        pieces.append(rest[:cut].rstrip())
        rest = indent + "  " + rest[cut:].lstrip()
    pieces.append(rest)
    return pieces


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class _Canvas:
    parts: list[str]
    width: float = 0.0

    def text(self, x: float, y: float, line: str, color: str, weight: str = "normal") -> None:
        self.width = max(self.width, x + len(line) * _CHAR)
        bold = ' font-weight="bold"' if weight == "bold" else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" fill="{color}"{bold} xml:space="preserve">'
            f"{_esc(line)}</text>"
        )


def _arrowhead(x: float, y: float, pointing_right: bool, color: str) -> str:
    back = -9 if pointing_right else 9
    return (
        f'<polygon points="{x:.1f},{y:.1f} {x + back:.1f},{y - 4:.1f} {x + back:.1f},{y + 4:.1f}" '
        f'fill="{color}"/>'
    )


def _cross(x: float, y: float, color: str) -> str:
    return (
        f'<path d="M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} M{x - 5:.1f},{y + 5:.1f} '
        f'L{x + 5:.1f},{y - 5:.1f}" stroke="{color}" stroke-width="2"/>'
    )


def svg(source: Run | SequenceDiagram, violations: Judged = ...) -> str:
    """The diagram as one self-contained `<svg>` document: inline shapes and text only (no
    script, style sheet, id, font or link), so it can be saved as a .svg file or put inline in
    HTML any number of times. Same run, same bytes."""
    diagram = _diagram(source, violations)
    keys = [p.key for p in diagram.participants]
    x_of = {key: _MARGIN + _COLUMN / 2 + i * _COLUMN for i, key in enumerate(keys)}
    body = _Canvas([])
    y = _MARGIN + 22 + _HEAD + 18
    for event in diagram.events:
        stroke, fill = _COLORS[event.tone]
        if isinstance(event, Note):
            xs = [x_of[key] for key in event.over if key in x_of] or [x_of[keys[0]]]
            left = min(xs) - _COLUMN / 2 + 8
            span = max(xs) - min(xs) + _COLUMN - 16
            width = max(span, 380.0)
            lines = _svg_lines(event.lines, int((width - 16) / _CHAR))
            height = len(lines) * _LINE + 10
            thick = "2" if event.tone == "violation" else "1"
            body.parts.append(
                f'<rect x="{left:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'rx="4" fill="{fill}" stroke="{stroke}" stroke-width="{thick}"/>'
            )
            for i, line in enumerate(lines):
                weight = "bold" if i == 0 and event.tone == "violation" else "normal"
                body.text(left + 8, y + 16 + i * _LINE, line, stroke, weight)
            body.width = max(body.width, left + width)
            y += height + 12
            continue
        x1, x2 = x_of[event.source], x_of[event.target]
        if x1 == x2:  # a self message: a loop to the right of the lifeline
            lines = _svg_lines(event.lines, int((_COLUMN * 2) / _CHAR))
            for i, line in enumerate(lines):
                body.text(x1 + 14, y + 12 + i * _LINE, line, stroke)
            top = y + len(lines) * _LINE + 2
            body.parts.append(
                f'<path d="M{x1:.1f},{top:.1f} h30 v14 h-30" fill="none" stroke="{stroke}" '
                'stroke-width="1.5"/>'
            )
            body.parts.append(_arrowhead(x1 + 1, top + 14, False, stroke))
            y = top + 28
            continue
        room = max(abs(x2 - x1) - 24, _COLUMN * 2.2)
        lines = _svg_lines(event.lines, int(room / _CHAR))
        left = min(x1, x2) + 10
        for i, line in enumerate(lines):
            weight = "bold" if i == 0 and event.tone == "violation" else "normal"
            body.text(left, y + 12 + i * _LINE, line, stroke, weight)
        line_y = y + len(lines) * _LINE + 6
        dash = ' stroke-dasharray="5,4"' if event.dashed else ""
        thickness = "3" if event.tone == "violation" else "1.5"
        body.parts.append(
            f'<line x1="{x1:.1f}" y1="{line_y:.1f}" x2="{x2:.1f}" y2="{line_y:.1f}" '
            f'stroke="{stroke}" stroke-width="{thickness}"{dash}/>'
        )
        if event.tone == "error":
            body.parts.append(_cross(x2, line_y, stroke))
        else:
            body.parts.append(_arrowhead(x2, line_y, x2 > x1, stroke))
        y = line_y + 18
    height = y + _HEAD + _MARGIN
    width = max(body.width + _MARGIN, _MARGIN * 2 + _COLUMN * len(keys))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, '
        f'Consolas, monospace" font-size="12" role="img">',
        f"<title>{_esc(diagram.title)}</title>",
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    title_color = _COLORS["violation"][0] if diagram.violation_count else _COLORS["info"][0]
    out.append(
        f'<text x="{_MARGIN}" y="{_MARGIN + 4}" fill="{title_color}" font-size="14" '
        f'font-weight="bold">{_esc(diagram.title)}</text>'
    )
    top = _MARGIN + 18
    bottom = height - _MARGIN - _HEAD
    for person in diagram.participants:
        x = x_of[person.key]
        out.append(
            f'<line x1="{x:.1f}" y1="{top + _HEAD:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
            'stroke="#8c959f" stroke-dasharray="3,3"/>'
        )
        for box_y in (top, bottom):
            out.append(
                f'<rect x="{x - _COLUMN / 2 + 10:.1f}" y="{box_y:.1f}" width="{_COLUMN - 20}" '
                f'height="{_HEAD - 8}" rx="6" fill="{_HEAD_FILL[person.kind]}" '
                'stroke="#57606a"/>'
            )
            label = person.label if len(person.label) <= 26 else person.label[:25] + "…"
            out.append(
                f'<text x="{x:.1f}" y="{box_y + 22:.1f}" text-anchor="middle" fill="#24292f" '
                f'font-weight="bold">{_esc(label)}</text>'
            )
    out.extend(body.parts)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_lines(lines: Sequence[str], width: int) -> list[str]:
    wrapped = [piece for line in lines for piece in _wrap(line, max(width, 24))]
    if len(wrapped) > _MAX_LINES * 2:
        extra = len(wrapped) - _MAX_LINES * 2 + 1
        wrapped = [*wrapped[: _MAX_LINES * 2 - 1], f"... ({extra} more lines)"]
    return wrapped
