"""Building what a scenario file describes: fake tools, the scripted model, the agent.

`create_agent` agents get a real `HumanInTheLoopMiddleware`; deep agents are built with
`create_deep_agent`; `module:factory` agents are imported here, when the scenario runs, and called
with the keyword arguments their signature names among `model`, `checkpointer` and `tools`
(plus the file's `options`).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import create_model

from hitl_sim.calls import Call
from hitl_sim.decisions import Decision
from hitl_sim.errors import ScenarioError, ScriptExhausted
from hitl_sim.models.chat import Say, ScriptedChatModel, Turn
from hitl_sim.scenarios.schema import (
    Checkpointer,
    Condition,
    CreateAgentSpec,
    DeepAgentSpec,
    GateSpec,
    ReviewerSpec,
    Scenario,
    ToolSpec,
    TurnSpec,
)

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run

_ARG_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "any": Any,
}


# --- tools -------------------------------------------------------------------------------


def build_tool(name: str, spec: ToolSpec, where: str = "") -> BaseTool:
    """A LangChain tool that returns what the file scripts (and asks a human if told to)."""
    fields: dict[str, Any] = {arg: (_ARG_TYPES[kind], ...) for arg, kind in spec.args.items()}
    schema = create_model(f"{name}_args", **fields)
    calls = [0]

    def run(**args: Any) -> str:
        values: dict[str, Any] = dict(args)
        if spec.asks is not None and (spec.asks_when is None or holds(spec.asks_when, args)):
            from langgraph.types import interrupt

            reply = interrupt(spec.asks)
            values["answer"] = reply
            if spec.declined is not None and not _approved(reply):
                return spec.declined.format(**values)
        calls[0] += 1
        if spec.raises is not None:
            raise RuntimeError(spec.raises)
        template = _result_template(name, spec, calls[0], where)
        try:
            return template.format(**values)
        except (KeyError, IndexError) as exc:
            raise ScenarioError(
                f"{where}: tool {name!r}: result template {template!r} names {exc}, which this "
                f"call does not have (arguments: {sorted(values)}).\n"
                "Use only the tool's arguments (and {answer} for a tool that `asks`); "
                "write literal braces as {{ }}."
            ) from None

    return StructuredTool.from_function(
        run, name=name, description=spec.description or f"The {name} tool.", args_schema=schema
    )


def _approved(reply: Any) -> bool:
    return bool(reply.get("approved")) if isinstance(reply, Mapping) else bool(reply)


def _result_template(name: str, spec: ToolSpec, count: int, where: str) -> str:
    if isinstance(spec.returns, str):
        return spec.returns
    if count > len(spec.returns):
        raise ScriptExhausted(
            f"{where}: tool {name!r} was called {count} times but the file scripts "
            f"{len(spec.returns)} result(s): {list(spec.returns)}.\n"
            f"Add a result to `tools.{name}.returns`, or use one string for every call."
        )
    return spec.returns[count - 1]


def build_tools(specs: Mapping[str, ToolSpec], where: str = "") -> dict[str, BaseTool]:
    return {name: build_tool(name, spec, where) for name, spec in specs.items()}


# --- interrupt_on --------------------------------------------------------------------------


def holds(condition: Condition, args: Mapping[str, Any]) -> bool:
    """Whether a tool call's `args` satisfy `condition`."""
    if condition.all is not None:
        return all(holds(c, args) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, args) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, args)
    value = args.get(condition.arg or "")
    operand = condition.operand
    tests: dict[str, Callable[[], bool]] = {
        "equals": lambda: bool(value == operand),
        "not_equals": lambda: bool(value != operand),
        "startswith": lambda: str(value).startswith(operand),
        "endswith": lambda: str(value).endswith(operand),
        "contains": lambda: operand in value if isinstance(value, list | dict | str) else False,
        "matches": lambda: re.search(operand, str(value)) is not None,
        "in": lambda: value in operand,
        "gt": lambda: _number(value) > operand,
        "ge": lambda: _number(value) >= operand,
        "lt": lambda: _number(value) < operand,
        "le": lambda: _number(value) <= operand,
        "longer_than": lambda: isinstance(value, list | dict | str) and len(value) > operand,
    }
    return tests[condition.operator]()


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def interrupt_on(gates: Mapping[str, GateSpec]) -> dict[str, Any]:
    """The middleware's `interrupt_on` for the file's gates (`when`, descriptions as callables)."""
    config: dict[str, Any] = {}
    for tool, gate in gates.items():
        if not gate.enabled:
            config[tool] = False
            continue
        entry: dict[str, Any] = {"allowed_decisions": list(gate.allowed_decisions)}
        if gate.description is not None:
            entry["description"] = _describer(tool, gate.description)
        if gate.when is not None:
            entry["when"] = _predicate(gate.when)
        config[tool] = entry
    return config


def _describer(tool: str, template: str) -> Callable[..., str]:
    def describe(tool_call: Mapping[str, Any], state: Any, runtime: Any) -> str:
        return template.format(tool=tool, **tool_call["args"])

    return describe


def _predicate(condition: Condition) -> Callable[[Any], bool]:
    def when(request: Any) -> bool:
        return holds(condition, request.tool_call["args"])

    return when


# --- models ------------------------------------------------------------------------------


def _turn(spec: TurnSpec) -> Turn:
    calls: list[Call | Say] = [Call(c.name, dict(c.args), c.id) for c in spec.calls]
    if not calls:
        return Say(spec.text or "")
    if spec.text is not None:
        calls.append(Say(spec.text))
    return calls if len(calls) > 1 else calls[0]


def build_model(scenario: Scenario) -> ScriptedChatModel:
    """The scripted model: one script (`model:`) or one per agent (`models:`)."""
    if scenario.models is not None:
        return ScriptedChatModel(
            {agent: [_turn(t) for t in turns] for agent, turns in scenario.models.items()}
        )
    return ScriptedChatModel([_turn(t) for t in scenario.model])


# --- agents ------------------------------------------------------------------------------


_OWN: Any = object()


def build_checkpointer(kind: Checkpointer) -> Any:
    """A fresh in-process checkpointer of `kind` (the runner uses `hitl_sim.durability`)."""
    if kind == "none":
        return None
    if kind == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver(sqlite3.connect(":memory:", check_same_thread=False))
    if kind == "postgres":
        raise ScenarioError(
            "A postgres checkpointer needs a server: run the scenario with run_scenario(..., "
            "checkpointer='postgres') and HITL_SIM_POSTGRES_URL set."
        )
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def build_agent(scenario: Scenario, model: Any, checkpointer: Any = _OWN) -> Any:
    """The compiled graph under test, on `checkpointer` (default: what the file names)."""
    spec = scenario.agent
    where = scenario.where
    tools = build_tools(spec.tools, where)
    if checkpointer is _OWN:
        checkpointer = build_checkpointer(spec.checkpointer or "memory")
    if isinstance(spec, CreateAgentSpec):
        return _create_agent(spec, model, tools, checkpointer)
    if isinstance(spec, DeepAgentSpec):
        return _deep_agent(spec, model, tools, checkpointer, where)
    factory = import_factory(spec.factory, where)
    offered: dict[str, Any] = {"model": model, "checkpointer": checkpointer}
    if tools:
        offered["tools"] = list(tools.values())
    given = {**_accepted(factory, offered), **spec.options}
    return call_named(factory, ("agent.factory", spec.factory), given, where)


def call_named(
    factory: Callable[..., Any], named: tuple[str, str], given: dict[str, Any], where: str
) -> Any:
    """`factory(**given)` for the `module:function` a scenario file names under `named` (its
    key and reference), or a `ScenarioError` naming its signature when the arguments do not
    fit: the fix is in the options next to that key."""
    key, reference = named
    try:
        inspect.signature(factory).bind(**given)
    except TypeError as exc:
        options = key.rpartition(".")[0] or key
        raise ScenarioError(
            f"{where}: {key} {reference!r} cannot be called with "
            f"{sorted(given)}: {exc}.\nIts signature is {reference}{inspect.signature(factory)}; "
            f"fix `{options}.options`."
        ) from None
    except ValueError:  # no signature to read (a builtin): let the call say
        pass
    return factory(**given)


def _create_agent(
    spec: CreateAgentSpec, model: Any, tools: Mapping[str, BaseTool], checkpointer: Any
) -> Any:
    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware

    middleware = []
    if spec.interrupt_on:
        options: dict[str, Any] = {"interrupt_mode": spec.interrupt_mode}
        if spec.description_prefix is not None:
            options["description_prefix"] = spec.description_prefix
        middleware.append(HumanInTheLoopMiddleware(interrupt_on(spec.interrupt_on), **options))
    return create_agent(
        model,
        tools=list(tools.values()),
        middleware=middleware,
        system_prompt=spec.system_prompt,
        checkpointer=checkpointer,
        name=spec.name,
        interrupt_before=list(spec.interrupt_before) or None,
        interrupt_after=list(spec.interrupt_after) or None,
    )


def _deep_agent(
    spec: DeepAgentSpec, model: Any, tools: Mapping[str, BaseTool], checkpointer: Any, where: str
) -> Any:
    try:
        from deepagents import create_deep_agent
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise ScenarioError(
            f"{where}: agent kind 'deep_agent' needs deepagents.\n"
            "Install it with: pip install 'hitl-sim[deepagents]'."
        ) from None
    subagents: list[Any] = []
    for sub in spec.subagents:
        unknown = [t for t in sub.tools if t not in tools]
        if unknown:
            raise ScenarioError(
                f"{where}: subagent {sub.name!r} lists tools {unknown} that `agent.tools` does "
                f"not define (defined: {sorted(tools)}).\nAdd them to `agent.tools` or fix the "
                "names."
            )
        entry: dict[str, Any] = {
            "name": sub.name,
            "description": sub.description,
            "system_prompt": sub.system_prompt,
            "tools": [tools[t] for t in sub.tools],
            "model": model,
        }
        if sub.interrupt_on is not None:
            entry["interrupt_on"] = interrupt_on(sub.interrupt_on)
        subagents.append(entry)
    return create_deep_agent(
        model=model,
        tools=list(tools.values()),
        system_prompt=spec.system_prompt,
        subagents=subagents,
        interrupt_on=interrupt_on(spec.interrupt_on) or None,
        checkpointer=checkpointer,
    )


def import_factory(reference: str, where: str = "") -> Callable[..., Any]:
    """Import `module:attr` (only now, when the scenario runs)."""
    module_name, _, attr = reference.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ScenarioError(
            f"{where}: cannot import module {module_name!r} for factory {reference!r}: {exc}.\n"
            "Check the module path, and that it is importable (installed, or on sys.path)."
        ) from None
    for part in attr.split("."):
        if not hasattr(found, part):
            public = sorted(n for n in dir(found) if not n.startswith("_"))
            raise ScenarioError(
                f"{where}: module {module_name!r} has no attribute {attr!r} (factory "
                f"{reference!r}).\nAvailable names: {', '.join(public)}."
            )
        found = getattr(found, part)
    if not callable(found):
        raise ScenarioError(f"{where}: factory {reference!r} is {found!r}, not a callable.")
    return found  # type: ignore[no-any-return]


def _accepted(factory: Callable[..., Any], offered: Mapping[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(factory).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return {k: v for k, v in offered.items() if takes_all or k in parameters}


# --- reviewers ---------------------------------------------------------------------------


def build_reviewer(spec: ReviewerSpec | None, where: str = "") -> Any:
    """The responder a scenario's `reviewer:` describes (None: no reviewer at all)."""
    from hitl_sim.reviewing.reviewer import Reviewer, when

    if spec is None:
        return None
    policy: dict[str, Any] = {"timeout": spec.timeout, "on_timeout": spec.on_timeout}
    if spec.factory is not None:
        return import_factory(spec.factory, where)(**spec.options)
    if spec.unavailable:
        return Reviewer.unavailable(**policy)
    if spec.always is not None:
        return Reviewer.always(spec.always, by=spec.by, **policy)
    if spec.by_tool is not None:
        return Reviewer.by_tool(
            {tool: _decisions(d) for tool, d in spec.by_tool.items()},
            default=spec.default,
            by=spec.by,
            **policy,
        )
    if spec.rules is not None:
        rules = [
            when(rule.tool, **{k: _matcher(v) for k, v in rule.match.items()})
            >> _decisions(rule.decide)
            for rule in spec.rules
        ]
        return Reviewer.rules(*rules, default=spec.default, by=spec.by, **policy)
    if spec.batches is not None:
        return Batches(spec.batches)
    if spec.chain is not None:
        levels = {name: _decisions(d) for name, d in spec.chain.items()}
        return Reviewer.chain(levels, key=spec.key, **policy)
    return Reviewer(spec.decisions or (), by=spec.by, **policy)


class Batches:
    """A responder that answers each interrupt with the next whole list of decisions."""

    def __init__(self, batches: Sequence[Sequence[Decision]]) -> None:
        self._left = [list(batch) for batch in batches]

    def decide(self, interrupt: PendingInterrupt, run: Run) -> list[Decision] | None:
        if not self._left:
            raise ScriptExhausted(
                f"The reviewer's batches ran out at {interrupt.label}.\n"
                "Add a batch (one list of decisions per interrupt) to `reviewer.batches`."
            )
        return self._left.pop(0)

    def unused(self) -> list[Decision]:
        return [decision for batch in self._left for decision in batch]


def _decisions(value: Decision | tuple[Decision, ...]) -> Decision | list[Decision]:
    return list(value) if isinstance(value, tuple) else value


def _matcher(value: Any) -> Any:
    if not isinstance(value, Condition):
        return value

    def test(field: Any) -> bool:
        return holds(value, {"_": field})

    test.__name__ = f"{value.operator} {value.operand!r}"
    return test
