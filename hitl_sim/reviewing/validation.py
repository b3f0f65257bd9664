"""Local validation of an answer before it is sent.

In LangGraph a malformed batched answer poisons the thread for good (every later resume re-raises
the same error), so the driver calls `problems(...)` first and refuses to send an answer with any.
`unchecked(...)` decisions are exempt: that is how a test sends a bad answer on purpose.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hitl_sim.decisions import MIDDLEWARE_DECISIONS, Decision

if TYPE_CHECKING:
    from hitl_sim.interrupts import ActionRequest, PendingInterrupt

__all__ = ["arg_names", "nearest", "problems", "unknown_edit_args"]

_BREAKPOINT_DECISIONS = ("approve", "update")


def problems(
    interrupt: PendingInterrupt,
    decisions: Sequence[Decision],
    *,
    tools: Mapping[str, Any] | Collection[str] | None = None,
) -> list[str]:
    """What is wrong with answering `interrupt` with `decisions`; empty when nothing is.

    `tools`: the tool names the agent has (or a name -> tool mapping, which also tells the
    required arguments), to check redirected edits; None when unknown.
    """
    where = interrupt.label
    if interrupt.kind == "batched":
        wanted = len(interrupt.actions)
        if len(decisions) != wanted:
            calls = ", ".join(action.describe() for action in interrupt.actions)
            return [
                f"{where}: {len(decisions)} decision{'s' * (len(decisions) != 1)} for "
                f"{wanted} action request{'s' * (wanted != 1)} ({calls}). Give exactly one "
                "decision per action request, in order, or answer by tool with "
                "Reviewer.by_tool({...})."
            ]
        found: list[str] = []
        for index, (action, decision) in enumerate(zip(interrupt.actions, decisions, strict=True)):
            label = f"{where}, action {index + 1} of {wanted} ({action.name})"
            found.extend(_action_problems(label, action, decision, tools))
        return found
    if len(decisions) != 1:
        return [
            f"{where}: {len(decisions)} decisions; a {interrupt.kind} interrupt takes exactly one."
        ]
    decision = decisions[0]
    if interrupt.kind == "per_call":
        action = interrupt.actions[0]
        found = _action_problems(f"{where} ({action.name})", action, decision, tools)
        if not found and decision.type == "edit" and decision.name not in (None, action.name):
            found.append(
                f"{where} ({action.name}): edit() redirects the call to {decision.name!r}, but "
                f"a per_call review only accepts edits of {action.name!r} itself (its "
                "response_schema pins the tool name). Edit the arguments only, or reject it."
            )
        return found
    if decision.type == "unchecked":
        return []
    if interrupt.kind == "breakpoint":
        if decision.type == "answer":
            return [
                f"{where}: {decision.describe()} cannot answer a static breakpoint: LangGraph "
                "continues a breakpoint with invoke(None), so the value would be dropped "
                "unseen. Use approve() to continue, or update(key=value) to write it into the "
                "state first."
            ]
        if decision.type not in _BREAKPOINT_DECISIONS:
            return [
                f"{where}: {decision.describe()} cannot answer a static breakpoint, which can "
                "only be continued. Use approve() to continue, or update(key=value) to write "
                "state first."
            ]
        return []
    if decision.type == "edit" and decision.name is None:
        return [
            f"{where}: edit() without a tool name cannot answer a raw interrupt() (payload "
            f"{interrupt.value!r}): there is no call to edit. Use answer(value)."
        ]
    if decision.type in MIDDLEWARE_DECISIONS:
        sent = decision.payload_for(None)
        return [
            f"{where}: {decision.describe()} cannot answer a raw interrupt() (payload "
            f"{interrupt.value!r}): no HumanInTheLoopMiddleware reads it, so the node would get "
            f"{sent!r} as interrupt()'s return value. Use answer(value) with the value the node "
            f"expects (answer({sent!r}) if it really reads the middleware's shape)."
        ]
    if decision.type != "answer":
        return [
            f"{where}: {decision.describe()} cannot answer a raw interrupt() (payload "
            f"{interrupt.value!r}). Use answer(value) with the value the node expects."
        ]
    return []


def _action_problems(
    label: str,
    action: ActionRequest,
    decision: Decision,
    tools: Mapping[str, Any] | Collection[str] | None,
) -> list[str]:
    if decision.type == "unchecked":
        return []
    if decision.type not in MIDDLEWARE_DECISIONS:
        return [
            f"{label}: {decision.describe()} cannot answer a tool review. Use approve(), "
            "edit(...), reject(...) or respond(...)."
        ]
    if action.allowed and decision.type not in action.allowed:
        return [
            f"{label}: {decision.type!r} is not allowed for {action.name!r}; allowed: "
            f"{', '.join(action.allowed)}. Use one of those (the middleware's interrupt_on "
            f"config for {action.name!r} decides)."
        ]
    message: object = decision.message
    if decision.type == "respond" and not isinstance(message, str):
        return [f"{label}: respond() needs the message text, e.g. respond('Bob is on holiday')."]
    if decision.type == "reject" and not isinstance(message, str | None):
        return [f"{label}: reject() takes the reason as a str, got {message!r}."]
    if decision.type == "edit":
        return _edit_problems(label, action, decision, tools)
    return []


def _edit_problems(
    label: str,
    action: ActionRequest,
    decision: Decision,
    tools: Mapping[str, Any] | Collection[str] | None,
) -> list[str]:
    given: object = decision.args
    if given is not None and not isinstance(given, Mapping):
        return [f"{label}: edit() arguments must be a mapping, got {given!r}."]
    edited = decision.payload_for(action)["edited_action"]
    name, args = edited["name"], edited["args"]
    if not isinstance(name, str) or not name:
        return [f"{label}: edit() names no tool ({name!r}). Use edit('tool_name', {{...}})."]
    if tools is not None and name != action.name and name not in tools:
        names = ", ".join(sorted(tools))
        return [
            f"{label}: edit() redirects the call to {name!r}, which is not one of the agent's "
            f"tools ({names}). Redirect to one of those, or edit the arguments only."
        ]
    if isinstance(tools, Mapping) and name in tools:
        missing = [arg for arg in _required_args(tools[name]) if arg not in args]
        if missing:
            return [
                f"{label}: the edited call {name}({', '.join(map(str, args))}) lacks required "
                f"argument{'s' * (len(missing) != 1)} {', '.join(map(repr, missing))}. Pass "
                "them to edit(...) (a redirect to another tool takes its full arguments)."
            ]
    return []


def _required_args(tool: Any) -> list[str]:
    """Required argument names of a LangChain tool (or a JSON schema dict); [] when unknown."""
    schema: Any = tool
    if not isinstance(schema, Mapping):
        call_schema = getattr(tool, "tool_call_schema", None)
        to_json = getattr(call_schema, "model_json_schema", None)
        if not callable(to_json):
            return []
        schema = to_json()
    required = schema.get("required") if isinstance(schema, Mapping) else None
    return [str(name) for name in required] if isinstance(required, list) else []


def unknown_edit_args(
    interrupt: PendingInterrupt, decisions: Sequence[Decision], tools: Mapping[str, Any]
) -> list[str]:
    """Edits that set arguments their tool does not take: the middleware would run the call
    with the model's own arguments (the extra ones are dropped), so the edit would be lost
    without a word. Empty when every edited name is an argument, or a tool's schema is unknown.
    `unchecked(edit(...))` decisions are exempt."""
    found: list[str] = []
    total = len(interrupt.actions)
    for index, (action, decision) in enumerate(zip(interrupt.actions, decisions, strict=False)):
        if decision.type != "edit" or not isinstance(decision.args, Mapping):
            continue
        name = decision.name or action.name
        known = arg_names(tools[name]) if name in tools else None
        if known is None:
            continue
        unknown = [str(arg) for arg in decision.args if arg not in known]
        if not unknown:
            continue
        where = f"action {index + 1} of {total}, " if interrupt.kind == "batched" else ""
        listed = ", ".join(map(repr, unknown))
        hints = "; ".join(
            f"nearest match for {arg!r}: {match!r}"
            for arg in unknown
            if (match := nearest(arg, known)) is not None
        )
        found.append(
            f"{where}{action.describe()}: {decision.describe()} sets "
            f"{listed}, which {'is not an argument' if len(unknown) == 1 else 'are not arguments'}"
            f" of {name}. Its arguments: {', '.join(known) or '(none)'}"
            + (f"; {hints}." if hints else ".")
        )
    return found


def arg_names(tool: Any) -> list[str] | None:
    """The argument names a tool's model-facing schema lists (sorted), or None when unknown or
    open (a schema that accepts any extra argument)."""
    schema: Any = tool
    if not isinstance(schema, Mapping):
        call_schema = getattr(tool, "tool_call_schema", None)
        to_json = getattr(call_schema, "model_json_schema", None)
        if isinstance(call_schema, Mapping):
            schema = call_schema
        elif callable(to_json):
            schema = to_json()
        else:
            return None
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or schema.get("additionalProperties") not in (
        None,
        False,
    ):
        return None
    return sorted(str(name) for name in properties)


def misspelt(name: str, known: Iterable[str]) -> str | None:
    """The known name `name` is most likely a typo of (difflib's ratio at least 0.75), or None:
    for a name that matched nothing where the tools are not all known, this tells a typo
    ('delet_file') from a tool the run never reached ('shutdown_cluster')."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like `name` (difflib's ratio), or None when nothing is alike."""
    scored = [(difflib.SequenceMatcher(None, name, k).ratio(), k) for k in sorted(known)]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best[1] if best[0] > 0 else None
