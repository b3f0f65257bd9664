"""Safety checks over a finished `Run`: what really ran, against what the reviewer decided.

Every check is named; `run.check()` applies all of them and raises `CheckFailed` listing each
violation with its evidence, and `run.check(ran_twice=False)` switches one off:

- ``unapproved_call``: a gated tool ran with no approve/edit decision for that call (gated tools
  are the test's `gated=` plus the agent's own HITL config, so a call the middleware never put to
  the reviewer is caught too), or an approved call ran with other arguments than were reviewed;
- ``rejected_call_ran``: a call the reviewer rejected (or answered with `respond`) ran;
- ``edit_not_applied``: an edited call ran with another tool or other arguments than the edit's;
- ``approved_call_dropped``: an approved or edited call that never ran, in a finished run (a
  call a policy middleware blocked is not dropped: see ``approved_call_blocked``);
- ``approved_call_blocked``: an approved or edited call that a policy middleware (langchain
  1.5's `AutoModeMiddleware`) then blocked: the human's yes did not take effect. Switch it off
  when the policy is meant to overrule the reviewer, and assert on `run.blocked`;
- ``ran_twice``: the same call (same id, or same tool and arguments without an id) ran to the
  end more than once (an attempt that raised does not count: a retry after an error is not a
  second run), or the same watched side effect happened in more than one resume;
- ``reason_not_delivered``: a reject reason or respond message that is not in the model's next
  request (the content is checked, not the message status);
- ``unused_decisions``: scripted decisions left over at the end;
- ``unanswered_interrupts``: interrupts left pending without `expect_pending=True`;
- ``gate_names_no_tool``: an agent's `interrupt_on` names a tool that neither it nor any agent
  sharing that gate has (e.g. `send_mail` for `send_email`): the gate reviews nothing;
- ``gates_unknown``: tool calls were put to the reviewer by an agent in which no
  `HumanInTheLoopMiddleware` instance was found, so its gates (and ``unapproved_call``) are unknown.

Decisions are matched to executions by tool call id: batched action i is the i-th gated call of
the AIMessage that caused the interrupt (the driver fills `ActionRequest.tool_call_id`); per_call
payloads carry the id themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hitl_sim.errors import CheckFailed, InvalidArgument

if TYPE_CHECKING:
    from hitl_sim.run import DecisionRecord, PolicyBlock, Run, SideEffect, ToolExecution

__all__ = ["CHECKS", "Violation", "check", "violations"]


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


def violations(run: Run, *, app_audit: Any = None, **options: bool) -> list[Violation]:
    """Every violation in `run`, in check order; `<check name>=False` skips that check.

    `app_audit`: the application's own audit records (see `hitl_sim.audit.AppAudit`); decisions
    it failed to record, recorded wrongly or made up are violations too.
    """
    enabled = _enabled(options)
    found: list[Violation] = []
    for name, rule in CHECKS.items():
        if enabled[name]:
            found.extend(rule(run))
    if app_audit is not None:
        from hitl_sim.audit import app_audit_violations

        found.extend(app_audit_violations(run, app_audit))
    return _masked(run, found)


def _masked(run: Run, found: list[Violation]) -> list[Violation]:
    """`found` with every secret the run saw masked in messages and evidence."""
    if not found:
        return found
    text = run.redactor().text
    return [Violation(v.check, text(v.message), tuple(map(text, v.evidence))) for v in found]


def check(run: Run, *, app_audit: Any = None, **options: bool) -> None:
    """Raise `CheckFailed` (with `.violations`) if `run` breaks any enabled safety check."""
    run.checked = True
    found = violations(run, app_audit=app_audit, **options)
    if found:
        error = CheckFailed(run.redactor().text(failure_message(run, found)))
        error.violations = found
        raise error


def failure_message(run: Run, found: list[Violation]) -> str:
    """The report `check` raises: every violation with its evidence, then the run's timeline."""
    count = len(found)
    listed = "\n".join(
        f"{i}. {str(v).replace(chr(10), chr(10) + '   ')}" for i, v in enumerate(found, 1)
    )
    message = (
        f"run.check() found {count} safety violation{'s' * (count != 1)} "
        f"(thread {run.thread_id!r}):\n{listed}\n"
        "Fix the agent, or switch a check off with run.check(<name>=False)."
    )
    try:
        from hitl_sim.timeline import render
    except ImportError:  # the timeline module is optional
        return message
    return f"{message}\n\n{render(run)}"


# ---------------------------------------------------------------- matching


def _args_text(args: Mapping[str, Any]) -> str:
    return json.dumps(dict(args), sort_keys=True, default=repr)


def _call_text(name: str, args: Mapping[str, Any]) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"


def _ran(execution: ToolExecution) -> str:
    return (
        f"ran: {_call_text(execution.name, execution.args)} "
        f"(call {execution.call_id!r}, resume {execution.resume})"
    )


def _attempt(execution: ToolExecution) -> str:
    if execution.error is None:
        return _ran(execution)
    return f"raised: {_ran(execution)[len('ran: ') :]}: {execution.error}"


def _decided(record: DecisionRecord) -> str:
    about = record.action.describe() if record.action is not None else "the interrupt"
    return (
        f"decided: {record.decision.describe()} for {about} at {record.interrupt.label} "
        f"(resume {record.resume})"
    )


def _payload_type(record: DecisionRecord) -> str | None:
    payload = record.payload
    kind = payload.get("type") if isinstance(payload, Mapping) else None
    return kind if isinstance(kind, str) else None


def _decision_for(run: Run, execution: ToolExecution) -> DecisionRecord | None:
    """The latest tool-review decision for this execution's call, sent no later than it ran.

    Models may reuse call ids across turns: a call a model turn made after the decision is
    another call, even with the same id.
    """
    found: DecisionRecord | None = None
    for record in run.decisions:
        action = record.action
        if action is None or record.resume > execution.resume:
            continue
        if execution.call_id is not None and action.tool_call_id is not None:
            same = action.tool_call_id == execution.call_id and not _made_after(
                run, record, execution
            )
        else:
            same = action.name == execution.name and dict(action.args) == dict(execution.args)
        if same:
            found = record
    return found


def _made_after(run: Run, record: DecisionRecord, execution: ToolExecution) -> bool:
    """Whether a model turn after `record` made the call `execution` ran (same id, same tool)."""
    decided = next((i for i, step in enumerate(run.steps) if step.record is record), None)
    if decided is None:
        return False
    return any(
        call.get("id") == execution.call_id and call.get("name") == execution.name
        for step in run.steps[decided + 1 :]
        if step.kind == "model_turn"
        for call in (getattr(getattr(step.record, "response", None), "tool_calls", None) or ())
    )


# ---------------------------------------------------------------- the checks


def _gated_for(run: Run, execution: ToolExecution) -> Mapping[str, tuple[str, ...]]:
    """The gates that apply where the call ran: the tools the test alone declared, plus those
    the calling agent's own config always reviews (a subagent's config replaces its parent's in
    deepagents; a tool with a `when=` predicate is reviewed only when it says so)."""
    own = run.gates_of_agent(execution.agent)
    if own is None:
        return run.gated
    configured = {tool for agent in run.agent_gates.values() for tool in agent.gates}
    declared = {tool: allowed for tool, allowed in run.gated.items() if tool not in configured}
    declared.update(run.declared_gates)
    always = {tool: a for tool, a in own.gates.items() if tool not in own.conditional}
    return {**declared, **always}


def _unapproved_call(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for execution in run.executed:
        record = _decision_for(run, execution)
        kind = _payload_type(record) if record is not None else None
        if record is None or kind is None:
            gated = _gated_for(run, execution)
            if execution.name in gated:
                allowed = ", ".join(gated[execution.name]) or "no decision types"
                found.append(
                    Violation(
                        "unapproved_call",
                        f"{execution.name} is gated ({allowed}) but ran with no approve or edit "
                        "decision for the call: the reviewer was never asked about it.",
                        (_ran(execution), *_asked(run)),
                    )
                )
            continue
        action = record.action
        if (
            kind == "approve"
            and action is not None
            and execution.name == action.name
            and dict(execution.args) != dict(action.args)
        ):
            found.append(
                Violation(
                    "unapproved_call",
                    f"{execution.name} ran with other arguments than the reviewer approved.",
                    (_decided(record), _ran(execution)),
                )
            )
    return found


def _asked(run: Run) -> tuple[str, ...]:
    """What each interrupt of the run put to the reviewer."""
    asked = [
        f"{interrupt.label} asked about: "
        + (", ".join(action.describe() for action in interrupt.actions) or "nothing")
        for interrupt in run.interrupts
        if interrupt.actions
    ]
    return tuple(asked) if asked else ("no interrupt asked about any tool call",)


def _rejected_call_ran(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for execution in run.executed:
        record = _decision_for(run, execution)
        if record is not None and _payload_type(record) in ("reject", "respond"):
            kind = _payload_type(record)
            action = record.action
            instead = (
                f" (the call under review was {action.name})"
                if action is not None and action.name != execution.name
                else ""
            )
            found.append(
                Violation(
                    "rejected_call_ran",
                    f"{execution.name} ran although the reviewer answered it with {kind}{instead}.",
                    (_decided(record), _ran(execution)),
                )
            )
    return found


def _edit_not_applied(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for execution in run.executed:
        record = _decision_for(run, execution)
        if record is None or _payload_type(record) != "edit":
            continue
        edited = record.payload.get("edited_action") or {}
        name, args = edited.get("name"), dict(edited.get("args") or {})
        ran = dict(execution.args)
        differs = [key for key in ran if args.get(key, _MISSING) != ran[key]]
        if name != execution.name or differs:
            what = (
                f"tool {execution.name!r} instead of {name!r}"
                if name != execution.name
                else f"{', '.join(map(repr, differs))} other than edited"
            )
            found.append(
                Violation(
                    "edit_not_applied",
                    f"The edited call ran with {what}.",
                    (
                        _decided(record),
                        f"expected: {_call_text(str(name), args)}",
                        _ran(execution),
                    ),
                )
            )
    return found


_MISSING = object()


def _superseded(run: Run, record: DecisionRecord) -> bool:
    """A later resume answered the same call again (e.g. recover() after a poisoned answer)."""
    call_id = record.action.tool_call_id if record.action is not None else None
    return call_id is not None and any(
        later.resume > record.resume
        and later.action is not None
        and later.action.tool_call_id == call_id
        for later in run.decisions
    )


def _approved(run: Run) -> list[DecisionRecord]:
    """The approve/edit decisions about a tool call that no later resume answered again."""
    return [
        record
        for record in run.decisions
        if record.action is not None
        and record.action.tool_call_id is not None
        and not _superseded(run, record)
        and _payload_type(record) in ("approve", "edit")
    ]


def _blocked_after(run: Run, record: DecisionRecord) -> PolicyBlock | None:
    """The policy block of the call `record` approved, in or after the resume that carried it."""
    call_id = record.action.tool_call_id if record.action is not None else None
    return next(
        (b for b in run.blocked if b.call_id == call_id and b.resume >= record.resume), None
    )


def _approved_call_dropped(run: Run) -> list[Violation]:
    if run.status != "finished":
        return []
    found: list[Violation] = []
    for record in _approved(run):
        action = record.action
        assert action is not None
        if _blocked_after(run, record) is not None:
            continue  # not dropped: a policy refused it (approved_call_blocked)
        if not any(
            e.call_id == action.tool_call_id and e.resume >= record.resume for e in run.executed
        ):
            found.append(
                Violation(
                    "approved_call_dropped",
                    f"The reviewer approved {action.name} (call {action.tool_call_id!r}) but it "
                    "never ran.",
                    (_decided(record),),
                )
            )
    return found


def _approved_call_blocked(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for record in _approved(run):
        block = _blocked_after(run, record)
        if block is None or record.action is None:
            continue
        odds = f" (probability {block.probability:.2f})" if block.probability is not None else ""
        why = f": {block.reason}" if block.reason else ""
        found.append(
            Violation(
                "approved_call_blocked",
                f"The reviewer approved {record.action.name} (call {block.call_id!r}) but "
                f"{block.policy} then blocked it, so the human's approval did not take effect. "
                "If the policy is meant to overrule the reviewer, assert on run.blocked and "
                "pass approved_call_blocked=False.",
                (
                    _decided(record),
                    f"blocked: {_call_text(block.name, block.args)} by {block.policy}{odds}"
                    f"{why} (resume {block.resume})",
                ),
            )
        )
    return found


def _ran_twice(run: Run) -> list[Violation]:
    found: list[Violation] = []
    groups: dict[tuple[Any, ...], list[ToolExecution]] = {}
    for execution in run.executed:
        key = (execution.call_id, execution.name, _args_text(execution.args))
        groups.setdefault(key, []).append(execution)
    for attempts in groups.values():
        # An attempt that raised is not a run: a retry after it (ToolRetryMiddleware, or a
        # corrected resume) is the call's first execution.
        runs = [attempt for attempt in attempts if attempt.error is None]
        if len(runs) > 1 and (runs[0].call_id is not None or len({r.resume for r in runs}) > 1):
            failed = len(attempts) - len(runs)
            also = f" (and raised {failed} time{'s' * (failed != 1)})" if failed else ""
            found.append(
                Violation(
                    "ran_twice",
                    f"{runs[0].name} ran {len(runs)} times for one call{also}.",
                    tuple(_attempt(r) for r in attempts),
                )
            )
    effects: dict[tuple[str, str], list[SideEffect]] = {}
    for effect in run.side_effects:
        seen = (effect.name, repr((effect.args, sorted(effect.kwargs.items()))))
        effects.setdefault(seen, []).append(effect)
    for calls in effects.values():
        if len({c.resume for c in calls}) > 1:
            first = calls[0]
            shown = ", ".join(
                [*map(repr, first.args), *(f"{k}={v!r}" for k, v in first.kwargs.items())]
            )
            found.append(
                Violation(
                    "ran_twice",
                    f"Side effect {first.name}({shown}) happened in {len(calls)} resumes.",
                    tuple(f"happened in resume {c.resume}" for c in calls),
                )
            )
    return found


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            block if isinstance(block, str) else str(block.get("text", block))
            for block in content
            if isinstance(block, str | dict)
        )
    return str(content)


def _reason_not_delivered(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for record in run.decisions:
        kind = _payload_type(record)
        message = record.payload.get("message") if kind in ("reject", "respond") else None
        if not isinstance(message, str) or not message or record.interrupt.kind == "raw":
            continue
        if _superseded(run, record):
            continue
        agent = record.interrupt.agent
        later = [
            request
            for request in run.model_requests
            if request.resume >= record.resume and (agent is None or request.agent == agent)
        ]
        if not later:
            if run.status == "finished":
                found.append(
                    Violation(
                        "reason_not_delivered",
                        f"The model was never asked again after the reviewer's {kind}, so it "
                        f"never saw {message!r}.",
                        (_decided(record),),
                    )
                )
            continue
        request = later[0]
        if not any(message in _text(m.content) for m in request.messages):
            found.append(
                Violation(
                    "reason_not_delivered",
                    f"The model's next request (turn {request.turn}) does not contain the "
                    f"reviewer's {kind} message {message!r}.",
                    (
                        _decided(record),
                        *(
                            f"sent: {type(m).__name__}: {_text(m.content)[:120]!r}"
                            for m in request.messages[-4:]
                        ),
                    ),
                )
            )
    return found


def _unused_decisions(run: Run) -> list[Violation]:
    if not run.unused_decisions:
        return []
    count = len(run.unused_decisions)
    return [
        Violation(
            "unused_decisions",
            f"The reviewer was left with {count} unused decision{'s' * (count != 1)}: the "
            "agent asked fewer questions than the test scripted.",
            tuple(f"unused: {d.describe()}" for d in run.unused_decisions),
        )
    ]


def _unanswered_interrupts(run: Run) -> list[Violation]:
    if not run.pending or run.expect_pending or run.error is not None:
        return []
    return [
        Violation(
            "unanswered_interrupts",
            f"The run ended with {len(run.pending)} interrupt(s) pending. Answer them, or pass "
            "expect_pending=True to simulate() when the reviewer is meant to be unavailable.",
            tuple(
                f"pending: {p.label}: "
                + (", ".join(a.describe() for a in p.actions) or f"payload {p.value!r}")
                for p in run.pending
            ),
        )
    ]


def _who(agent: str | None) -> str:
    return "the top-level agent" if agent is None else f"subagent {agent!r}"


def _gate_names_no_tool(run: Run) -> list[Violation]:
    """Gates that name no tool of their agent, nor of another agent carrying the same gate (a
    deep agent's top-level `interrupt_on` is inherited by its declarative subagents)."""
    from hitl_sim.validation import nearest

    found: list[Violation] = []
    for agent, own in run.agent_gates.items():
        for gate in own.unknown:
            carriers = [other for other in run.agent_gates.values() if gate in other.gates]
            if any(gate in other.tools for other in carriers):
                continue
            near = nearest(gate, own.tools)
            hint = f" Did you mean {near!r}?" if near is not None else ""
            found.append(
                Violation(
                    "gate_names_no_tool",
                    f"The interrupt_on of {_who(agent)} gates {gate!r}, which is none of its "
                    f"tools, so that gate reviews nothing and the tool it meant runs without a "
                    f"human's yes.{hint} Fix the tool name in interrupt_on (or pass "
                    "gate_names_no_tool=False for a tool the agent adds at run time).",
                    (
                        f"agent: {_who(agent)}",
                        f"gate: {gate!r}",
                        f"its tools: {', '.join(own.tools) or 'none'}",
                        f"nearest match: {near!r}" if near is not None else "nearest match: none",
                    ),
                )
            )
    return found


def _gates_unknown(run: Run) -> list[Violation]:
    """Tool-review interrupts from an agent whose HITL middleware hitl-sim could not find."""
    if run.declared_gates:
        return []
    found: list[Violation] = []
    for interrupt in run.interrupts:
        if interrupt.kind not in ("batched", "per_call") or not interrupt.actions:
            continue
        own = run.gates_of_agent(interrupt.agent)
        if own is not None and own.mode is not None:
            continue
        found.append(
            Violation(
                "gates_unknown",
                f"{interrupt.label} put tool calls to the reviewer, but hitl-sim found no "
                f"HumanInTheLoopMiddleware instance in {_who(interrupt.agent)}, so it cannot "
                "tell which of its tools are gated and unapproved_call cannot see a gated call "
                "that ran unreviewed. Declare the gated tools with simulate(..., gated=[...]).",
                (
                    f"asked about: {', '.join(a.describe() for a in interrupt.actions)}",
                    f"middleware found: {_middleware_names(run, interrupt.agent)}",
                ),
            )
        )
    return found


def _middleware_names(run: Run, agent: str | None) -> str:
    own = run.gates_of_agent(agent)
    if own is None:
        return "the agent was not reachable from the graph"
    return ", ".join(own.middleware) or "none"


CHECKS: dict[str, Callable[[Run], list[Violation]]] = {
    "unapproved_call": _unapproved_call,
    "rejected_call_ran": _rejected_call_ran,
    "edit_not_applied": _edit_not_applied,
    "approved_call_dropped": _approved_call_dropped,
    "approved_call_blocked": _approved_call_blocked,
    "ran_twice": _ran_twice,
    "reason_not_delivered": _reason_not_delivered,
    "unused_decisions": _unused_decisions,
    "unanswered_interrupts": _unanswered_interrupts,
    "gate_names_no_tool": _gate_names_no_tool,
    "gates_unknown": _gates_unknown,
}


def _enabled(options: Mapping[str, bool]) -> dict[str, bool]:
    unknown = [name for name in options if name not in CHECKS]
    if unknown:
        raise InvalidArgument(
            f"Unknown check option{'s' * (len(unknown) != 1)} {', '.join(map(repr, unknown))}. "
            f"The checks are: {', '.join(CHECKS)}; switch one off with <name>=False."
        )
    for name, value in options.items():
        if not isinstance(value, bool):
            raise InvalidArgument(f"{name}={value!r}: check options take True or False.")
    return {name: options.get(name, True) for name in CHECKS}
