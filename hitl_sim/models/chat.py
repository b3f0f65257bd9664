"""Fake chat models that emit exactly the tool calls a test scripted, and fail loudly otherwise.

`ScriptedChatModel(turns)` answers each model call with the next scripted turn;
`FunctionChatModel(fn)` asks `fn(messages, info)` for the turn. Both are real LangChain
`BaseChatModel`s: they work as the model of `create_agent`, `create_deep_agent` (main agent and
subagents) and inside hand-written `StateGraph` nodes, with `invoke`, `ainvoke`, `stream` and
`astream`. Every scripted call is checked against the tools the agent bound.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn, TypeAlias

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, ensure_config
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from hitl_sim.calls import Call
from hitl_sim.errors import InvalidArgument, ScenarioError, ScriptExhausted, UnusedScript
from hitl_sim.run import ModelRequest

MAIN_AGENT = "main"
"""Script key for the agent that has no name (the main agent of an unnamed deep agent)."""


@dataclass(frozen=True)
class Say:
    """A scripted plain answer. Build it with `say(text)`."""

    text: str

    def __repr__(self) -> str:
        return f"say({self.text!r})"


def call(name: str, /, **args: Any) -> Call:
    """A turn (or part of a batched turn) in which the model calls tool `name` with `args`."""
    given: Any = name
    if not isinstance(given, str) or not given:
        raise InvalidArgument(f"call() needs a tool name (a non-empty str) first, got {name!r}.")
    return Call(name, dict(args))


def say(text: str) -> Say:
    """A turn in which the model answers with plain text."""
    given: Any = text
    if not isinstance(given, str):
        raise InvalidArgument(f"say() needs the answer's text (a str), got {text!r}.")
    return Say(text)


Turn: TypeAlias = AIMessage | Call | Say | Sequence[Call | Say]
"""One model answer: an `AIMessage`, a `call(...)`, `say(...)`, or a list of calls (a batched
turn, optionally with one `say(...)` for the text that goes with them)."""


@dataclass(frozen=True)
class TurnInfo:
    """What `FunctionChatModel`'s function knows about the request besides the messages."""

    turn: int
    """1-based count of this agent's model calls."""
    agent: str | None
    """`lc_agent_name` of the calling agent (a subagent's name), None for an unnamed agent."""
    tools: tuple[Any, ...]
    """The tools bound for this call, as the agent passed them to `bind_tools`."""
    tool_names: tuple[str, ...]
    tool_choice: Any = None


@dataclass(frozen=True)
class _Tool:
    name: str
    parameters: Mapping[str, Any]


@dataclass
class _Bound:
    tools: tuple[Any, ...] | None
    """None when `bind_tools` was never called: scripted calls are then not checked."""
    specs: tuple[_Tool, ...] = field(default=())
    tool_choice: Any = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.specs)


class _FakeChatModel(BaseChatModel):
    """Shared machinery: tool binding, call checks, ids, request log, streaming."""

    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)
    _requests: list[ModelRequest] = PrivateAttr(default_factory=list)
    _turns_by_agent: dict[str | None, int] = PrivateAttr(default_factory=dict)
    _ids_made: int = PrivateAttr(default=0)
    _id_prefix: str = PrivateAttr(default="call_")

    @property
    def requests(self) -> list[ModelRequest]:
        """Every call made to this model, in order."""
        return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests and turn counts, for a model reused across many runs
        (e.g. `hitl_sim.fuzzing.bench.FuzzAgent`), so the log does not grow without bound."""
        with self._lock:
            self._requests.clear()
            self._turns_by_agent.clear()

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the way a provider model does; scripted calls are checked against them."""
        return self.bind(tools=list(tools), tool_choice=tool_choice, **kwargs)

    def _next_turn(self, messages: list[BaseMessage], info: TurnInfo) -> tuple[Turn, int]:
        """The turn to answer with, and its number for messages (script position)."""
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._respond(messages, run_manager, kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._respond(messages, run_manager, kwargs)
        for chunk in _chunks_of(message):
            yield ChatGenerationChunk(message=chunk)

    def _respond(
        self,
        messages: list[BaseMessage],
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: Mapping[str, Any],
    ) -> AIMessage:
        agent = _agent_of(run_manager)
        bound = _bound_of(kwargs)
        with self._lock:
            turn = self._turns_by_agent.get(agent, 0) + 1
            self._turns_by_agent[agent] = turn
            info = TurnInfo(turn, agent, bound.tools or (), bound.names, bound.tool_choice)
            request = ModelRequest(turn, agent, tuple(messages), bound.names, bound.tool_choice)
            self._requests.append(request)
            index = len(self._requests) - 1
            scripted, number = self._next_turn(messages, info)
            who = f" (agent {agent!r})" if agent is not None else ""
            message = self._message_of(scripted, f"{type(self).__name__} turn {number}{who}", bound)
            self._requests[index] = replace(request, response=message)
        return message

    def _message_of(self, scripted: Turn, label: str, bound: _Bound) -> AIMessage:
        if isinstance(scripted, AIMessage):
            calls = [Call(tc["name"], tc["args"], tc["id"]) for tc in scripted.tool_calls]
            _check_all(calls, scripted, label, bound)
            return scripted.model_copy(deep=True)
        parts = _parts_of(scripted, label)
        calls = [part for part in parts if isinstance(part, Call)]
        _check_all(calls, scripted, label, bound)
        text = "".join(part.text for part in parts if isinstance(part, Say))
        tool_calls = [
            {
                "name": made.name,
                "args": dict(made.args),
                "id": made.id if made.id is not None else self._new_id(),
            }
            for made in calls
        ]
        return AIMessage(content=text, tool_calls=tool_calls)

    def _new_id(self) -> str:
        self._ids_made += 1
        return f"{self._id_prefix}{self._ids_made}"


class ScriptedChatModel(_FakeChatModel):
    """A chat model that answers with scripted turns, in order, and never cycles.

    `turns` is a list of turns, or a mapping from agent name to such a list so that a deep
    agent and its subagents (which share one model object) each get their own script; the key
    `"main"` is the unnamed main agent.
    """

    _scripts: dict[str, list[Turn]] = PrivateAttr(default_factory=dict)
    _used: dict[str, int] = PrivateAttr(default_factory=dict)
    _per_agent: bool = PrivateAttr(default=False)

    def __init__(
        self,
        turns: Sequence[Turn] | Mapping[str, Sequence[Turn]],
        /,
        *,
        id_prefix: str = "call_",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._id_prefix = id_prefix
        if isinstance(turns, Mapping):
            self._per_agent = True
            scripts = {str(agent): _script_of(script, agent) for agent, script in turns.items()}
        else:
            scripts = {MAIN_AGENT: _script_of(turns, None)}
        self._scripts = scripts
        self._used = dict.fromkeys(scripts, 0)

    @property
    def _llm_type(self) -> str:
        return "hitl-sim-scripted"

    @property
    def remaining(self) -> list[Turn]:
        """The scripted turns nobody asked for yet (of every agent, in script order)."""
        return [turn for turns in self.remaining_by_agent.values() for turn in turns]

    @property
    def remaining_by_agent(self) -> dict[str, list[Turn]]:
        """Unused turns per script key (`"main"` for a plain list script)."""
        with self._lock:
            return {agent: script[self._used[agent] :] for agent, script in self._scripts.items()}

    def assert_consumed(self) -> None:
        """Raise `UnusedScript` if any scripted turn was never asked for."""
        left = {agent: turns for agent, turns in self.remaining_by_agent.items() if turns}
        if not left:
            return
        lines = [
            f"- {_agent_label(agent)} turn {len(self._scripts[agent]) - len(turns) + i}: {turn!r}"
            for agent, turns in left.items()
            for i, turn in enumerate(turns, start=1)
        ]
        unused = _count(sum(map(len, left.values())), "scripted turn")
        raise UnusedScript(
            f"{type(self).__name__} has {unused} the agent never asked for:\n"
            + "\n".join(lines)
            + "\nRemove them from the script, or find out why the agent stopped early."
        )

    def _next_turn(self, messages: list[BaseMessage], info: TurnInfo) -> tuple[Turn, int]:
        key = (info.agent or MAIN_AGENT) if self._per_agent else MAIN_AGENT
        script = self._scripts.get(key)
        if script is None:
            scripted = ", ".join(repr(agent) for agent in self._scripts)
            raise ScriptExhausted(
                f"{type(self).__name__} has no script for agent {key!r} "
                f"(scripted agents: {scripted}).\n"
                f"{_sent(messages)}\n"
                f"Add a script for it: ScriptedChatModel({{..., {key!r}: [...]}})."
            )
        position = self._used[key]
        if position >= len(script):
            who = f" for agent {key!r}" if self._per_agent else ""
            if not self._per_agent and info.agent is not None:
                who = f" (asked by agent {info.agent!r})"
            raise ScriptExhausted(
                f"{type(self).__name__} ran out of script{who}: the agent asked for turn "
                f"{position + 1} but the script has {_count(len(script), 'turn')}.\n"
                f"{_sent(messages)}\n"
                "Add a turn for this request (e.g. say('Done.')), or find out why the agent "
                "called the model again."
            )
        self._used[key] = position + 1
        return script[position], position + 1


class FunctionChatModel(_FakeChatModel):
    """A chat model whose every answer comes from `fn(messages, info)`.

    `fn` returns a turn (`AIMessage`, `call(...)`, `say(...)` or a list of calls); `info` is a
    `TurnInfo` with the bound tools, the turn number and the calling agent's name.
    """

    _fn: Callable[[list[BaseMessage], TurnInfo], Turn] = PrivateAttr()

    def __init__(
        self,
        fn: Callable[[list[BaseMessage], TurnInfo], Turn],
        /,
        *,
        id_prefix: str = "call_",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(fn):
            raise InvalidArgument(
                f"FunctionChatModel needs a function (messages, info) -> turn, got {fn!r}."
            )
        self._fn = fn
        self._id_prefix = id_prefix

    @property
    def _llm_type(self) -> str:
        return "hitl-sim-function"

    def _next_turn(self, messages: list[BaseMessage], info: TurnInfo) -> tuple[Turn, int]:
        return self._fn(list(messages), info), info.turn


# --- turns ---------------------------------------------------------------------------------


def _script_of(turns: Any, agent: str | None) -> list[Turn]:
    if isinstance(turns, str | bytes) or not isinstance(turns, Sequence):
        where = f" for agent {agent!r}" if agent is not None else ""
        raise InvalidArgument(
            f"ScriptedChatModel needs a list of turns{where}, got {turns!r}.\n"
            "Pass e.g. [call('send_email', to='bob'), say('Done.')]."
        )
    script = list(turns)
    for index, turn in enumerate(script, start=1):
        if not isinstance(turn, AIMessage):
            label = f"ScriptedChatModel turn {index}" + (
                f" of agent {agent!r}" if agent is not None else ""
            )
            _parts_of(turn, label)
    return script


def _parts_of(turn: Any, label: str) -> list[Call | Say]:
    if isinstance(turn, Call | Say):
        return [turn]
    if isinstance(turn, Sequence) and not isinstance(turn, str | bytes) and turn:
        parts = list(turn)
        says = [part for part in parts if isinstance(part, Say)]
        if all(isinstance(part, Call | Say) for part in parts) and len(says) <= 1:
            return parts
    raise InvalidArgument(
        f"{label} is {turn!r}: a turn must be an AIMessage, call(...), say(...), or a non-empty "
        "list of call(...) with at most one say(...).\n"
        "Wrap text in say('...') and tool calls in call('tool_name', arg=value)."
    )


# --- checking calls against the bound tools ------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict, Mapping),
    "null": (type(None),),
}


def _bound_of(kwargs: Mapping[str, Any]) -> _Bound:
    tools = kwargs.get("tools")
    if tools is None:
        return _Bound(None)
    return _Bound(tuple(tools), tuple(map(_spec_of, tools)), kwargs.get("tool_choice"))


def _spec_of(tool: Any) -> _Tool:
    if isinstance(tool, Mapping) and "function" not in tool and "parameters" not in tool:
        return _Tool(str(tool.get("name", tool.get("type", "?"))), {})  # provider built-in
    function = convert_to_openai_tool(tool)["function"]
    return _Tool(function["name"], function.get("parameters") or {})


def _check_all(calls: list[Call], scripted: Turn, label: str, bound: _Bound) -> None:
    for made in calls:
        _check(made, label, bound)
    choice = bound.tool_choice
    forced = _forced_tool(choice)
    if choice == "none" and calls:
        problem = "makes a tool call"
    elif choice in ("any", "required", True) and not calls:
        problem = "makes no tool call"
    elif forced is not None and (not calls or any(made.name != forced for made in calls)):
        problem = f"does not call only {forced!r}"
    else:
        return
    raise ScenarioError(
        f"{label}: the agent bound its tools with tool_choice={choice!r}, but the scripted turn "
        f"{problem}: {scripted!r}.\n"
        f"Tools bound for this turn: {', '.join(bound.names) or '(none)'}\n"
        "A real model obeys tool_choice; script a turn that does too."
    )


def _forced_tool(choice: Any) -> str | None:
    """The one tool a `tool_choice` forces (OpenAI and Anthropic shapes), if any."""
    if isinstance(choice, str) and choice not in ("auto", "none", "any", "required"):
        return choice
    if isinstance(choice, Mapping):
        name = choice.get("name") or (choice.get("function") or {}).get("name")
        return str(name) if name else None
    return None


def _check(made: Call, label: str, bound: _Bound) -> None:
    if bound.tools is None:
        return
    spec = next((spec for spec in bound.specs if spec.name == made.name), None)
    if spec is None:
        _mismatch(
            made,
            label,
            bound,
            f"unknown tool {made.name!r}",
            "Call one of the bound tools in the script, or give the tool to the agent.",
        )
    properties: Mapping[str, Any] = spec.parameters.get("properties", {})
    for name in spec.parameters.get("required", []):
        if name not in made.args:
            _mismatch(
                made,
                label,
                bound,
                f"tool {made.name!r} is missing required argument {name!r}",
                f"Add {name}=... to the scripted call.",
            )
    for name, value in made.args.items():
        expected = _json_types(properties.get(name, {}))
        if expected and not any(_is_json_type(value, kind) for kind in expected):
            wanted = " | ".join(expected)
            _mismatch(
                made,
                label,
                bound,
                f"argument {name!r} of tool {made.name!r} must be {wanted}, "
                f"got {type(value).__name__} {value!r}",
                f"Change {name!r} in the scripted call to a value of type {wanted}.",
            )


def _json_types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(item) for item in kind]
    branches = schema.get("anyOf") or schema.get("oneOf") or []
    kinds = [_json_types(branch) for branch in branches]
    if not kinds or not all(kinds):
        return []  # some branch accepts anything we cannot judge ($ref, untyped)
    return [kind for sub in kinds for kind in sub]


def _is_json_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _JSON_TYPES.get(kind, (object,)))


def _mismatch(made: Call, label: str, bound: _Bound, problem: str, fix: str) -> NoReturn:
    tools = ", ".join(bound.names) or "(none)"
    raise ScenarioError(
        f"{label}: {problem}.\nScripted call: {made!r}\nTools bound for this turn: {tools}\n{fix}"
    )


# --- requests, agents, streaming -----------------------------------------------------------


def _agent_of(run_manager: CallbackManagerForLLMRun | None) -> str | None:
    """The calling agent's `lc_agent_name` (create_agent / deepagents put it in the metadata).

    A streaming call gets no run manager (langchain_core calls `_stream` without one), so fall
    back to the config of the runnable being run, which the same metadata rides on.
    """
    metadata = run_manager.metadata if run_manager is not None else {}
    if "lc_agent_name" not in metadata:
        metadata = ensure_config().get("metadata", {})
    name = metadata.get("lc_agent_name")
    return str(name) if name is not None else None


def _agent_label(agent: str) -> str:
    return f"agent {agent!r}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _sent(messages: Sequence[BaseMessage], last: int = 3) -> str:
    shown = list(messages)[-last:]
    head = f"The model was sent {_count(len(messages), 'message')}"
    head += ":" if len(shown) == len(messages) else f"; the last {len(shown)}:"
    return "\n".join([head, *(f"- {_describe(message)}" for message in shown)])


def _describe(message: BaseMessage) -> str:
    text = message.content if isinstance(message.content, str) else json.dumps(message.content)
    text = text if len(text) <= 120 else text[:117] + "..."
    if isinstance(message, ToolMessage):
        return f"tool {message.name or '?'} ({message.tool_call_id}): {text!r}"
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = ", ".join(
            f"{Call(tc['name'], tc['args'])!r} [{tc['id']}]" for tc in message.tool_calls
        )
        return f"ai: {text!r} + {calls}" if text else f"ai: {calls}"
    return f"{message.type}: {text!r}"


_WORD = re.compile(r"\s*\S+\s*|\s+")


def _chunks_of(message: AIMessage) -> Iterator[AIMessageChunk]:
    """The message as a provider would stream it: text word by word, then one chunk per call."""
    content = message.content
    pieces: list[Any] = _WORD.findall(content) if isinstance(content, str) else [content]
    chunks = [AIMessageChunk(content=piece) for piece in pieces if piece]
    for index, tool_call in enumerate(message.tool_calls):
        chunk = tool_call_chunk(
            name=tool_call["name"],
            args=json.dumps(tool_call["args"]),
            id=tool_call["id"],
            index=index,
        )
        chunks.append(AIMessageChunk(content="", tool_call_chunks=[chunk]))
    if not chunks:
        chunks.append(AIMessageChunk(content=""))
    first = chunks[0]
    chunks[0] = first.model_copy(
        update={
            "additional_kwargs": dict(message.additional_kwargs),
            "response_metadata": dict(message.response_metadata),
            "usage_metadata": message.usage_metadata,
            "id": message.id,
        }
    )
    chunks[-1] = chunks[-1].model_copy(update={"chunk_position": "last"})
    yield from chunks
