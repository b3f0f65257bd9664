"""The scenario file format: pydantic models of every key, with their checks.

`Scenario` is one validated scenario; `hitl_sim.scenarios.loader` reads files into it. Named
factories (`module:factory`) are only imported when the scenario runs.
"""

from __future__ import annotations

import difflib
import re
import string
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hitl_sim import decisions as builders
from hitl_sim.decisions import (
    DECISION_TYPES,
    MAX_LATENCY,
    MIDDLEWARE_DECISIONS,
    Decision,
    MiddlewareDecision,
)
from hitl_sim.driving.clock import start_time
from hitl_sim.driving.options import MAX_RESUMES
from hitl_sim.errors import InvalidArgument, excerpt

SUFFIXES = (".yaml", ".yml")
SNAPSHOT_DIR = "__snapshots__"
ArgType = Literal["str", "int", "float", "bool", "list", "dict", "any"]
FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class _Spec(BaseModel):
    """Base of every mapping in a scenario file: unknown keys are errors with a suggestion."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, populate_by_name=True)
    _moved_keys: typing.ClassVar[dict[str, str]] = {}
    """Keys that belong elsewhere, and the hint for them (`context` -> `run: {context: ...}`)."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = [field.alias or name for name, field in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), known, n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    if str(key) in cls._moved_keys:
                        hint = f" Did you mean {cls._moved_keys[str(key)]}?"
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'. Expected one of: {known}.{hint}",
                        {
                            "key": _short(key),
                            "name": str(key),
                            "known": ", ".join(known),
                            "hint": hint,
                        },
                    )
        return data


def _short(key: Any, limit: int = 60) -> str:
    """A key as messages show it: `str(key)`, elided past `limit` characters."""
    text = str(key) if isinstance(key, str | int | float | bool | None) else excerpt(key, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- conditions (`when`) ------------------------------------------------------------------

Operator = Literal[
    "equals", "not_equals", "startswith", "endswith", "contains", "matches", "in", "gt", "ge",
    "lt", "le", "longer_than",
]  # fmt: skip
OPERATORS: tuple[str, ...] = typing.get_args(Operator)


class Condition(_Spec):
    """`{arg: path, startswith: /etc}`: true when the call's argument passes the test.

    `all: [...]` / `any: [...]` combine conditions; `not: {...}` negates one.
    """

    arg: str | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    equals: Any = None
    not_equals: Any = None
    startswith: str | None = None
    endswith: str | None = None
    contains: Any = None
    matches: str | None = None
    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    longer_than: int | None = None
    """More than this many items (a list or mapping) or characters (a string)."""

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        combinators = [n for n in ("all", "any", "not_") if getattr(self, n) is not None]
        tests = self._tests()
        if combinators and (tests or self.arg is not None) or len(combinators) > 1:
            raise ValueError("use `all`, `any` or `not` alone, without `arg` or a test")
        if not combinators and (self.arg is None or len(tests) != 1):
            raise ValueError(
                "a condition names one argument and one test, e.g. {arg: path, startswith: /etc}"
                f"; tests: {', '.join(OPERATORS)}"
            )
        return self

    def _tests(self) -> list[str]:
        return [op for op in OPERATORS if (op if op != "in" else "in_") in self.model_fields_set]

    @property
    def operator(self) -> str:
        """The test this condition applies (e.g. 'startswith')."""
        return self._tests()[0]

    @property
    def operand(self) -> Any:
        return getattr(self, "in_" if self.operator == "in" else self.operator)


# --- agents ------------------------------------------------------------------------------


class ToolSpec(_Spec):
    """A fake tool: its arguments, and the results (or error) the file scripts for it."""

    description: str = ""
    args: dict[str, ArgType] = {}
    returns: str | tuple[str, ...] = "ok"
    """A template formatted with the call's arguments (`"sent to {to}"`), or one per call."""
    raises: str | None = None
    """Raise `RuntimeError(raises)` instead of returning."""
    asks: Any = None
    """Call `interrupt(asks)` first (the tool asks a human itself); `{answer}` in `returns` is
    the reply."""
    asks_when: Condition | None = None
    """Only ask when the call's arguments meet this condition."""
    declined: str | None = None
    """With `asks`: the result when the reply is falsy (or `{approved: false}`)."""


def _interrupt_on_entry(value: Any) -> Any:
    if value is True:
        return {}
    if value is False:
        return {"enabled": False}
    return value


class GateSpec(_Spec):
    """One `interrupt_on` entry (`true`, `false`, or this mapping)."""

    enabled: bool = True
    allowed_decisions: tuple[MiddlewareDecision, ...] = Field(
        default=MIDDLEWARE_DECISIONS, min_length=1
    )
    description: str | None = None
    """A template formatted with the call's arguments and `{tool}`."""
    when: Condition | None = None


Gates = dict[str, Annotated[GateSpec, BeforeValidator(_interrupt_on_entry)]]
Checkpointer = Literal["memory", "sqlite", "postgres", "none"]
"""None in a file: the kind the run selects (`--hitl-checkpointer`, `hitl-sim run
--checkpointer`; default memory)."""


class CreateAgentSpec(_Spec):
    kind: Literal["create_agent"]
    tools: dict[str, ToolSpec] = {}
    interrupt_on: Gates = {}
    interrupt_mode: Literal["batched", "per_call"] = "batched"
    description_prefix: str | None = None
    system_prompt: str | None = None
    name: str | None = None
    interrupt_before: tuple[str, ...] = ()
    """Static breakpoints, e.g. `[tools]`: the agent stops before those nodes."""
    interrupt_after: tuple[str, ...] = ()
    checkpointer: Checkpointer | None = None


class SubagentSpec(_Spec):
    name: str
    description: str = "A subagent."
    system_prompt: str = "You are a helpful subagent."
    tools: tuple[str, ...] = ()
    """Names of tools from the agent's `tools`."""
    interrupt_on: Gates | None = None
    """None inherits the main agent's; a mapping replaces it entirely (deepagents' rule)."""


class DeepAgentSpec(_Spec):
    kind: Literal["deep_agent"]
    tools: dict[str, ToolSpec] = {}
    interrupt_on: Gates = {}
    subagents: tuple[SubagentSpec, ...] = ()
    system_prompt: str | None = None
    checkpointer: Checkpointer | None = None


class FactorySpec(_Spec):
    kind: Literal["factory"]
    factory: str
    """`module:callable`, called with `model=`, `checkpointer=` and `tools=` where its signature
    takes them, plus `options`."""
    options: dict[str, Any] = {}
    tools: dict[str, ToolSpec] = {}
    checkpointer: Checkpointer | None = None

    @field_validator("factory")
    @classmethod
    def _factory_form(cls, value: str) -> str:
        if not FACTORY.match(value):
            raise ValueError(f"{excerpt(value)} is not of the form 'package.module:callable'")
        return value


def _kind_of(data: Any) -> str | None:
    return data.get("kind") if isinstance(data, Mapping) else getattr(data, "kind", None)


AgentSpec = Annotated[
    Annotated[CreateAgentSpec, Tag("create_agent")]
    | Annotated[DeepAgentSpec, Tag("deep_agent")]
    | Annotated[FactorySpec, Tag("factory")],
    Discriminator(
        _kind_of,
        custom_error_type="agent_kind",
        custom_error_message="`kind` must be one of: create_agent, deep_agent, factory",
    ),
]


# --- model script --------------------------------------------------------------------------


@dataclass(frozen=True)
class CallSpec:
    name: str
    args: Mapping[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class TurnSpec:
    calls: tuple[CallSpec, ...] = ()
    text: str | None = None


def _call_of(entry: Any) -> CallSpec:
    if isinstance(entry, Mapping):
        call_id = entry.get("id")
        rest = {k: v for k, v in entry.items() if k != "id"}
        if len(rest) == 1:
            ((name, args),) = rest.items()
            if isinstance(name, str) and isinstance(args, Mapping | None):
                if call_id is not None and not isinstance(call_id, str):
                    raise ValueError(f"a tool-call id must be a string, got {excerpt(call_id)}")
                return CallSpec(name, dict(args or {}), call_id)
    raise ValueError(
        f"a tool call is written {{tool_name: {{arg: value}}}} (optionally with `id: c1`), "
        f"got {excerpt(entry)}"
    )


def _turn_of(value: Any) -> TurnSpec:
    if isinstance(value, TurnSpec):
        return value
    if isinstance(value, Mapping) and len(value) == 1 and "say" in value:
        if not isinstance(value["say"], str):
            raise ValueError(f"`say` takes the answer text, got {excerpt(value['say'])}")
        return TurnSpec(text=value["say"])
    if isinstance(value, Mapping) and len(value) == 1 and "call" in value:
        return TurnSpec(calls=(_call_of(value["call"]),))
    if isinstance(value, Mapping) and "calls" in value and set(value) <= {"calls", "say"}:
        calls = value["calls"]
        if not isinstance(calls, list) or not calls:
            raise ValueError(f"`calls` takes a non-empty list of tool calls, got {excerpt(calls)}")
        text = value.get("say")
        return TurnSpec(calls=tuple(map(_call_of, calls)), text=text)
    raise ValueError(
        "a model turn is one of {say: text}, {call: {tool: {arg: value}}} or "
        f"{{calls: [{{tool: {{...}}}}, ...]}}, got {excerpt(value)}"
    )


Turn = Annotated[TurnSpec, BeforeValidator(_turn_of)]
Script = tuple[Turn, ...]


# --- reviewer script ----------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: Any, *, key: str | None = None) -> timedelta:
    """`90`, `"90s"`, `"15m"`, `"2h"`, `"1d"` → timedelta, from 0 seconds to 365 days.

    `key` names the value in the out-of-range message (`after: inf is out of range: ...`).
    """
    if isinstance(value, timedelta):
        seconds: float = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(
                f"{excerpt(value)} is not a duration; write seconds (90) or e.g. '15m', '2h', '1d'"
            )
        seconds = float(match[1]) * _UNITS[match[2]]
    if not 0 <= seconds <= MAX_LATENCY.total_seconds():  # False for nan
        named = f"{key}: " if key else ""
        raise ValueError(
            f"{named}{excerpt(value)} is out of range: a duration is from 0 seconds to 365 days "
            "(e.g. 90, '15m', '2h', '30d')"
        )
    return value if isinstance(value, timedelta) else timedelta(seconds=seconds)


_DECISION_KEYS = DECISION_TYPES


def _decision_of(value: Any) -> Decision:
    if isinstance(value, Decision):
        return value
    try:
        return _decision(value)
    except InvalidArgument as exc:  # what the builders refuse, reported with the file's line
        raise ValueError(str(exc)) from None


def _decision(value: Any) -> Decision:
    if value in ("approve", "reject"):
        value = {value: None}
    if not isinstance(value, Mapping):
        raise ValueError(
            "a decision is `approve`, `reject`, or a mapping like {reject: reason}, "
            f"got {excerpt(value)}"
        )
    kinds = [key for key in value if key in _DECISION_KEYS]
    extra = [key for key in value if key not in (*_DECISION_KEYS, "by", "after", "redirect")]
    if len(kinds) != 1 or extra:
        raise ValueError(
            f"a decision has exactly one of {', '.join(_DECISION_KEYS)} plus optional `by`, "
            f"`after` (and `redirect` for edit), got {excerpt(dict(value))}"
        )
    kind, body = kinds[0], value[kinds[0]]
    by = value.get("by")
    if by is not None and not isinstance(by, str):
        raise ValueError(f"`by` takes a reviewer id string, got {excerpt(by)}")
    common: dict[str, Any] = {"by": by, "after": duration(value.get("after", 0), key="after")}
    if "redirect" in value and kind != "edit":
        raise ValueError("`redirect` belongs to an edit: {edit: {args...}, redirect: other_tool}")
    if kind == "approve":
        if body not in (None, {}):
            raise ValueError(f"approve takes no value, got {excerpt(body)}")
        return builders.approve(**common)
    if kind == "reject":
        if body is not None and not isinstance(body, str):
            raise ValueError(f"reject takes a reason string, got {excerpt(body)}")
        return builders.reject(body, **common)
    if kind == "respond":
        if not isinstance(body, str):
            raise ValueError(f"respond takes the reply text, got {excerpt(body)}")
        return builders.respond(body, **common)
    if kind == "edit":
        if not isinstance(body, Mapping):
            raise ValueError(f"edit takes the new arguments as a mapping, got {excerpt(body)}")
        if "redirect" in value:
            return builders.edit(str(value["redirect"]), dict(body), **common)
        if not body:
            raise ValueError(
                "edit with no arguments changes nothing (it would be an approve by another "
                "name); name the arguments to change, e.g. {edit: {path: /tmp/safe}}, or write "
                "approve"
            )
        return builders.edit(dict(body), **common)
    if kind == "update":
        if not isinstance(body, Mapping):
            raise ValueError(f"update takes the state values as a mapping, got {excerpt(body)}")
        return builders.update(dict(body), **common)
    if kind == "answer":
        return builders.answer(body, **common)
    return builders.unchecked(body, **common)


DecisionSpec = Annotated[Decision, BeforeValidator(_decision_of)]


def _reviewer_of(value: Any) -> Any:
    return {"decisions": value} if isinstance(value, list) else value


def _matcher_of(value: Any) -> Any:
    """A rule's field test: a plain value (==) or one condition test like {startswith: /etc}."""
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in OPERATORS:
        ((operator, operand),) = value.items()
        return Condition.model_validate({"arg": "_", operator: operand})
    return value


class RuleSpec(_Spec):
    """`{tool: delete_file, match: {path: {startswith: /etc}}, decide: {reject: no}}`."""

    tool: str | None = None
    match: dict[str, Annotated[Any, BeforeValidator(_matcher_of)]] = {}
    decide: DecisionSpec | tuple[DecisionSpec, ...]


Decisions = DecisionSpec | tuple[DecisionSpec, ...]


class ReviewerSpec(_Spec):
    """Who answers the interrupts. A bare list is `decisions:`."""

    decisions: tuple[DecisionSpec, ...] | None = None
    """Answers in order, one per action request."""
    by_tool: dict[str, Decisions] | None = None
    """Answers by tool name (a list is used up in order; one decision is a standing policy)."""
    rules: tuple[RuleSpec, ...] | None = None
    batches: tuple[tuple[DecisionSpec, ...], ...] | None = None
    """The whole decision list for each interrupt in turn, sent as given (to send a wrong count
    on purpose, include an `unchecked` decision so the driver does not refuse it)."""
    chain: dict[str, Decisions] | None = None
    """Escalation levels in order (`manager`, `director`, ...), or sign-off levels with `key`."""
    key: str | None = None
    always: DecisionSpec | None = None
    unavailable: bool = False
    """Nobody answers: the run ends with its interrupts pending."""
    default: DecisionSpec | None = None
    """by_tool / rules: the decision for any other question."""
    by: str | None = None
    """Reviewer id for decisions that give none."""
    timeout: Annotated[timedelta, BeforeValidator(duration)] | None = None
    on_timeout: DecisionSpec | None = None
    factory: str | None = None
    """`module:callable` returning a responder (for anything the file cannot say)."""
    options: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_form(self) -> ReviewerSpec:
        names = ("decisions", "by_tool", "rules", "batches", "chain", "always", "factory")
        forms = [name for name in names if getattr(self, name) is not None]
        forms += ["unavailable"] if self.unavailable else []
        if len(forms) > 1:
            raise ValueError(f"give one of {', '.join(names)}, unavailable; got {forms}")
        if self.default is not None and self.by_tool is None and self.rules is None:
            raise ValueError("`default` goes with `by_tool` or `rules`")
        if self.key is not None and self.chain is None:
            raise ValueError("`key` goes with `chain`")
        if (self.timeout is None) != (self.on_timeout is None):
            raise ValueError(
                "`timeout` and `on_timeout` go together, e.g. timeout: 24h, "
                "on_timeout: {reject: Approval timeout}"
            )
        if self.factory is not None and not FACTORY.match(self.factory):
            raise ValueError(
                f"factory {excerpt(self.factory)} is not of the form 'module:callable'"
            )
        return self


# --- front-end reviewers (hitl_sim.frontends) ----------------------------------------------

FRONTEND_CHECKS: tuple[str, ...] = (
    "args_not_shown", "choices_not_shown", "resume_wrong_shape", "unused_keys",
    "confirmation_not_asked", "near_miss_accepted", "confirm_accepted_non_yes",
    "phrase_not_shown", "details_not_shown", "input_while_pending", "resume_nothing_pending",
    "concurrent_resumes", "resumed_other_thread", "decision_not_applied", "pending_not_shown",
    "pending_shows_other", "pending_after_finish", "decision_refused", "notification_missing",
    "notified_twice", "notified_without_interrupt", "notification_fields_missing",
    "notification_time_off",
)  # fmt: skip
"""The front ends' check names (docs/approval-front-ends.md#checks)."""


def _reference(value: str, key: str, what: str) -> str:
    if not FACTORY.match(value):
        raise ValueError(
            f"{key} {excerpt(value)} is not of the form 'package.module:{what}', e.g. "
            f"'hitl_sim.catalog.apps.cli_prompt:get_user_decision'"
        )
    return value


def _keys_of(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class KeysSpec(_Spec):
    """One answer typed at one prompt, then Enter: `{type: a, at: "[a]pprove", after: 2h}`.

    A plain string is `{type: ...}`.
    """

    type: str
    at: str | None = None
    """Text the prompt must show (a substring) before this is typed; required on a pty."""
    after: Annotated[timedelta, BeforeValidator(duration)] = timedelta(0)
    """The human's latency on the frozen clock."""
    secret: bool = False
    """Mask what is typed in every record (a password)."""

    @model_validator(mode="after")
    def _one_line(self) -> KeysSpec:
        if "\n" in self.type or "\r" in self.type:
            raise ValueError(
                f"keys: {excerpt(self.type)} holds a line break; one entry answers one prompt, "
                "so split it into two entries"
            )
        if self.at == "":
            raise ValueError("`at: ''` matches every prompt; leave `at` out for that")
        return self


Keystrokes = tuple[Annotated[KeysSpec, BeforeValidator(_keys_of)], ...]


class TerminalReviewerSpec(_Spec):
    """The app's own terminal prompt, answered by keystrokes (`hitl_sim.frontends.terminal`)."""

    kind: Literal["terminal"]
    prompt: str
    """`module:function`: the app's prompt, called with the interrupt value; what it returns is
    sent as the resume value, exactly."""
    keys: Keystrokes
    by: str | None = None
    """Reviewer id recorded on the decisions."""

    @field_validator("prompt")
    @classmethod
    def _prompt_form(cls, value: str) -> str:
        return _reference(value, "prompt", "function")

    @field_validator("keys")
    @classmethod
    def _some_keys(cls, value: Keystrokes) -> Keystrokes:
        if not value:
            raise ValueError("the human types at least one answer, e.g. keys: [{type: a, at: ...}]")
        return value


PTY_FIELDS = ("python", "db", "thread_id")
"""What a pty reviewer's `argv` may name: `{python}` (this interpreter), `{db}` (the SQLite file
the program keeps its checkpoints in), `{thread_id}`."""


class PtyReviewerSpec(_Spec):
    """A real CLI program on a pseudo-terminal, answered by keystrokes (`hitl_sim.frontends.pty`).

    The program runs its own agent on a SQLite checkpointer at `{db}`; afterwards the scenario's
    `agent` is opened on that file to read the interrupts the thread paused at, so the checks
    hold what the prompts showed against them.
    """

    kind: Literal["pty"]
    argv: tuple[str, ...]
    """The program and its arguments, e.g. [`{python}`, -m, my.cli, `{db}`, `{thread_id}`]."""
    timeout: float = Field(default=30.0, gt=0, le=600)
    """Real seconds to wait for each prompt (and for the exit)."""
    keys: Keystrokes
    groups: tuple[Annotated[int, Field(ge=1)], ...] | None = None
    """How many prompts each interrupt took, in order (default: every prompt counts for every
    interrupt, which can let one prompt's screen cover for another's)."""

    @field_validator("argv")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("argv names the program, e.g. ['{python}', '-m', 'my.cli', '{db}']")
        for part in value:
            try:
                named = [f for _, f, _, _ in string.Formatter().parse(part) if f is not None]
            except ValueError:
                raise ValueError(
                    f"argv: {excerpt(part)} has a stray brace; write literal braces as {{{{ }}}}"
                ) from None
            unknown = [f for f in named if f not in PTY_FIELDS]
            if unknown:
                raise ValueError(
                    f"argv: {excerpt(part)} names {{{unknown[0]}}}; argv may name "
                    f"{', '.join('{' + f + '}' for f in PTY_FIELDS)}"
                )
        return value

    @field_validator("keys")
    @classmethod
    def _each_waits(cls, value: Keystrokes) -> Keystrokes:
        if not value:
            raise ValueError("the human types at least one answer, e.g. keys: [{type: a, at: ...}]")
        for index, key in enumerate(value):
            if key.at is None:
                raise ValueError(
                    f"keys[{index}] has no `at`: on a pty the only way to tell the program asks "
                    f"is what it shows; write {{type: {key.type!r}, at: <the prompt>}}"
                )
        return value


class GuardSpec(_Spec):
    """`{function: mod:fn, level: verify, phrase: "DELETE {resource_id}"}`: the action a
    confirmation dialog guards, wrapped for the run so each call is judged."""

    function: str
    """`module:function`, looked up in its module when the app calls it."""
    level: Literal["info", "confirm", "verify"]
    phrase: str | None = None
    """The VERIFY phrase, formatted with the call's arguments."""

    @field_validator("function")
    @classmethod
    def _function_form(cls, value: str) -> str:
        _reference(value, "function", "function")
        if "." in value.partition(":")[2]:
            raise ValueError(
                f"function {excerpt(value)} names an attribute of an attribute; a guard wraps a "
                "module-level function: 'package.module:function'"
            )
        return value

    @model_validator(mode="after")
    def _phrase_for_verify(self) -> GuardSpec:
        if (self.level == "verify") != (self.phrase is not None):
            raise ValueError(
                "`phrase` goes with `level: verify`, which needs it, e.g. "
                "{function: app:perform_deletion, level: verify, phrase: 'DELETE {resource_id}'}"
            )
        return self


class ConfirmationReviewerSpec(_Spec):
    """The app's confirmation dialogs (INFO / CONFIRM / VERIFY), answered by keystrokes
    (`hitl_sim.frontends.confirmation`)."""

    kind: Literal["confirmation"]
    guards: tuple[GuardSpec, ...]
    keys: Keystrokes = ()
    yes: tuple[str, ...] = ("y", "yes")
    """The answers a CONFIRM may act on."""
    decisions: tuple[DecisionSpec, ...] = ()
    """Answers to the agent's own HITL interrupts, if it has any, in order."""

    @field_validator("guards")
    @classmethod
    def _some_guards(cls, value: tuple[GuardSpec, ...]) -> tuple[GuardSpec, ...]:
        if not value:
            raise ValueError(
                "name the functions the dialogs guard, e.g. guards: [{function: app:fn, level: "
                "confirm}]"
            )
        return value


class HttpReviewerSpec(_Spec):
    """The app's HTTP approval API, answered as a person at the approval page does
    (`hitl_sim.frontends.http`)."""

    kind: Literal["http"]
    app: str
    """`module:factory`, called with the graph (and `webhook=` the receiver's URL when the file
    has `webhook:`) plus `options`; returns the ASGI app."""
    options: dict[str, Any] = {}
    server: Literal["in_process", "uvicorn"] = "in_process"
    """`in_process`: httpx's ASGITransport; `uvicorn`: a real server on 127.0.0.1."""
    start: str = "/runs"
    """The app's endpoint that starts a run: POSTed `{thread_id, message: <input>}`."""
    also_start: tuple[str, ...] = ()
    """Other threads the app starts (same input) after the scenario's own, before the review:
    other users of the same app."""
    decisions: tuple[DecisionSpec, ...] = ()
    """What the person at the approval page decides, one per action request, in order."""
    by: str | None = None

    @field_validator("app")
    @classmethod
    def _app_form(cls, value: str) -> str:
        return _reference(value, "app", "factory")

    @field_validator("start")
    @classmethod
    def _start_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"start {excerpt(value)} is a path on the app, e.g. /runs")
        return value


class ChatReviewerSpec(_Spec):
    """A chat app whose chat box doubles as the approval field: the human's replies go through
    the app's own input (`hitl_sim.frontends.tap`)."""

    kind: Literal["chat"]
    app: str
    """`module:factory`, called with the graph plus `options`; returns the app, whose
    `send(thread_id, text)` takes each message."""
    options: dict[str, Any] = {}
    replies: tuple[str, ...]
    """What the human types after the scenario's `input`, one message each, in order."""

    @field_validator("app")
    @classmethod
    def _app_form(cls, value: str) -> str:
        return _reference(value, "app", "factory")

    @field_validator("replies")
    @classmethod
    def _some_replies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError('the human replies at least once, e.g. replies: ["yes"]')
        return value


FrontEndSpec = (
    TerminalReviewerSpec
    | PtyReviewerSpec
    | ConfirmationReviewerSpec
    | HttpReviewerSpec
    | ChatReviewerSpec
)
FRONT_ENDS = ("terminal", "pty", "confirmation", "http", "chat")


def _reviewer_kind(data: Any) -> str | None:
    kind = _kind_of(data)
    return "scripted" if kind is None else str(kind)


AnyReviewerSpec = Annotated[
    Annotated[ReviewerSpec, Tag("scripted")]
    | Annotated[TerminalReviewerSpec, Tag("terminal")]
    | Annotated[PtyReviewerSpec, Tag("pty")]
    | Annotated[ConfirmationReviewerSpec, Tag("confirmation")]
    | Annotated[HttpReviewerSpec, Tag("http")]
    | Annotated[ChatReviewerSpec, Tag("chat")],
    Discriminator(
        _reviewer_kind,
        custom_error_type="reviewer_kind",
        custom_error_message=(
            "`kind` must be one of: terminal, pty, confirmation, http, chat (or no `kind`, for "
            "scripted decisions)"
        ),
    ),
]
"""A scenario's `reviewer:`: scripted decisions (no `kind`), or a front end of the app."""


class WebhookSpec(_Spec):
    """`webhook: {fields: [...]}`: a real receiver on 127.0.0.1 the app notifies (its URL is
    passed to the HTTP app's factory as `webhook=`); every interrupt must produce exactly one
    notification with these fields, stamped on the frozen clock."""

    fields: tuple[str, ...] = ("type", "data", "timestamp")
    timestamp_key: str | None = "timestamp"
    """The field holding the notification's time (null: not checked)."""


class PromptSpec(_Spec):
    """One prompt the human answered, in order: `{shows: ["Tool: delete_file"], typed: a}`."""

    shows: Annotated[
        tuple[str, ...], BeforeValidator(lambda v: (v,) if isinstance(v, str) else v)
    ] = ()
    """Texts the screen since the previous answer must contain (the prompt line included)."""
    line: str | None = None
    """The prompt line itself, exactly (e.g. '[a]pprove / [e]dit / [r]eject: ')."""
    typed: str | None = None
    """What was typed, as the records show it ('***' for a secret)."""


# --- run options and expectations ---------------------------------------------------------


class RunSpec(_Spec):
    mode: Literal["invoke", "stream"] = "invoke"
    async_: bool = Field(default=False, alias="async")
    thread_id: str | None = None
    max_resumes: int = Field(default=MAX_RESUMES, ge=1)
    expect_pending: bool | None = None
    """Whether the run may end with interrupts pending; default: when the reviewer is
    unavailable."""
    gated: dict[str, tuple[str, ...]] | tuple[str, ...] | None = None
    clock: str | Literal[False] | None = None
    context: dict[str, Any] | None = None
    """The run context (`runtime.context`): the fields of the agent's context schema, checked
    against it when the agent is built, before the run (`then:` steps get it too)."""

    @field_validator("clock")
    @classmethod
    def _clock_in_range(cls, value: str | Literal[False] | None) -> str | Literal[False] | None:
        if isinstance(value, str):
            start_time(value)
        return value


class TextSpec(_Spec):
    equals: str | None = None
    contains: str | None = None
    matches: str | None = None


def _text_of(value: Any) -> Any:
    return {"equals": value} if isinstance(value, str) else value


class ExecutedSpec(_Spec):
    name: str
    args: dict[str, Any] | None = None
    """None: any arguments."""


def _executed_of(value: Any) -> Any:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, Mapping) and len(value) == 1 and "name" not in value:
        ((name, args),) = value.items()
        return {"name": name, "args": args}
    return value


class ErrorSpec(_Spec):
    type: str
    """The exception's class name, e.g. ValueError, ThreadError."""
    match: str | None = None
    """A regular expression searched in the message."""
    resumable: bool | None = None
    poisoned: bool | None = None


class InterruptSpec(_Spec):
    kind: Literal["batched", "per_call", "raw", "breakpoint"] | None = None
    tools: tuple[str, ...] | None = None
    descriptions: tuple[str, ...] | None = None
    allowed: tuple[tuple[str, ...], ...] | None = None
    """The allowed decision types of each action under review."""
    value: Any = None
    """For raw interrupts: a mapping the payload must contain, or the exact payload."""
    node: str | None = None
    agent: str | None = None


class DecisionFactSpec(_Spec):
    type: str | None = None
    """The payload type sent (approve, edit, reject, respond) or answer / update."""
    by: str | None = None
    tool: str | None = None


class ExpectSpec(_Spec):
    status: Literal["finished", "pending", "failed"] | None = None
    executed: tuple[Annotated[ExecutedSpec, BeforeValidator(_executed_of)], ...] | None = None
    not_executed: tuple[str, ...] = ()
    final_message: Annotated[TextSpec, BeforeValidator(_text_of)] | None = None
    error: ErrorSpec | None = None
    raises: ErrorSpec | None = None
    """A harness error raised by `simulate` itself (e.g. ThreadError), instead of a run."""
    interrupts: tuple[InterruptSpec, ...] | None = None
    pending: tuple[InterruptSpec, ...] | None = None
    violations: tuple[str, ...] = ()
    """Safety-check violations the run must show (by name); default: none."""
    checks_off: tuple[str, ...] = ()
    """Safety checks not to apply, by name (`hitl_sim.checking.CHECKS`), when a scenario proves
    something else and a check's verdict is beside the point."""
    model_saw: tuple[str, ...] = ()
    """Texts that must appear in some message sent to a model (e.g. a reject reason)."""
    state: dict[str, Any] = {}
    """Final state values (top-level keys) the run must end with."""
    model_calls: int | None = None
    decisions: tuple[DecisionFactSpec, ...] | None = None
    """The decisions given, in order: type, reviewer id, tool."""
    snapshot: bool = False
    """Compare the run's audit log + final state with the stored snapshot."""
    prompts: tuple[PromptSpec, ...] | None = None
    """Terminal, pty and confirmation reviewers: every prompt the human answered, in order."""
    frontend_violations: tuple[str, ...] = ()
    """Front-end check violations the app must show (by name); default: none."""

    @field_validator("frontend_violations")
    @classmethod
    def _known_frontend_checks(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if name not in FRONTEND_CHECKS:
                close = difflib.get_close_matches(name, FRONTEND_CHECKS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"{excerpt(name)} is not a front-end check{hint} (checks: "
                    f"{', '.join(FRONTEND_CHECKS)})"
                )
        return names

    @model_validator(mode="after")
    def _raises_alone(self) -> ExpectSpec:
        others = sorted(self.model_fields_set - {"raises", "snapshot"})
        if self.raises is not None and others:
            raise ValueError(
                f"`raises` expects the harness to refuse the run, so there is no run to check "
                f"{', '.join(others)} against; remove them (or `raises`)"
            )
        return self


class StepSpec(_Spec):
    """A follow-up on the same graph after the first run (expectations apply to its result).

    `resume`: answer what is pending on `thread` (`same` = the first run's thread, null = no
    thread id) with `reviewer`; `recover`: continue a failed run (a poisoned answer) with a
    corrected `reviewer`, or retry a tool's own failure (`allow_rerun: true` lets it run again
    tools that already ran); `send`: a new turn with `input` on the same thread.
    """

    action: Literal["resume", "recover", "send"]
    thread: str | None = "same"
    reviewer: Annotated[ReviewerSpec, BeforeValidator(_reviewer_of)] | None = None
    input: str | dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    """The context for this step's invokes (default: the run's `run.context`)."""
    allow_rerun: bool = False
    """`recover` only: go ahead even if it runs again a tool that already ran."""
    expect: ExpectSpec = ExpectSpec()

    @field_validator("expect")
    @classmethod
    def _no_step_snapshot(cls, expect: ExpectSpec) -> ExpectSpec:
        if expect.snapshot:
            raise ValueError(
                "`snapshot` goes in the scenario's top-level `expect` (it snapshots the last run)"
            )
        if expect.prompts is not None or expect.frontend_violations:
            raise ValueError(
                "`prompts` and `frontend_violations` go in the scenario's top-level `expect` "
                "(a step's reviewer is scripted decisions)"
            )
        return expect

    @model_validator(mode="after")
    def _fits_action(self) -> StepSpec:
        if (self.action == "send") != (self.input is not None):
            raise ValueError("`input` goes with `action: send`, which needs it")
        if self.action == "recover" and self.thread != "same":
            raise ValueError("`recover` continues the failed run on its own thread; drop `thread`")
        if self.allow_rerun and self.action != "recover":
            raise ValueError("`allow_rerun` goes with `action: recover`")
        return self


class Scenario(_Spec):
    """One scenario, validated."""

    description: str
    tags: tuple[str, ...] = ()
    agent: AgentSpec
    model: Script = ()
    """The model's turns (one model for the whole agent)."""
    models: dict[str, Script] | None = None
    """Turns per agent: `main` for the main agent, subagents by name (deep agents)."""
    input: str | dict[str, Any] = "Go."
    reviewer: Annotated[AnyReviewerSpec, BeforeValidator(_reviewer_of)] | None = None
    run: RunSpec = RunSpec()
    expect: ExpectSpec = ExpectSpec()
    then: tuple[StepSpec, ...] = ()
    webhook: WebhookSpec | None = None

    name: str = ""
    path: Path | None = None

    _moved_keys: typing.ClassVar[dict[str, str]] = {
        "context": "`run: {context: {...}}` (the context is a run option)"
    }

    @model_validator(mode="after")
    def _then_follows_a_run(self) -> Scenario:
        if self.then and self.expect.raises is not None:
            raise ValueError("`then` steps need a run to follow, but `expect.raises` says none")
        return self

    @model_validator(mode="after")
    def _fits_front_end(self) -> Scenario:
        kind = self.front_end
        expect = self.expect
        if kind is None:
            if expect.prompts is not None or expect.frontend_violations or self.webhook:
                raise ValueError(
                    "`webhook`, `expect.prompts` and `expect.frontend_violations` go with a "
                    "front-end reviewer (`reviewer: {kind: terminal | pty | confirmation | http | "
                    "chat, ...}`)"
                )
            return self
        if self.then:
            raise ValueError(f"`then` steps are not supported with `reviewer.kind: {kind}`")
        if self.run.async_:
            raise ValueError(f"`reviewer.kind: {kind}` runs synchronously; drop `run.async`")
        if expect.raises is not None:
            raise ValueError(
                f"`expect.raises` is for runs hitl-sim drives; with `reviewer.kind: {kind}` "
                "the app's own faults are `expect.frontend_violations`"
            )
        if expect.prompts is not None and kind not in ("terminal", "pty", "confirmation"):
            raise ValueError(
                "`expect.prompts` goes with `reviewer.kind: terminal`, `pty` or `confirmation`, "
                "whose prompts are recorded"
            )
        if kind == "pty":
            judged = sorted(expect.model_fields_set - {"prompts", "frontend_violations"})
            given = sorted(
                {"input", "model", "models"} & self.model_fields_set
                | {f"run.{k}" for k in self.run.model_fields_set - {"thread_id"}}
            )
            if judged or given:
                raise ValueError(
                    "`reviewer.kind: pty` runs a program with its own agent, input and graph "
                    "calls: hitl-sim has no run record of it, only the prompts and the thread's "
                    "interrupts. Drop "
                    f"{', '.join([*given, *(f'expect.{k}' for k in judged)])} (expect only "
                    "`prompts` and `frontend_violations`)"
                )
        if self.webhook is not None and kind != "http":
            raise ValueError(
                "`webhook` goes with `reviewer.kind: http` (its URL is passed to the app)"
            )
        if kind in ("http", "chat"):
            if not isinstance(self.input, str):
                raise ValueError(
                    f"with `reviewer.kind: {kind}` the input is the message the user sends the "
                    "app: a string"
                )
            given = sorted(self.run.model_fields_set - {"thread_id", "clock"})
            if given:
                raise ValueError(
                    f"`run: {{{', '.join(given)}}}` does not apply to `reviewer.kind: {kind}`: "
                    "the app makes its own graph calls (only `run.thread_id` and `run.clock` "
                    "do)"
                )
        return self

    @property
    def front_end(self) -> str | None:
        """The front-end reviewer's kind (terminal, confirmation, http, chat), or None."""
        return None if isinstance(self.reviewer, ReviewerSpec | None) else self.reviewer.kind

    @property
    def id(self) -> str:
        return self.name

    @property
    def where(self) -> str:
        return f"{self.path}::{self.name}" if self.path else self.name

    @property
    def snapshot_path(self) -> Path:
        """Where `expect.snapshot` keeps this scenario's snapshot: `__snapshots__/` beside it."""
        folder = self.path.parent if self.path else Path()
        stem = self.path.stem if self.path else self.name
        label = stem if self.name == stem else f"{stem}.{self.name}"
        return folder / SNAPSHOT_DIR / f"{label}.snap"
