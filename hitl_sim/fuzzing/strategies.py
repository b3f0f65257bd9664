"""Hypothesis strategies for human-in-the-loop approval flows.

Plural nouns, each returning a `SearchStrategy`, with arguments checked when the strategy is
built (`hitl_sim.InvalidArgument`). Every docstring says what the strategy shrinks toward: a
failing example shrinks to the fewest calls, the first tool, `approve()`, and empty strings.

- `tool_calls(tools)`, `batches(tools)`: model turns with arguments drawn from the tools' schemas.
- `decisions(allowed=..., for_call=...)`: valid `Decision`s, edits included;
  `invalid_decisions(...)`: answers the middleware refuses, as `unchecked(payload)` decisions.
- `decision_lists(request)`: one decision per action request, optionally with count mismatches,
  order swaps and invalid entries.
- `reviewers(config)`: standing `Reviewer.by_tool` policies; `scenarios(config)`: whole runs
  (`hitl_sim.fuzzing.bench.RunPlan`: the model's turns and the reviewer's answers).

Inside `@given`, use a `hitl_sim.fuzzing.FuzzAgent` built once at module level (no function-scoped
fixture); see docs/fuzzing.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from hitl_sim.calls import Call
from hitl_sim.decisions import MIDDLEWARE_DECISIONS, Decision, approve, edit, reject, respond
from hitl_sim.decisions import unchecked as _unchecked
from hitl_sim.errors import InvalidArgument
from hitl_sim.fuzzing.bench import FuzzAgent, PlannedTurn, RunPlan
from hitl_sim.fuzzing.oracle import HitlConfig
from hitl_sim.interrupts import ActionRequest, PendingInterrupt

__all__ = [
    "batches",
    "decision_lists",
    "decisions",
    "invalid_decisions",
    "reviewers",
    "scenarios",
    "tool_calls",
]

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
"""Readable text that survives every checkpointer serializer; shrinks toward ''."""


# --- schemas -----------------------------------------------------------------------------------


_SCHEMAS: dict[int, tuple[Any, Mapping[str, Any]]] = {}
"""id(tool) -> (tool, its JSON schema): pydantic builds schemas slowly, and strategies are
built inside composite draws."""


def _schema_of(tool: Any) -> Mapping[str, Any]:
    cached = _SCHEMAS.get(id(tool))
    if cached is not None and cached[0] is tool:
        return cached[1]
    schema = _fresh_schema(tool)
    _SCHEMAS[id(tool)] = (tool, schema)
    return schema


def _fresh_schema(tool: Any) -> Mapping[str, Any]:
    call_schema = getattr(tool, "tool_call_schema", None)
    to_json = getattr(call_schema, "model_json_schema", None)
    if callable(to_json):
        schema = to_json()
    elif isinstance(call_schema, Mapping):
        schema = call_schema
    else:
        schema = {"properties": getattr(tool, "args", None), "required": []}
    if not isinstance(schema.get("properties"), Mapping):
        raise InvalidArgument(
            f"tool {getattr(tool, 'name', tool)!r} has no argument schema to draw arguments "
            "from. Pass LangChain tools (e.g. built with @tool)."
        )
    found: Mapping[str, Any] = schema
    return found


def _values(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for one JSON-schema property."""
    if "$ref" in spec:
        return _values(defs.get(spec["$ref"].rsplit("/", 1)[-1], {}), defs)
    if "enum" in spec:
        return st.sampled_from(spec["enum"])
    if "const" in spec:
        return st.just(spec["const"])
    if "anyOf" in spec:
        return st.one_of([_values(option, defs) for option in spec["anyOf"]])
    kind = spec.get("type")
    if kind == "string":
        return _TEXT
    if kind == "integer":
        return st.integers(-1000, 1000)
    if kind == "number":
        return st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(_values(spec.get("items", {"type": "string"}), defs), max_size=3)
    if kind == "object" and "properties" in spec:
        return _arguments(spec, defs)
    if kind == "object":
        return st.dictionaries(_TEXT, _TEXT, max_size=3)
    return _TEXT


def _arguments(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    return st.fixed_dictionaries(
        {name: _values(spec, defs) for name, spec in properties.items() if name in required},
        optional={
            name: _values(spec, defs) for name, spec in properties.items() if name not in required
        },
    )


_ARGS: dict[int, tuple[Any, st.SearchStrategy[dict[str, Any]]]] = {}


def _args_for(tool: Any) -> st.SearchStrategy[dict[str, Any]]:
    cached = _ARGS.get(id(tool))
    if cached is not None and cached[0] is tool:
        return cached[1]
    schema = _schema_of(tool)
    strategy = _arguments(schema, schema.get("$defs") or {})
    _ARGS[id(tool)] = (tool, strategy)
    return strategy


def _by_name(tools: Any, where: str) -> dict[str, Any]:
    if isinstance(tools, HitlConfig | FuzzAgent):
        tools = _config(tools, where).tools
    if isinstance(tools, Mapping | str) or not isinstance(tools, Sequence):
        raise InvalidArgument(
            f"{where}(tools={tools!r}): expected a non-empty list of LangChain tools "
            "(e.g. [send_email, delete_file] built with @tool)."
        )
    found: dict[str, Any] = {}
    for tool in tools:
        name = getattr(tool, "name", None)
        if not isinstance(name, str):
            raise InvalidArgument(
                f"{where}(tools=...): {tool!r} is not a LangChain tool (it has no name). "
                "Build tools with @tool or StructuredTool."
            )
        _schema_of(tool)
        found[name] = tool
    if not found:
        raise InvalidArgument(f"{where}(tools=[]): give at least one tool to call.")
    return found


def _config(value: Any, where: str) -> HitlConfig:
    if isinstance(value, FuzzAgent):
        return value.config
    if isinstance(value, HitlConfig):
        return value
    raise InvalidArgument(
        f"{where}({value!r}): expected the agent's configuration, a hitl_sim.fuzzing.FuzzAgent "
        "or a hitl_sim.fuzzing.oracle.HitlConfig."
    )


def _sizes(where: str, min_size: object, max_size: object) -> None:
    if not (isinstance(min_size, int) and isinstance(max_size, int) and 1 <= min_size <= max_size):
        raise InvalidArgument(
            f"{where}(min_size={min_size!r}, max_size={max_size!r}): expected integers with "
            "1 <= min_size <= max_size."
        )


# --- tool calls ---------------------------------------------------------------------------------


def tool_calls(tools: Sequence[Any], *, id: str = "call_1") -> st.SearchStrategy[Call]:
    """One tool call to one of `tools`, with arguments valid for its schema.

    Shrinks toward the first tool, optional arguments left out, empty strings and zeros.
    """
    by_name = _by_name(tools, "tool_calls")
    if not isinstance(id, str):
        raise InvalidArgument(f"tool_calls(id={id!r}): the tool-call id must be a str.")

    def call_to(name: str) -> Callable[[dict[str, Any]], Call]:
        return lambda args: Call(name, args, id)

    return st.one_of([_args_for(tool).map(call_to(name)) for name, tool in by_name.items()])


def batches(
    tools: Sequence[Any],
    *,
    min_size: int = 1,
    max_size: int = 4,
    gated: Collection[str] = (),
    min_gated: int = 0,
    id_prefix: str = "call_",
) -> st.SearchStrategy[tuple[Call, ...]]:
    """A model turn: `min_size`..`max_size` calls, at least `min_gated` of them to `gated` tools.

    Ids are `f"{id_prefix}{n}"` in call order, so they are unique within the turn. Shrinks toward
    `min_size` calls of the first tool (gated calls first when `min_gated` asks for them).
    """
    by_name = _by_name(tools, "batches")
    _sizes("batches", min_size, max_size)
    unknown = sorted(set(gated) - set(by_name))
    if unknown:
        raise InvalidArgument(
            f"batches(gated={sorted(gated)!r}): {unknown!r} are not among the tools "
            f"({', '.join(by_name)}). Name gated tools by their tool name."
        )
    count: object = min_gated
    if not (isinstance(count, int) and 0 <= count <= max_size) or (count and not gated):
        raise InvalidArgument(
            f"batches(min_gated={min_gated!r}): expected 0 <= min_gated <= max_size "
            f"({max_size}), and gated tools to draw them from."
        )
    any_call = tool_calls(list(by_name.values()))
    gated_call = tool_calls([by_name[name] for name in gated]) if gated else any_call
    return _batch(any_call, gated_call, min_size, max_size, min_gated, id_prefix)


@st.composite
def _batch(
    draw: st.DrawFn,
    any_call: st.SearchStrategy[Call],
    gated_call: st.SearchStrategy[Call],
    min_size: int,
    max_size: int,
    min_gated: int,
    id_prefix: str,
) -> tuple[Call, ...]:
    required = [draw(gated_call) for _ in range(min_gated)]
    rest = draw(
        st.lists(any_call, min_size=max(0, min_size - min_gated), max_size=max_size - min_gated)
    )
    calls = required + rest
    if required and rest:
        order = draw(st.permutations(range(len(calls))))
        calls = [calls[i] for i in order]
    return tuple(dataclasses.replace(c, id=f"{id_prefix}{n}") for n, c in enumerate(calls, 1))


# --- decisions ----------------------------------------------------------------------------------


def _allowed(where: str, allowed: Any) -> tuple[str, ...]:
    if isinstance(allowed, str) or not isinstance(allowed, Collection) or not allowed:
        raise InvalidArgument(
            f"{where}(allowed={allowed!r}): expected a non-empty list of decision types from "
            f"{list(MIDDLEWARE_DECISIONS)}."
        )
    wrong = [kind for kind in allowed if kind not in MIDDLEWARE_DECISIONS]
    if wrong:
        raise InvalidArgument(
            f"{where}(allowed={list(allowed)!r}): {wrong!r} are not decision types. "
            f"Expected some of {list(MIDDLEWARE_DECISIONS)}."
        )
    return tuple(kind for kind in MIDDLEWARE_DECISIONS if kind in allowed)


def _subject(where: str, for_call: Any) -> Call | None:
    if for_call is None:
        return None
    if isinstance(for_call, ActionRequest):
        return Call(for_call.name, dict(for_call.args), for_call.tool_call_id)
    try:
        return Call.of(for_call)
    except (InvalidArgument, KeyError):
        raise InvalidArgument(
            f"{where}(for_call={for_call!r}): expected the call under review: a tool call dict, "
            "a hitl_sim.calls.Call or an ActionRequest."
        ) from None


def _edited_args(call: Call, tool: Any | None) -> st.SearchStrategy[dict[str, Any]]:
    """New values for some of the call's arguments (from the tool's schema when known)."""
    if tool is not None:
        return _args_for(tool)
    alike: dict[str, st.SearchStrategy[Any]] = {}
    for key, value in call.args.items():
        if isinstance(value, bool):
            alike[key] = st.booleans()
        elif isinstance(value, int):
            alike[key] = st.integers(-1000, 1000)
        elif isinstance(value, str):
            alike[key] = _TEXT
    return st.fixed_dictionaries({}, optional=alike)


def decisions(
    allowed: Collection[str] = MIDDLEWARE_DECISIONS,
    *,
    for_call: Any = None,
    tools: Sequence[Any] | None = None,
) -> st.SearchStrategy[Decision]:
    """A valid decision of one of the `allowed` types for the call under review.

    Edits are drawn only when `for_call` is given: their arguments come from the tool's schema
    when `tools` holds it (full replacement arguments), else new values of the same types as the
    call's arguments. Shrinks toward `approve()` (then `reject()`, `respond('')`, edit), and empty
    messages.
    """
    kinds = _allowed("decisions", allowed)
    call = _subject("decisions", for_call)
    tool = _by_name(tools, "decisions").get(call.name) if tools is not None and call else None
    options: list[st.SearchStrategy[Decision]] = []
    if "approve" in kinds:
        options.append(st.just(approve()))
    if "reject" in kinds:
        options.append(st.one_of(st.none(), _TEXT).map(reject))
    if "respond" in kinds:
        options.append(_TEXT.map(respond))
    if "edit" in kinds and call is not None:
        options.append(_edited_args(call, tool).map(lambda args: edit(args)))
    if not options:
        raise InvalidArgument(
            f"decisions(allowed={list(kinds)!r}) without for_call: an edit needs the call it "
            "edits. Pass for_call=..., or allow another decision type."
        )
    return st.one_of(options)


def invalid_decisions(
    allowed: Collection[str] = MIDDLEWARE_DECISIONS, *, for_call: Any = None
) -> st.SearchStrategy[Decision]:
    """Answers the middleware refuses, as `unchecked(payload)` decisions (sent verbatim).

    Unknown and missing types, types outside `allowed`, non-dict answers, edits without
    `edited_action`, without `args`, or naming a tool that does not exist, and `respond` without
    a message. Shrinks toward `{"type": "maybe"}`.
    """
    kinds = _allowed("invalid_decisions", allowed)
    call = _subject("invalid_decisions", for_call)
    name = call.name if call is not None else "no_such_tool"
    payloads: list[st.SearchStrategy[Any]] = [
        st.just({"type": "maybe"}),
        _TEXT.filter(lambda t: t not in MIDDLEWARE_DECISIONS).map(lambda t: {"type": t}),
        _TEXT.map(lambda text: {"message": text}),
        st.sampled_from(["approve", None, 42, ["approve"]]),
        st.just({"type": "edit"}),
        st.just({"type": "edit", "edited_action": {"name": name}}),
        st.just({"type": "edit", "edited_action": {"name": "no_such_tool", "args": {}}}),
        st.just({"type": "respond"}),
    ]
    disallowed = [kind for kind in MIDDLEWARE_DECISIONS if kind not in kinds]
    if disallowed:
        args = dict(call.args) if call is not None else {}
        shapes = {
            "approve": {"type": "approve"},
            "reject": {"type": "reject", "message": "no"},
            "respond": {"type": "respond", "message": "answered"},
            "edit": {"type": "edit", "edited_action": {"name": name, "args": args}},
        }
        payloads.insert(0, st.sampled_from([shapes[kind] for kind in disallowed]))
    return st.one_of(payloads).map(_unchecked)


def _actions(request: Any) -> tuple[ActionRequest, ...]:
    if isinstance(request, PendingInterrupt):
        return request.actions
    if isinstance(request, Mapping) and "action_requests" in request:
        allowed = {
            c["action_name"]: tuple(c["allowed_decisions"])
            for c in request.get("review_configs", [])
        }
        return tuple(
            ActionRequest(a["name"], dict(a.get("args") or {}), None, allowed.get(a["name"], ()))
            for a in request["action_requests"]
        )
    if isinstance(request, Sequence) and all(isinstance(a, ActionRequest) for a in request):
        return tuple(request)
    raise InvalidArgument(
        f"decision_lists({request!r}): expected the request under review: a PendingInterrupt, "
        "an HITLRequest dict (action_requests + review_configs) or a list of ActionRequests."
    )


_CACHE: dict[tuple[Any, ...], st.SearchStrategy[Decision]] = {}
"""Strategies per (tool, allowed types[, tools]) when they do not depend on the call's values:
`scenarios` builds a decision list inside every draw, and building strategies is not free."""


def _decisions_for(
    action: ActionRequest, tools: Sequence[Any] | None
) -> st.SearchStrategy[Decision]:
    allowed = action.allowed or MIDDLEWARE_DECISIONS
    if tools is None:  # edits draw values alike to this call's: not cacheable
        return decisions(allowed, for_call=action)
    key = ("valid", action.name, tuple(allowed), tuple(map(id, tools)))
    if key not in _CACHE:
        _CACHE[key] = decisions(allowed, for_call=action, tools=tools)
    return _CACHE[key]


def _invalid_for(action: ActionRequest) -> st.SearchStrategy[Decision]:
    allowed = action.allowed or MIDDLEWARE_DECISIONS
    key = ("invalid", action.name, tuple(allowed))
    if key not in _CACHE:
        _CACHE[key] = invalid_decisions(allowed, for_call=Call(action.name, {}, None))
    return _CACHE[key]


def decision_lists(
    request: Any,
    *,
    tools: Sequence[Any] | None = None,
    invalid: bool = False,
    count_mismatch: bool = False,
    order_swaps: bool = False,
) -> st.SearchStrategy[list[Decision]]:
    """One decision per action request of `request`, in order, each allowed for its tool.

    `invalid=True` may replace entries with `invalid_decisions()`; `count_mismatch=True` may drop
    an entry (never the last one: an empty answer cannot be sent through `simulate`) or add one;
    `order_swaps=True` may swap two entries (so a decision lands on a call it was not drawn
    for). Shrinks toward the matched, valid list of `approve()`s.
    """
    actions = _actions(request)
    if not actions:
        raise InvalidArgument(
            f"decision_lists({request!r}): the request has no action requests to decide."
        )
    per_action = [_decisions_for(action, tools) for action in actions]
    broken = [_invalid_for(action) for action in actions]

    return _decision_list(per_action, broken, invalid, count_mismatch, order_swaps)


@st.composite
def _decision_list(
    draw: st.DrawFn,
    per_action: list[st.SearchStrategy[Decision]],
    broken: list[st.SearchStrategy[Decision]],
    invalid: bool,
    count_mismatch: bool,
    order_swaps: bool,
) -> list[Decision]:
    chosen = [draw(strategy) for strategy in per_action]
    if invalid:
        for index in range(len(chosen)):
            if draw(st.booleans()):
                chosen[index] = draw(broken[index])
    if order_swaps and len(chosen) > 1 and draw(st.booleans()):
        i, j = draw(st.permutations(range(len(chosen))))[:2]
        chosen[i], chosen[j] = chosen[j], chosen[i]
    if count_mismatch and draw(st.booleans()):
        if draw(st.booleans()) or len(chosen) < 2:
            chosen.append(draw(per_action[-1]))
        else:
            del chosen[draw(st.integers(0, len(chosen) - 1))]
    return chosen


# --- whole runs ---------------------------------------------------------------------------------


def reviewers(config: HitlConfig | FuzzAgent) -> st.SearchStrategy[Any]:
    """A `Reviewer.by_tool` giving each gated tool one standing decision allowed for it.

    Edits are not drawn (a standing edit has no call to edit). Shrinks toward approving all.
    """
    cfg = _config(config, "reviewers")
    if not cfg.gates:
        raise InvalidArgument("reviewers(config): the configuration gates no tool.")
    from hitl_sim.reviewing.reviewer import Reviewer

    policies = {
        name: decisions([k for k in gate.allowed if k != "edit"] or ["approve"])
        for name, gate in cfg.gates.items()
        if any(k != "edit" for k in gate.allowed)
    }
    return st.fixed_dictionaries(policies).map(Reviewer.by_tool)


def scenarios(
    config: HitlConfig | FuzzAgent,
    *,
    max_turns: int = 3,
    max_calls: int = 3,
    invalid: bool = False,
    count_mismatch: bool = False,
    order_swaps: bool = False,
) -> st.SearchStrategy[RunPlan]:
    """Whole runs for the agent `config` describes: model turns and the reviewer's answers.

    Each turn is a batch of 1..`max_calls` calls (ids `t{turn}_{n}`, unique in the run); the
    reviewer answers its gated calls (as `config.gate_for` decides, `when` included) with a
    `decision_lists(...)` drawn with the given options (per_call: one answer per gated call, a
    count mismatch leaves one unanswered or one spare). Shrinks toward one turn of one call
    answered `approve()`.
    """
    cfg = _config(config, "scenarios")
    _sizes("scenarios", 1, max_turns)
    _sizes("scenarios", 1, max_calls)
    tools = list(_by_name(cfg.tools, "scenarios").values())

    turns = [
        batches(tools, max_size=max_calls, id_prefix=f"t{n}_") for n in range(1, max_turns + 1)
    ]
    return _plan(cfg, tools, turns, (invalid, count_mismatch, order_swaps))


@st.composite
def _plan(
    draw: st.DrawFn,
    cfg: HitlConfig,
    tools: list[Any],
    turn_batches: list[st.SearchStrategy[tuple[Call, ...]]],
    options: tuple[bool, bool, bool],
) -> RunPlan:
    invalid, count_mismatch, order_swaps = options
    turns: list[PlannedTurn] = []
    for batch in turn_batches[: draw(st.integers(1, len(turn_batches)))]:
        calls = draw(batch)
        actions = [cfg.action_for(c) for c in calls if cfg.gate_for(c) is not None]
        answers: list[Decision] = []
        if actions:
            answers = draw(
                decision_lists(
                    actions,
                    tools=tools,
                    invalid=invalid,
                    count_mismatch=count_mismatch,
                    order_swaps=order_swaps,
                )
            )
        turns.append(PlannedTurn(calls, tuple(answers)))
    return RunPlan(tuple(turns))
