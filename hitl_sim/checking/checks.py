"""Safety checks over a finished `Run`: what really ran, against what the reviewer decided.

Every check is named; `run.check()` applies all of them and raises `CheckFailed` listing each
violation with its evidence, and `run.check(ran_twice=False)` switches one off:

- ``unapproved_call``: a gated tool ran with no approve/edit decision for that call (gated tools
  are the test's `gated=` plus the agent's own HITL config, so a call the middleware never put to
  the reviewer is caught too), or on a decision the middleware took for approval although it is
  none (an unknown type, or an approve/edit its gate does not allow), or an approved call ran
  with other arguments than were reviewed;
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
- ``reply_differs``: the ToolMessage the model got for a reject or respond differs from what the
  installed `HumanInTheLoopMiddleware` sends for that decision (content, status, name,
  tool_call_id), or there is none;
- ``edit_skipped_gate``: an edit redirected a call to another gated tool, which then ran on this
  call's review instead of its own;
- ``edit_not_told``: an edited call ran and the model's next request shows neither the executed
  call nor an edit notice naming it;
- ``all_or_nothing`` (off unless `all_or_nothing=True`): a tool ran while a gated call of the same
  model turn still waited for review (per_call mode; see `Run.ran_before_review`).

Decisions are matched to executions by tool call id: batched action i is the i-th gated call of
the AIMessage that caused the interrupt (the driver fills `ActionRequest.tool_call_id`); per_call
payloads carry the id themselves. Ids may repeat across model turns, so a decision is for an
execution only if no model turn between them made a call with the same id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from hitl_sim.checking.app_audit import app_audit_violations
from hitl_sim.checking.violation import Violation
from hitl_sim.decisions import MIDDLEWARE_DECISIONS
from hitl_sim.errors import CheckFailed, InvalidArgument
from hitl_sim.normalise import message_text
from hitl_sim.order import made_between, ran_before_review, step_index, turn_of

if TYPE_CHECKING:
    from hitl_sim.interrupts import ActionRequest
    from hitl_sim.run import DecisionRecord, PolicyBlock, Run, SideEffect, ToolExecution

__all__ = [
    "CHECKS",
    "CheckOptions",
    "RunCheckOptions",
    "OPT_IN",
    "Violation",
    "check",
    "ran_before_review",
    "violations",
]


class CheckOptions(TypedDict, total=False):
    """`<check name>=False` switches a check off (`all_or_nothing=True` switches the opt-in one
    on): one key per entry of `CHECKS`, so a type checker catches a misspelt check."""

    unapproved_call: bool
    rejected_call_ran: bool
    edit_not_applied: bool
    approved_call_dropped: bool
    approved_call_blocked: bool
    ran_twice: bool
    result_lost: bool
    reason_not_delivered: bool
    unused_decisions: bool
    unanswered_interrupts: bool
    gate_names_no_tool: bool
    gates_unknown: bool
    reply_differs: bool
    edit_skipped_gate: bool
    edit_not_told: bool
    all_or_nothing: bool


class RunCheckOptions(CheckOptions, total=False):
    """`run.check(...)`'s options: the checks, and the application's own audit records."""

    app_audit: Any


def violations(
    run: Run, *, app_audit: Any = None, **options: Unpack[CheckOptions]
) -> list[Violation]:
    """Every violation in `run`, in check order; `<check name>=False` skips that check.

    `app_audit`: the application's own audit records (see `hitl_sim.checking.AppAudit`);
    decisions it failed to record, recorded wrongly or made up are violations too.
    """
    enabled = _enabled(dict(options))
    found: list[Violation] = []
    for name, rule in CHECKS.items():
        if enabled[name]:
            found.extend(rule(run))
    if app_audit is not None:
        found.extend(app_audit_violations(run, app_audit))
    return _masked(run, found)


def _masked(run: Run, found: list[Violation]) -> list[Violation]:
    """`found` with every secret the run saw masked in messages and evidence."""
    if not found:
        return found
    text = run.redactor().text
    return [Violation(v.check, text(v.message), tuple(map(text, v.evidence))) for v in found]


def check(run: Run, *, app_audit: Any = None, **options: Unpack[CheckOptions]) -> None:
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
    """The tool-review decision that covers this execution, if any.

    An execution with a call id has the latest decision for its call (see `_latest_decision`).
    One without (a tool invoked directly, say by another tool) is matched by name and arguments,
    and a decision covers one execution: once the call it decided has run, it is used up, so a
    later direct run of the same call is not approved by it.
    """
    found = _latest_decision(run, execution)
    if found is None or execution.call_id is not None:
        return found
    for earlier in run.executed:
        if earlier is execution:
            break
        if earlier.error is None and _latest_decision(run, earlier) is found:
            return None
    return found


def _latest_decision(run: Run, execution: ToolExecution) -> DecisionRecord | None:
    """The latest tool-review decision for this execution's call, sent no later than it ran.

    Models may reuse call ids across turns: a decision is for this execution only if no model
    turn between the decision and the execution made a call with the same id (that later call
    is another one, with its own decision). Agents with models of their own number their calls
    alike (`call_1` in each): a decision about another agent's call is not for this one.
    """
    found: DecisionRecord | None = None
    ran_at = step_index(run, execution)
    for record in run.decisions:
        action = record.action
        if action is None or record.resume > execution.resume:
            continue
        asked_by = record.interrupt.agent
        if asked_by is not None and asked_by != execution.agent:
            continue
        if execution.call_id is not None and action.tool_call_id is not None:
            decided = step_index(run, record)
            same = action.tool_call_id == execution.call_id and not made_between(
                run, decided, ran_at, execution.call_id
            )
            if ran_at is not None and decided is not None and decided > ran_at:
                same = False
        else:
            same = action.name == execution.name and dict(action.args) == dict(execution.args)
        if same:
            found = record
    return found


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
                why = (
                    "it ran without a call id (invoked directly, e.g. by another tool), and the "
                    "approval of the same call was used up when that call ran"
                    if record is None and _latest_decision(run, execution) is not None
                    else "the reviewer was never asked about it"
                )
                found.append(
                    Violation(
                        "unapproved_call",
                        f"{execution.name} is gated ({allowed}) but ran with no approve or edit "
                        f"decision for the call: {why}.",
                        (_ran(execution), *_asked(run)),
                    )
                )
            continue
        action = record.action
        if kind not in MIDDLEWARE_DECISIONS:
            found.append(
                Violation(
                    "unapproved_call",
                    f"{execution.name} ran on a {kind!r} decision, which is not approve or edit: "
                    "the middleware took it for approval (the real HumanInTheLoopMiddleware "
                    "refuses it as an unexpected human decision).",
                    (_decided(record), _ran(execution)),
                )
            )
            continue
        if (
            kind in ("approve", "edit")
            and action is not None
            and action.allowed
            and kind not in action.allowed
        ):
            found.append(
                Violation(
                    "unapproved_call",
                    f"{execution.name} ran on {kind}, which its gate does not allow (allowed: "
                    f"{', '.join(action.allowed)}): the middleware took it for approval.",
                    (_decided(record), _ran(execution)),
                )
            )
            continue
        if kind == "approve" and action is not None and execution.name != action.name:
            found.append(
                Violation(
                    "unapproved_call",
                    f"{execution.name} ran on the approval of another tool: the reviewer "
                    f"approved {action.name}, and {execution.name} ran in its place under the "
                    "same call id, never reviewed itself.",
                    (_decided(record), _ran(execution)),
                )
            )
            continue
        if kind == "approve" and action is not None and dict(execution.args) != dict(action.args):
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
    if call_id is None:
        return False
    decided = step_index(run, record)
    return any(
        later.resume > record.resume
        and later.action is not None
        and later.action.tool_call_id == call_id
        and not made_between(run, decided, step_index(run, later), call_id)
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
        decided = step_index(run, record)
        name = (_edited(record)[0] if _payload_type(record) == "edit" else None) or action.name
        if not any(
            e.call_id == action.tool_call_id
            and e.name in (name, action.name)
            and e.resume >= record.resume
            and not made_between(run, decided, step_index(run, e), e.call_id)
            for e in run.executed
        ):
            found.append(
                Violation(
                    "approved_call_dropped",
                    f"The reviewer approved {action.name} (call {action.tool_call_id!r}) but it "
                    "never ran" + _ran_instead(run, record, action.tool_call_id) + ".",
                    (_decided(record),),
                )
            )
    return found


def _ran_instead(run: Run, record: DecisionRecord, call_id: str | None) -> str:
    approved = record.action.name if record.action is not None else None
    others = sorted({e.name for e in run.executed if e.call_id == call_id} - {approved})
    return f": {', '.join(others)} ran under its call id instead" if others else ""


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
        # A reused call id in a later model turn is another call (providers do not guarantee
        # unique ids), so the turn that made the call is part of its identity.
        origin = turn_of(run, execution)
        key = (execution.call_id, execution.name, _args_text(execution.args), origin)
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


def _result_lost(run: Run) -> list[Violation]:
    return [
        Violation(
            "result_lost",
            f"{execution.name} ran in resume {execution.resume}, but the thread kept no result "
            "of it: the step it ran in failed and its write was not saved, so the thread does "
            "not know it ran and a retry of that step runs it again.",
            (_ran(execution), "the thread's task for it shows neither a result nor an error"),
        )
        for execution in run.lost_results
    ]


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
            if (request.resume or 0) >= record.resume and (agent is None or request.agent == agent)
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
        if not any(message in message_text(m) for m in request.messages):
            found.append(
                Violation(
                    "reason_not_delivered",
                    f"The model's next request ({request.label}) does not contain the "
                    f"reviewer's {kind} message {message!r}.",
                    (
                        _decided(record),
                        *(
                            f"sent: {type(m).__name__}: {message_text(m)[:120]!r}"
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
    from hitl_sim.reviewing.validation import misspelt, nearest

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
    seen = sorted(run.tools_seen)
    for gate in run.unmatched_gated:
        # A name no tool matched, close to one that did, is a typo: the tool it meant ran
        # unjudged. One close to nothing may be a tool this run never reached (the timeline
        # lists it either way).
        near = misspelt(gate, seen)
        if near is None:
            continue
        found.append(
            Violation(
                "gate_names_no_tool",
                f"gated= names {gate!r}, which is no tool the run saw, so it gated nothing; "
                f"did you mean {near!r}? Fix the name in gated= (or pass "
                "gate_names_no_tool=False if the tool is another one that never ran).",
                (f"gated: {gate!r}", f"tools the run saw: {', '.join(seen)}"),
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


# ------------------------------------------------- what the model is told, and when tools ran


def _next_request(run: Run, after: int | None, call_id: str, names: tuple[str, ...]) -> Any:
    """The first model request after step `after` whose history holds the AIMessage that made
    the call (`call_id`, one of `names`): what the model was told about it. None if none."""
    if after is None:
        return None
    for step in run.steps[after + 1 :]:
        if step.kind != "model_turn":
            continue
        if _made_in(step.record.messages, call_id, names) is not None:
            return step.record
    return None


def _made_in(messages: Any, call_id: str, names: tuple[str, ...]) -> int | None:
    """The index of the last AIMessage in `messages` with a call `call_id` named one of `names`."""
    found: int | None = None
    for i, message in enumerate(messages):
        calls = getattr(message, "tool_calls", None) or ()
        if type(message).__name__.startswith("AIMessage") and any(
            call.get("id") == call_id and call.get("name") in names for call in calls
        ):
            found = i
    return found


def _replies(messages: Any, made: int) -> list[Any]:
    """The ToolMessages after the AIMessage at `made`, up to the next AIMessage."""
    found: list[Any] = []
    for message in list(messages)[made + 1 :]:
        if type(message).__name__.startswith("AIMessage"):
            break
        if type(message).__name__.startswith("ToolMessage"):
            found.append(message)
    return found


def _real_reply(record: DecisionRecord) -> Any:
    """The ToolMessage the installed `HumanInTheLoopMiddleware` sends for this reject/respond
    (its own message-building code, run on the recorded decision); None if it cannot say."""
    from langchain.agents.middleware import HumanInTheLoopMiddleware

    action = record.action
    kind = _payload_type(record)
    if action is None or kind is None:
        return None
    call = {"name": action.name, "args": dict(action.args), "id": action.tool_call_id}
    build: Any = HumanInTheLoopMiddleware._process_decision
    try:
        _, message = build(dict(record.payload), call, {"allowed_decisions": [kind]})
    except Exception:  # a malformed decision: the real middleware would have raised
        return None
    return message


_REPLY_FIELDS = ("content", "status", "name", "tool_call_id")


def _shown(message: Any) -> str:
    return ", ".join(f"{f}={getattr(message, f, None)!r}" for f in _REPLY_FIELDS)


def _reply_differs(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for record in run.decisions:
        kind = _payload_type(record)
        action = record.action
        if kind not in ("reject", "respond") or action is None or action.tool_call_id is None:
            continue
        if record.interrupt.kind not in ("batched", "per_call") or _superseded(run, record):
            continue
        if any(_decision_for(run, e) is record for e in run.executed):
            continue  # the call ran anyway: rejected_call_ran says so
        expected = _real_reply(record)
        request = _next_request(run, step_index(run, record), action.tool_call_id, (action.name,))
        if expected is None or request is None:
            continue  # nothing to compare with, or the model was not asked again
        made = _made_in(request.messages, action.tool_call_id, (action.name,))
        assert made is not None
        replies = _replies(request.messages, made)
        reply = next((m for m in replies if m.tool_call_id == action.tool_call_id), None)
        if reply is None:
            got = tuple(f"sent instead: ToolMessage({_shown(m)})" for m in replies) or (
                "sent instead: no ToolMessage after the call",
            )
            found.append(
                Violation(
                    "reply_differs",
                    f"The model's next request ({request.label}) has no ToolMessage answering "
                    f"the {kind}ed call {action.name} (call {action.tool_call_id!r}); the real "
                    "HumanInTheLoopMiddleware answers it with one.",
                    (_decided(record), f"real middleware: ToolMessage({_shown(expected)})", *got),
                )
            )
            continue
        differs = [f for f in _REPLY_FIELDS if getattr(reply, f, None) != getattr(expected, f)]
        if differs:
            found.append(
                Violation(
                    "reply_differs",
                    f"The ToolMessage the model got for the reviewer's {kind} of {action.name} "
                    f"({request.label}) differs from what HumanInTheLoopMiddleware sends in "
                    f"{', '.join(differs)}.",
                    (
                        _decided(record),
                        *(
                            f"{f}: {getattr(reply, f, None)!r} (real middleware: "
                            f"{getattr(expected, f)!r})"
                            for f in differs
                        ),
                    ),
                )
            )
    return found


def _edited(record: DecisionRecord) -> tuple[str | None, dict[str, Any]]:
    edited = record.payload.get("edited_action") or {}
    name = edited.get("name")
    return (name if isinstance(name, str) else None), dict(edited.get("args") or {})


def _edits_that_ran(run: Run) -> Iterator[tuple[ToolExecution, DecisionRecord, ActionRequest]]:
    """Each execution an edit decided, with its decision and the action the edit answered."""
    for execution in run.executed:
        record = _decision_for(run, execution)
        if record is not None and record.action is not None and _payload_type(record) == "edit":
            yield execution, record, record.action


def _edit_skipped_gate(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for execution, record, action in _edits_that_ran(run):
        gated = _gated_for(run, execution)
        if execution.name == action.name or execution.name not in gated:
            continue
        allowed = ", ".join(gated[execution.name]) or "no decision types"
        found.append(
            Violation(
                "edit_skipped_gate",
                f"The reviewer's edit of {action.name} redirected it to {execution.name}, which "
                f"is gated itself ({allowed}), so {execution.name} ran on {action.name}'s review, "
                "skipping its own gate and allowed decisions. Edit the call's arguments, and "
                f"let the model call {execution.name} to have it reviewed as itself.",
                (
                    _decided(record),
                    f"{action.name} allows: {', '.join(action.allowed) or 'unknown'}",
                    f"{execution.name} allows: {allowed}",
                    _ran(execution),
                ),
            )
        )
    return found


def _notices(name: str, args: Mapping[str, Any]) -> str:
    """What the real middleware appends to its edit notice (`_notice`), naming what ran."""
    return f"Executed instead: {name} with arguments {json.dumps(dict(args), default=str)}"


def _edit_not_told(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for execution, record, action in _edits_that_ran(run):
        if execution.call_id is None or execution.error is not None:
            continue
        if execution.name == action.name and dict(execution.args) == dict(action.args):
            continue  # the edit changed nothing: there is nothing to tell
        names = tuple(dict.fromkeys((action.name, execution.name)))
        request = _next_request(run, step_index(run, execution), execution.call_id, names)
        if request is None:
            continue  # the model was not asked again, so it reasons about nothing
        made = _made_in(request.messages, execution.call_id, names)
        assert made is not None
        shown = next(
            c
            for c in request.messages[made].tool_calls
            if c.get("id") == execution.call_id and c.get("name") in names
        )
        if shown.get("name") == execution.name and dict(shown.get("args") or {}) == dict(
            execution.args
        ):
            continue  # the model's own message shows the call that ran
        replies = [
            m for m in _replies(request.messages, made) if m.tool_call_id == execution.call_id
        ]
        edited_name, edited_args = _edited(record)
        notices = {_notices(execution.name, execution.args)}
        if edited_name is not None:
            notices.add(_notices(edited_name, edited_args))
        if any(n in message_text(m) for m in replies for n in notices):
            continue
        original = _call_text(str(shown.get("name")), shown.get("args") or {})
        found.append(
            Violation(
                "edit_not_told",
                f"The model was never told of the reviewer's edit: its next request ("
                f"{request.label}) still shows {original}"
                f" and no notice that {_call_text(execution.name, execution.args)} ran instead, "
                "so it reasons about a call that did not happen. (The real middleware prepends "
                "its edit notice to the result; with edit_notice=None on purpose, pass "
                "edit_not_told=False.)",
                (
                    _decided(record),
                    _ran(execution),
                    *(f"sent: ToolMessage: {message_text(m)[:120]!r}" for m in replies),
                ),
            )
        )
    return found


def _all_or_nothing(run: Run) -> list[Violation]:
    found: list[Violation] = []
    for execution, waiting in ran_before_review(run):
        labels = ", ".join(
            f"{i.label}: {', '.join(a.describe() for a in i.actions)}" for i in waiting
        )
        found.append(
            Violation(
                "all_or_nothing",
                f"{execution.name} ran before the gated calls of its model turn were reviewed, "
                "so a reviewer who rejects them cannot stop it: the turn is not all-or-nothing. "
                "per_call reviews run ungated calls first; use interrupt_mode='batched' (the "
                "whole turn is reviewed before any tool runs) or gate the tool too.",
                (_ran(execution), f"still waiting: {labels}"),
            )
        )
    return found


CHECKS: dict[str, Callable[[Run], list[Violation]]] = {
    "unapproved_call": _unapproved_call,
    "rejected_call_ran": _rejected_call_ran,
    "edit_not_applied": _edit_not_applied,
    "approved_call_dropped": _approved_call_dropped,
    "approved_call_blocked": _approved_call_blocked,
    "ran_twice": _ran_twice,
    "result_lost": _result_lost,
    "reason_not_delivered": _reason_not_delivered,
    "unused_decisions": _unused_decisions,
    "unanswered_interrupts": _unanswered_interrupts,
    "gate_names_no_tool": _gate_names_no_tool,
    "gates_unknown": _gates_unknown,
    "reply_differs": _reply_differs,
    "edit_skipped_gate": _edit_skipped_gate,
    "edit_not_told": _edit_not_told,
    "all_or_nothing": _all_or_nothing,
}

OPT_IN = frozenset({"all_or_nothing"})
"""Checks that are off unless switched on (`run.check(all_or_nothing=True)`)."""


def _enabled(options: Mapping[str, Any]) -> dict[str, bool]:
    unknown = [name for name in options if name not in CHECKS]
    if unknown:
        raise InvalidArgument(
            f"Unknown check option{'s' * (len(unknown) != 1)} {', '.join(map(repr, unknown))}. "
            f"The checks are: {', '.join(CHECKS)}; switch one off with <name>=False."
        )
    for name, value in options.items():
        if not isinstance(value, bool):
            raise InvalidArgument(f"{name}={value!r}: check options take True or False.")
    return {name: options.get(name, name not in OPT_IN) for name in CHECKS}
