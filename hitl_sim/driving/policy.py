"""Tool calls a policy middleware blocked, told apart from calls that were dropped.

langchain 1.5's `AutoModeMiddleware` asks a decision model about each call of the tools it guards,
right before the tool would run; a call it finds risky never runs, and the model gets an error
`ToolMessage` ("The tool call `x` was blocked because it was classified as risky (probability:
0.93). The tool was not executed.") with no notification metadata. `record_blocks` finds those
messages in what the model was sent (and in the final state) and records each as a `PolicyBlock`
in `run.blocked` and as a "blocked" step of the timeline, placed before the model turn that first
saw it. `auto_mode_agent` builds a `create_agent` with both middlewares for scenario files.
"""

from __future__ import annotations

import functools
import re
import string
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hitl_sim.errors import ScenarioError, Unsupported
from hitl_sim.run import PolicyBlock, Step

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from hitl_sim.run import Run

AUTO_MODE = "AutoModeMiddleware"
_AUTO_MODE_MODULE = "langchain.agents.middleware.auto_mode"
_AUTO_MODE_TEMPLATE = (
    "The tool call `{tool_name}` was blocked because it was classified as risky "
    "(probability: {probability:.2f}). The tool was not executed."
)
"""langchain 1.5.2's message, used only if the installed langchain no longer names its own."""


@functools.cache
def _blocked_pattern() -> re.Pattern[str] | None:
    """AutoMode's blocked-call message as a regex, built from the installed langchain's own
    template (None: this langchain has no AutoModeMiddleware)."""
    try:
        from langchain.agents.middleware import auto_mode
    except ImportError:  # langchain < 1.5
        return None
    template = getattr(auto_mode, "_DEFAULT_BLOCKED_MESSAGE", _AUTO_MODE_TEMPLATE)
    groups = {"tool_name": r"(?P<tool>.+?)", "probability": r"(?P<probability>[0-9.]+)"}
    parts: list[str] = []
    for literal, field, _spec, _conversion in string.Formatter().parse(str(template)):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(groups.get(field, ".*?"))
    # At the end of the content: HITL puts its edit notice before the result of an edited call.
    return re.compile(r"(?:\A|\n)" + "".join(parts) + r"\Z", re.S)


def blocked_by_policy(message: Any) -> tuple[str, float | None] | None:
    """(policy, probability) if `message` is a policy's blocked-call ToolMessage, else None."""
    if getattr(message, "type", None) != "tool" or getattr(message, "status", None) != "error":
        return None
    content = getattr(message, "content", None)
    pattern = _blocked_pattern()
    found = pattern.search(content) if pattern is not None and isinstance(content, str) else None
    if found is None:
        return None
    try:
        probability: float | None = float(found.group("probability"))
    except (IndexError, ValueError):
        probability = None
    return AUTO_MODE, probability


Notes = Mapping[str, tuple[str | None, Mapping[str, Any]]]
"""Tool call id -> (scripted reason, arguments classified) from hitl-sim decision models."""


def record_blocks(run: Run, notes: Notes) -> None:
    """Add the policy blocks not yet recorded to `run.blocked` and `run.steps`.

    Each is placed before the model turn whose request first carried its ToolMessage (the
    model's next call after the tool node), else at the end. The arguments are those the
    policy was shown: a reviewer's edit (HITL keeps the model's original call in the AIMessage),
    else the call as made; `notes` adds the reasons hitl-sim decision models were scripted with.
    """
    if _AUTO_MODE_MODULE not in sys.modules or _blocked_pattern() is None:
        return  # no agent in this process could have used AutoModeMiddleware
    known = {(block.call_id, block.agent) for block in run.blocked}
    seen_ids = {block.call_id for block in run.blocked}
    placed: list[tuple[int, Step]] = []
    steps = {id(step.record): index for index, step in enumerate(run.steps)}
    for request in run.model_requests:
        for block in _blocks_in(run, request.messages, request.resume or 0, request.agent, notes):
            if (block.call_id, block.agent) in known:
                continue
            known.add((block.call_id, block.agent))
            seen_ids.add(block.call_id)
            index = steps.get(id(request), len(run.steps))
            at = run.steps[index].at if index < len(run.steps) else None
            placed.append((index, Step("blocked", block.resume, block, at or _last_at(run))))
    last = run.steps[-1].resume if run.steps else 0
    for block in _blocks_in(run, run.messages, last, None, notes):
        if block.call_id not in seen_ids:
            seen_ids.add(block.call_id)
            placed.append((len(run.steps), Step("blocked", last, block, _last_at(run))))
    for index, step in sorted(placed, key=lambda item: item[0], reverse=True):
        run.steps.insert(index, step)
    by_position = sorted(placed, key=lambda item: item[0])
    run.blocked.extend(step.record for _, step in by_position)


def _last_at(run: Run) -> Any:
    from hitl_sim.driving.capture import now

    return run.steps[-1].at if run.steps else now()


def _blocks_in(
    run: Run, messages: Sequence[BaseMessage], resume: int, agent: str | None, notes: Notes
) -> list[PolicyBlock]:
    found: list[PolicyBlock] = []
    calls: dict[str, Mapping[str, Any]] = {}
    for message in messages:
        for call in getattr(message, "tool_calls", None) or ():
            calls[str(call.get("id"))] = call
        blocked = blocked_by_policy(message)
        if blocked is None:
            continue
        policy, probability = blocked
        call_id = getattr(message, "tool_call_id", None)
        call = calls.get(str(call_id), {})
        name = str(call.get("name") or getattr(message, "name", None) or "?")
        note = notes.get(str(call_id))
        reason = note[0] if note is not None else None
        args = note[1] if note is not None else None
        if args is None:
            args = _edited_args(run, call_id) or call.get("args") or {}
        found.append(
            PolicyBlock(
                policy,
                name,
                dict(args),
                call_id,
                str(message.content),
                probability,
                reason,
                resume,
                agent,
            )
        )
    return found


def _edited_args(run: Run, call_id: Any) -> Mapping[str, Any] | None:
    """The arguments of the reviewer's latest edit of this call, if they edited it."""
    edited = None
    for record in run.decisions:
        payload = record.payload if isinstance(record.payload, Mapping) else {}
        action = record.action
        if action is not None and action.tool_call_id == call_id and payload.get("type") == "edit":
            edited = (payload.get("edited_action") or {}).get("args")
    return edited if isinstance(edited, Mapping) else None


# --- an agent for scenario files -----------------------------------------------------------


def auto_mode_agent(
    *,
    model: Any,
    tools: Sequence[Any],
    checkpointer: Any = None,
    interrupt_on: Mapping[str, Any] | None = None,
    policy_tools: Sequence[str] = (),
    decisions: Sequence[Any] = (),
    policy_first: bool = False,
) -> Any:
    """A `create_agent` guarded by `HumanInTheLoopMiddleware(interrupt_on)` and
    `AutoModeMiddleware(tools=policy_tools)`, whose decision model is a `ScriptedDecisionModel`
    of `decisions` (scenario file form: `allow`, `{allow: reason}`, `{block: reason}`, each with
    an optional `probability`). `policy_first` lists AutoMode first in `middleware=`."""
    try:
        from langchain.agents.middleware import AutoModeMiddleware
    except ImportError as missing:
        raise Unsupported(
            f"auto_mode_agent needs langchain >= 1.5 (AutoModeMiddleware): {missing}.\n"
            "Upgrade with pip install 'langchain>=1.5' 'langchain-core>=1.8', or select other "
            "scenarios (hitl-sim run -k <tag>; the AutoMode ones are tagged langchain-1.5)."
        ) from None
    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware

    from hitl_sim.models.decision import ScriptedDecisionModel

    classifier = ScriptedDecisionModel(
        [verdict_of(d, f"decisions[{i}]") for i, d in enumerate(decisions)]
    )
    policy = AutoModeMiddleware(tools=list(policy_tools), classifier=classifier)
    gate = HumanInTheLoopMiddleware(interrupt_on=dict(interrupt_on or {}))
    middleware: list[Any] = [policy, gate] if policy_first else [gate, policy]
    return create_agent(model, tools=list(tools), middleware=middleware, checkpointer=checkpointer)


def verdict_of(value: Any, where: str) -> Any:
    """A scenario file's decision-model verdict: `allow`, `block`, `{allow: reason}`,
    `{block: reason, probability: 0.8}`."""
    from hitl_sim.models.decision import allow, block

    makers = {"allow": allow, "block": block}
    if isinstance(value, str) and value in makers:
        return makers[value]()
    if isinstance(value, Mapping):
        words = [key for key in value if key in makers]
        extra = [key for key in value if key not in (*makers, "probability")]
        if len(words) == 1 and not extra:
            word = words[0]
            options = {"probability": value["probability"]} if "probability" in value else {}
            return makers[word](value[word], **options)
    raise ScenarioError(
        f"{where}: a decision-model verdict is `allow`, `block`, or a mapping like "
        f"{{block: reason}} (optionally with probability), got {value!r}."
    )
