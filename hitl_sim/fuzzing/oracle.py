"""A reference oracle for `HumanInTheLoopMiddleware`: what the agent must do, in pure Python.

Given the middleware's configuration (`HitlConfig`), one model turn (its tool calls) and the
reviewer's decisions, `predict` says exactly which calls run with which arguments, which
`ToolMessage`s the model gets back (in state order), or which error is raised and what ran
before it. `predict_run` chains turns. Nothing here imports langgraph: the oracle replays the
middleware's documented rules (see the semantics reference, sections 1-5) on plain values, so a
property test can compare a real run against it.

The oracle covers `create_agent` + `HumanInTheLoopMiddleware` in both interrupt modes, `when`
predicates and `description` callables (called with the call only: a stand-in request exposing
`tool_call`, and `state=None, runtime=None`, so they must depend on the call alone), redirected
edits, unknown tools, malformed and disallowed answers, and unanswered reviews. Tools are given
as LangChain tools or plain functions; the oracle calls their function to learn the output, so
they must be pure.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hitl_sim.calls import Call
from hitl_sim.decisions import MIDDLEWARE_DECISIONS, Decision
from hitl_sim.errors import InvalidArgument
from hitl_sim.interrupts import ActionRequest

EDIT_NOTICE = (
    "Note: a human reviewer replaced this tool call before it ran. The call recorded in "
    "your message is the one you produced, not the one that executed. This was "
    "intentional and authorized. Do not re-issue your original call."
)
"""The middleware's default `edit_notice`."""
DESCRIPTION_PREFIX = "Tool execution requires approval"
ALL_DECISIONS = MIDDLEWARE_DECISIONS
InterruptMode = Literal["batched", "per_call"]
Stage = Literal["review", "resume", "tool"]


@dataclass(frozen=True)
class Gate:
    """One resolved `interrupt_on` entry."""

    allowed: Sequence[str]
    """As configured (a list for `True`), since error messages print it as given."""
    when: Callable[[Any], Any] | None = None
    description: str | Callable[..., str] | None = None


@dataclass(frozen=True)
class _Request:
    """What a `when` predicate is called with: the call only (tool/state/runtime are None)."""

    tool_call: dict[str, Any]
    tool: None = None
    state: None = None
    runtime: None = None


def _func_of(tool: Any) -> Callable[..., Any]:
    func = getattr(tool, "func", None) or (tool if callable(tool) else None)
    if func is None:
        raise InvalidArgument(
            f"tool {tool!r} has no Python function to compute its output. Pass LangChain tools "
            "built from functions (@tool) or a mapping of tool name to function."
        )
    return func  # type: ignore[no-any-return]


@dataclass(frozen=True)
class HitlConfig:
    """The middleware configuration and the agent's tools, as the oracle needs them.

    `interrupt_on` takes what `HumanInTheLoopMiddleware` takes (`True`, `False`, or a dict with
    `allowed_decisions`, optional `when` and `description`) and is checked the same way.
    `tools` is a sequence of LangChain tools (their `.func` gives the output) or a mapping of
    tool name to a pure function.
    """

    interrupt_on: Mapping[str, bool | Mapping[str, Any]]
    tools: Sequence[Any] | Mapping[str, Callable[..., Any]]
    interrupt_mode: InterruptMode = "batched"
    edit_notice: str | None = EDIT_NOTICE
    description_prefix: str = DESCRIPTION_PREFIX
    available: Collection[str] = ()
    """Every tool name the agent has, when it has more than `tools` (e.g. a deep agent's
    built-ins): the error for an edit naming an unknown tool lists them all."""
    gates: Mapping[str, Gate] = field(init=False, repr=False, compare=False)
    functions: Mapping[str, Callable[..., Any]] = field(init=False, repr=False, compare=False)
    schemas: Mapping[str, Any] = field(init=False, repr=False, compare=False)
    """Tool name -> the pydantic `args_schema` that checks and coerces the tool's arguments."""

    def __post_init__(self) -> None:
        if self.interrupt_mode not in ("batched", "per_call"):
            raise ValueError(
                f"`interrupt_mode` must be 'batched' or 'per_call', got {self.interrupt_mode!r}."
            )
        gates: dict[str, Gate] = {}
        for name, cfg in self.interrupt_on.items():
            if isinstance(cfg, bool):
                if cfg:
                    gates[name] = Gate(list(ALL_DECISIONS))
            elif cfg.get("allowed_decisions"):
                gates[name] = Gate(
                    cfg["allowed_decisions"], cfg.get("when"), cfg.get("description")
                )
            else:
                raise ValueError(
                    f"Invalid `interrupt_on` config for tool '{name}': `allowed_decisions` must be "
                    "a non-empty list of decision types (e.g. ['approve', 'reject']). Got config "
                    f"with keys {sorted(cfg.keys())} and "
                    f"allowed_decisions={cfg.get('allowed_decisions')!r}."
                )
        if isinstance(self.tools, Mapping):
            functions = {name: _func_of(fn) for name, fn in self.tools.items()}
        else:
            functions = {tool.name: _func_of(tool) for tool in self.tools}
        object.__setattr__(self, "gates", gates)
        object.__setattr__(self, "functions", functions)
        tools = self.tools.values() if isinstance(self.tools, Mapping) else self.tools
        schemas = {
            getattr(tool, "name", None): getattr(tool, "args_schema", None) for tool in tools
        }
        object.__setattr__(
            self,
            "schemas",
            {name: schema for name, schema in schemas.items() if hasattr(schema, "model_validate")},
        )

    @classmethod
    def of(
        cls,
        middleware: Any,
        tools: Sequence[Any] | Mapping[str, Any],
        available: Collection[str] = (),
    ) -> HitlConfig:
        """Read the configuration off a real `HumanInTheLoopMiddleware` instance."""
        return cls(
            interrupt_on=dict(middleware.interrupt_on),
            tools=tools,
            interrupt_mode=middleware.interrupt_mode,
            edit_notice=middleware.edit_notice,
            description_prefix=middleware.description_prefix,
            available=tuple(available),
        )

    def gate_for(self, call: Call) -> Gate | None:
        """The gate reviewing `call`; None when it runs unreviewed (no entry, `when` falsy)."""
        gate = self.gates.get(call.name)
        if gate is None or gate.when is None:
            return gate
        request = _Request({"name": call.name, "args": dict(call.args), "id": call.id})
        return gate if gate.when(request) else None

    def action_for(self, call: Call) -> ActionRequest:
        """The action request the reviewer sees for a gated `call`."""
        gate = self.gates[call.name]
        description = gate.description
        if callable(description):  # called without graph state or runtime
            tool_call = {"name": call.name, "args": dict(call.args), "id": call.id}
            description = description(tool_call, None, None)
        if description is None:
            description = f"{self.description_prefix}\n\nTool: {call.name}\nArgs: {dict(call.args)}"
        return ActionRequest(
            name=call.name,
            args=dict(call.args),
            description=description,
            allowed=tuple(gate.allowed),
            tool_call_id=call.id,
        )


@dataclass(frozen=True)
class Execution:
    """A tool the agent must really run."""

    name: str
    args: Mapping[str, Any]
    call_id: str | None


@dataclass(frozen=True)
class Reply:
    """A `ToolMessage` the model gets back."""

    tool_call_id: str | None
    name: str
    content: Any
    status: Literal["success", "error"] = "success"


@dataclass(frozen=True)
class Failure:
    """An error the agent must raise.

    `message` is exact when known; per_call validation errors (pydantic) are described by
    `fragments`, each of which must occur in the message.
    """

    type: str
    message: str | None
    stage: Stage
    """review: at the first invoke; resume: in the resumed review; tool: while a tool ran."""
    fragments: tuple[str, ...] = ()
    call_id: str | None = None

    def matches(self, exc: BaseException) -> bool:
        """Whether `exc` is this failure (same type name, message or fragments)."""
        text = str(exc)
        if type(exc).__name__ != self.type:
            return False
        if self.message is not None and text != self.message:
            return False
        return all(fragment in text for fragment in self.fragments)

    def describe(self) -> str:
        return f"{self.type}: {self.message if self.message is not None else self.fragments}"


@dataclass(frozen=True)
class Outcome:
    """What the agent must do with one model turn."""

    reviews: tuple[ActionRequest, ...] = ()
    """The action requests put to the reviewer, in call order (empty: no interrupt)."""
    executed: tuple[Execution, ...] = ()
    """Tools that really run, in call order (actual execution order is nondeterministic)."""
    replies: tuple[Reply, ...] = ()
    """The ToolMessages appended to state, in state order."""
    error: Failure | None = None
    alternatives: tuple[Failure, ...] = ()
    """Other errors that may be raised instead of `error` (several tool tasks failing at once)."""
    pending: tuple[str | None, ...] = ()
    """Call ids whose review is still waiting when the turn stops (per_call)."""
    unused: int = 0
    """Decisions left over (per_call: more decisions than gated calls)."""
    droppable: tuple[str | None, ...] = ()
    """Replies of tools that ran beside a failing tool task. LangGraph saves them, but now and
    then loses some of them (a race in its sync runner, printed as `RuntimeError: cannot
    schedule new futures after shutdown`; see docs/found-bugs.md)."""

    @property
    def executed_names(self) -> list[str]:
        return [execution.name for execution in self.executed]

    @property
    def finished(self) -> bool:
        """The turn completed and the model is called again with `replies`."""
        return self.error is None and not self.pending

    def accepts(self, exc: BaseException | None) -> bool:
        """Whether `exc` (None: no error) is an error this outcome allows."""
        if self.error is None:
            return exc is None
        return exc is not None and any(f.matches(exc) for f in (self.error, *self.alternatives))


def _failure(exc: Exception, stage: Stage, call_id: str | None = None) -> Failure:
    message = str(exc)
    return Failure(type(exc).__name__, message, stage, call_id=call_id)


def _payload(decision: Any, action: ActionRequest | None) -> Any:
    return decision.payload_for(action) if isinstance(decision, Decision) else decision


def _content(output: Any) -> Any:
    """`ToolMessage.content` for a tool's return value (langgraph's `msg_content_output`)."""
    if isinstance(output, str) or (
        isinstance(output, list) and all(isinstance(x, dict) and "type" in x for x in output)
    ):
        return output
    try:
        return json.dumps(output, ensure_ascii=False)
    except Exception:
        return str(output)


def _answer(call: Call, decision: Mapping[str, Any]) -> Reply:
    """The message the model gets in place of a rejected or answered call."""
    if decision["type"] == "respond":
        content = decision["message"]
    elif reason := decision.get("message"):
        content = f"User rejected the tool call for `{call.name}` with reason: {reason}"
    else:
        content = (
            f"User rejected the tool call for `{call.name}` with id {call.id}. The tool was not "
            "executed. Do not retry this tool call unless the user explicitly requests it."
        )
    if not isinstance(call.id, str):
        raise _PydanticLike("ValidationError", ("validation error for ToolMessage", "tool_call_id"))
    status: Literal["success", "error"] = "success" if decision["type"] == "respond" else "error"
    # `ToolMessage` turns content that is neither text nor a list of blocks into text
    return Reply(
        call.id, call.name, content if isinstance(content, str | list) else str(content), status
    )


class _PydanticLike(Exception):
    """A stand-in for a pydantic error the real run raises: type name plus message fragments."""

    def __init__(self, type_name: str, fragments: tuple[str, ...]) -> None:
        super().__init__(type_name, fragments)
        self.type_name = type_name
        self.fragments = fragments


class _Oracle:
    def __init__(self, config: HitlConfig) -> None:
        self.config = config

    def run_tool(self, call: Call, edited: Any) -> tuple[Execution | None, Reply]:
        """Run `call` (as the reviewer `edited` it, if they did) like `wrap_tool_call` does."""
        name, args = call.name, call.args
        if edited is not None:
            name, args = edited["name"], edited["args"]
            known = {*self.config.functions, *self.config.available}
            if name != call.name and name not in known:
                available = ", ".join(sorted(known))
                raise ValueError(
                    f"Reviewer edited tool call {call.id!r} to {name!r}, which is not an "
                    f"available tool. Available tools: {available}."
                )
        func = self.config.functions.get(name)
        if func is None:
            raise InvalidArgument(
                f"the model called {name!r}, which is not one of the oracle's tools "
                f"({', '.join(sorted(self.config.functions))}). Pass every tool the agent has."
            )
        execution: Execution | None = Execution(name, dict(args), call.id)
        status: Literal["success", "error"] = "success"
        problems = _argument_errors(self.config.schemas.get(name), args)
        if problems is None:
            kwargs = _validated(self.config.schemas.get(name), func, args)
            content = _content(func(**kwargs))
        else:
            execution, status = None, "error"
            listed = "\n".join(f"{loc}: {msg}" for loc, msg in problems)
            content = (
                f"Error invoking tool '{name}' with kwargs {dict(args)} with error:\n {listed}\n"
                " Please fix the error and try again."
            )
        if edited is not None and self.config.edit_notice:
            notice = (
                f"{self.config.edit_notice} Executed instead: {name} with arguments "
                f"{json.dumps(args, default=str)}."
            )
            if content:
                notice += "\n\nTool response:"
            if isinstance(content, str) and notice not in content:
                content = f"{notice}\n{content}" if content else notice
        return execution, Reply(call.id, name, content, status)

    def run_tools(
        self, calls: Iterable[Call], edits: Mapping[str, Any], stage: Stage = "tool"
    ) -> tuple[list[Execution], list[Reply], list[Failure]]:
        executed: list[Execution] = []
        replies: list[Reply] = []
        failures: list[Failure] = []
        for call in calls:
            edited = edits.get(call.id) if call.id else None
            try:
                execution, reply = self.run_tool(call, edited)
            except InvalidArgument:
                raise
            except Exception as exc:
                failures.append(_failure(exc, stage, call.id))
                continue
            if execution is not None:
                executed.append(execution)
            replies.append(reply)
        return executed, replies, failures

    def batched(self, calls: list[Call], decisions: Any) -> Outcome:
        gated = [call for call in calls if self.config.gate_for(call) is not None]
        reviews = tuple(self.config.action_for(call) for call in gated)
        if not gated:
            return self._ran(reviews, calls, {}, [])
        try:
            resume = decisions
            if isinstance(decisions, list | tuple):
                actions = [*reviews, *[None] * len(decisions)]
                resume = {
                    "decisions": [_payload(d, a) for d, a in zip(decisions, actions, strict=False)]
                }
            answers = resume["decisions"]
            if len(answers) != len(gated):
                raise ValueError(
                    f"Number of human decisions ({len(answers)}) does not match number of "
                    f"hanging tool calls ({len(gated)})."
                )
            artificial: list[Reply] = []
            edits: dict[str, Any] = {}
            for index, call in enumerate(gated):
                answer = answers[index]
                allowed = self.config.gates[call.name].allowed
                kind = answer["type"]
                if kind == "approve" and "approve" in allowed:
                    continue
                if kind == "edit" and "edit" in allowed:
                    if call.id:
                        edits[call.id] = answer["edited_action"]
                    continue
                if kind in allowed and kind in ("reject", "respond"):
                    artificial.append(_answer(call, answer))
                    continue
                raise ValueError(
                    f"Unexpected human decision: {answer}. Decision type '{answer.get('type')}' "
                    f"is not allowed for tool '{call.name}'. Expected one of {allowed} based on "
                    "the tool's configuration."
                )
        except InvalidArgument:
            raise
        except Exception as exc:
            # the bad answer is stored on the thread: the review stays pending (poisoned)
            failure = (
                Failure(exc.type_name, None, "resume", exc.fragments)
                if isinstance(exc, _PydanticLike)
                else _failure(exc, "resume")
            )
            return Outcome(reviews, error=failure, pending=tuple(call.id for call in gated))
        answered = {reply.tool_call_id for reply in artificial}
        to_run = [call for call in calls if call.id not in answered]
        return self._ran(reviews, to_run, edits, artificial)

    def _ran(
        self,
        reviews: tuple[ActionRequest, ...],
        to_run: list[Call],
        edits: Mapping[str, Any],
        artificial: list[Reply],
    ) -> Outcome:
        executed, replies, failures = self.run_tools(to_run, edits)
        if failures:
            return Outcome(
                reviews,
                tuple(executed),
                (*artificial, *replies),
                error=failures[0],
                alternatives=tuple(failures[1:]),
                droppable=tuple(reply.tool_call_id for reply in replies),
            )
        return Outcome(reviews, tuple(executed), (*artificial, *replies))

    def per_call(self, calls: list[Call], decisions: Sequence[Any]) -> Outcome:
        reviews: list[ActionRequest] = []
        executed: list[Execution] = []
        replies: list[Reply] = []
        failures: list[Failure] = []
        pending: list[str | None] = []
        queue = list(decisions)
        for call in calls:
            gate = self.config.gate_for(call)
            if gate is None:
                ran, out, failed = self.run_tools([call], {})
            elif call.id is None:
                failures.append(
                    Failure(
                        "ValueError",
                        f"Tool call `{call.name}` has no ID, so its result can't be matched to "
                        "it. Make sure the chat model returns tool call IDs.",
                        "review",
                    )
                )
                continue
            else:
                action = self.config.action_for(call)
                reviews.append(action)
                if not queue:
                    pending.append(call.id)
                    continue
                answer = _payload(queue.pop(0), action)
                schema = self.config.schemas.get(call.name)
                problem = _schema_problem(answer, call.name, gate.allowed, schema)
                if problem:
                    failures.append(Failure("ValidationError", None, "resume", problem, call.id))
                    pending.append(call.id)
                    continue
                if answer["type"] in ("reject", "respond"):
                    replies.append(_answer(call, answer))
                    continue
                edited = answer["edited_action"] if answer["type"] == "edit" else None
                ran, out, failed = self.run_tools([call], {call.id: edited} if edited else {})
            executed += ran
            replies += out
            failures += failed
        # Each call is its own `tools` task: finished ones show in state even while others wait.
        return Outcome(
            tuple(reviews),
            tuple(executed),
            tuple(replies),
            error=failures[0] if failures else None,
            alternatives=tuple(failures[1:]),
            pending=tuple(pending),
            unused=len(queue),
        )


def _argument_errors(schema: Any, args: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """(location, message) of each error the tool's `args_schema` finds in `args`; None if valid."""
    if schema is None:
        return None
    from pydantic import ValidationError

    try:
        schema.model_validate(dict(args))
    except ValidationError as exc:
        return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
    return None


def _validated(schema: Any, func: Callable[..., Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments the tool's function receives: validated (coerced) by its schema if it has
    one, undeclared ones dropped, as LangChain's `BaseTool` does."""
    if schema is not None:
        model = schema.model_validate(dict(args))
        return {key: getattr(model, key) for key in model.model_dump() if key in args}
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(args)
    return {k: v for k, v in args.items() if k in params}


def _schema_problem(
    answer: Any, tool: str, allowed: Sequence[str], schema: Any = None
) -> tuple[str, ...]:
    """Fragments of the pydantic error a per_call `response_schema` raises for `answer`.

    Empty when the answer is valid. An edit's `name` must be the reviewed tool and its `args`
    must pass the tool's schema (undeclared extra args pass).
    """
    kinds = list(dict.fromkeys(allowed))
    if not isinstance(answer, Mapping):
        return ("validation error",)
    kind = answer.get("type")
    if len(kinds) > 1:
        if "type" not in answer:
            return ("Unable to extract tag using discriminator 'type'",)
        if kind not in kinds:
            tags = ", ".join(repr(k) for k in kinds)
            return (
                f"Input tag '{kind}' found using 'type' does not match any of the expected "
                f"tags: {tags}",
            )
    elif kind != kinds[0]:
        return ("validation error", "type")
    if kind == "respond" and not isinstance(answer.get("message"), str):
        return ("message",)
    if kind == "reject" and "message" in answer and not isinstance(answer["message"], str):
        return ("message",)
    if kind == "edit":
        edited = answer.get("edited_action")
        if not isinstance(edited, Mapping):
            return ("edited_action",)
        if "name" not in edited:
            return ("edited_action.name\n  Field required",)
        if edited["name"] != tool:
            return ("edited_action.name", f"Input should be '{tool}'")
        if "args" not in edited:
            return ("edited_action.args\n  Field required",)
        if not isinstance(edited["args"], Mapping):
            return ("edited_action.args",)
        errors = _argument_errors(schema, edited["args"])
        if errors:
            return tuple(f"edited_action.args.{loc}\n  {msg}" for loc, msg in errors)
    return ()


def predict(config: HitlConfig, calls: Iterable[Any], decisions: Any = ()) -> Outcome:
    """What the agent must do with one model turn making `calls`, answered with `decisions`.

    `decisions` is a sequence of `Decision`s or raw decision payloads, matched by position to
    the gated calls (batched: sent together as `{"decisions": [...]}`, however many there are;
    per_call: one per gated call, all sent together, missing ones left unanswered). In batched
    mode it may also be any raw resume value (e.g. `{"decisions": ...}` or a bare string), sent
    verbatim. `None`: nobody answers, the reviews stay pending.
    """
    turn = [Call.of(call) for call in calls]
    oracle = _Oracle(config)
    if decisions is None:  # nobody answers: every review stays pending
        if config.interrupt_mode == "per_call":
            return oracle.per_call(turn, [])
        gated = [call for call in turn if config.gate_for(call) is not None]
        if gated:
            reviews = tuple(config.action_for(call) for call in gated)
            return Outcome(reviews, pending=tuple(call.id for call in gated))
        return oracle.batched(turn, [])
    if config.interrupt_mode == "per_call":
        if not isinstance(decisions, list | tuple):
            raise InvalidArgument(
                f"per_call decisions must be a list (one per gated call), got {decisions!r}."
            )
        return oracle.per_call(turn, decisions)
    return oracle.batched(turn, decisions)


def predict_run(config: HitlConfig, turns: Iterable[tuple[Iterable[Any], Any]]) -> list[Outcome]:
    """Predict a run turn by turn: `turns` holds (calls, decisions) pairs, in model order.

    Stops after the first turn that does not finish (an error, or a review left pending): the
    agent stops there too.
    """
    outcomes: list[Outcome] = []
    for calls, decisions in turns:
        outcome = predict(config, calls, decisions)
        outcomes.append(outcome)
        if not outcome.finished:
            break
    return outcomes
