"""Which tools an agent puts to a human: read from its own `HumanInTheLoopMiddleware`.

`gates_of(graph)` finds every middleware instance behind the compiled graph's nodes (a
`create_agent` hook node runs a bound method of its middleware) and returns the normalized
`interrupt_on` (tool -> allowed decision types) of those that are `HumanInTheLoopMiddleware`
instances, subclasses and renamed ones included. Deep agents' subagents are reached through the
`task` tool and their gates are merged in (a subagent's own `interrupt_on` replaces its
parent's, per deepagents).

`graph_tools(graph)` finds every tool the graph can run before it runs, through subgraph nodes,
subagents and the agents a tool's code calls, and says whether that is all of them: what the
driver checks `gated=` names against.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hitl_sim.run import AgentGates

HITL_NODE = "HumanInTheLoopMiddleware.after_model"
"""The review node of an unrenamed middleware (gates are found by isinstance, not by name)."""


def middlewares_of(graph: Any) -> list[Any]:
    """The `AgentMiddleware` instances behind the graph's nodes, in node order (each once)."""
    from langchain.agents.middleware import AgentMiddleware

    found: list[Any] = []
    for node in getattr(graph, "nodes", {}).values():
        bound = getattr(node, "bound", None)
        for func in (getattr(bound, "func", None), getattr(bound, "afunc", None)):
            owner = getattr(func, "__self__", None)
            if isinstance(owner, AgentMiddleware) and not any(owner is m for m in found):
                found.append(owner)
    return found


def tools_of(graph: Any) -> dict[str, Any]:
    """The graph's tools by name, from its `tools` node (empty when there is none)."""
    node = getattr(graph, "nodes", {}).get("tools")
    tools = getattr(getattr(node, "bound", None), "tools_by_name", None)
    return dict(tools) if isinstance(tools, Mapping) else {}


def _subagents(graph: Any) -> Mapping[str, Any]:
    task = tools_of(graph).get("task")
    func = getattr(task, "func", None)
    closure = getattr(func, "__closure__", None) or ()
    names = getattr(getattr(func, "__code__", None), "co_freevars", ())
    for name, cell in zip(names, closure, strict=False):
        if name == "subagent_graphs" and isinstance(cell.cell_contents, Mapping):
            return dict(cell.cell_contents)
    return {}


def all_tools(graph: Any) -> dict[str, Any]:
    """The tools of the graph and of every reachable subagent, by name."""
    found: dict[str, Any] = {}
    for subgraph in _subagents(graph).values():
        if subgraph is not graph:
            found.update(all_tools(subgraph))
    found.update(tools_of(graph))
    return found


def agents_of(graph: Any, agent: str | None = None) -> Iterator[AgentGates]:
    """Every agent in `graph`, the graph itself first; one without a HITL middleware (e.g. a
    deepagents subagent with `interrupt_on={}`) has mode None and no gates."""
    from langchain.agents.middleware import HumanInTheLoopMiddleware

    every = middlewares_of(graph)
    found = [m for m in every if isinstance(m, HumanInTheLoopMiddleware)]
    configs: dict[str, Any] = {}
    for middleware in found:
        configs.update(getattr(middleware, "interrupt_on", None) or {})
    gates = {tool: tuple(config.get("allowed_decisions") or ()) for tool, config in configs.items()}
    mode = str(getattr(found[0], "interrupt_mode", "batched")) if found else None
    conditional = frozenset(tool for tool, cfg in configs.items() if cfg.get("when") is not None)
    tools = tuple(sorted(tools_of(graph)))
    names = tuple(type(m).__name__ for m in every)
    yield AgentGates(agent, mode, gates, conditional, tools, names)
    for name, subgraph in _subagents(graph).items():
        if subgraph is not graph:
            yield from agents_of(subgraph, name)


def gates_by_agent(graph: Any) -> dict[str | None, AgentGates]:
    """Each agent's own gates: None for the graph itself, a subagent's name for a subagent
    (no gates when it has no HITL middleware, e.g. deepagents' `interrupt_on={}`)."""
    return {found.agent: found for found in agents_of(graph)}


def gates_of(graph: Any) -> dict[str, tuple[str, ...]]:
    """Tool name -> allowed decision types, over the graph and every reachable subagent."""
    merged: dict[str, tuple[str, ...]] = {}
    for found in agents_of(graph):
        for tool, allowed in found.gates.items():
            merged[tool] = tuple(dict.fromkeys((*merged.get(tool, ()), *allowed)))
    return merged


@dataclass(frozen=True)
class GraphTools:
    """The tools hitl-sim can find in a compiled graph before it runs (`graph_tools(graph)`)."""

    tools: Mapping[str, Any]
    """Every tool found, by name: the graph's and its subgraphs' `ToolNode`s, deep agents'
    subagents, and agents or tools a tool's own code refers to."""
    complete: bool
    """True when these are all the tools the graph can run: every node is agent machinery
    (`create_agent` / `create_react_agent` nodes, middleware hooks, `ToolNode`s) or a subgraph
    that is complete itself, and no tool builds an agent at run time. False for a hand-written
    node (it may call any function or agent), a graph hitl-sim cannot read, or a tool whose code
    calls an agent builder."""


_AGENT_MODULES = ("langchain.agents.", "langgraph.prebuilt.")
"""Where the nodes `create_agent` and `create_react_agent` add are defined."""
_LIBRARIES = ("langchain", "langgraph", "deepagents", "pydantic")
_BUILDERS = frozenset(
    {"create_agent", "create_deep_agent", "create_react_agent", "StateGraph", "entrypoint"}
)
"""The library functions and classes that build a graph: a tool that calls one may make an
agent at run time, and run tools no graph shows before it runs."""
_REFERENCE_DEPTH = 3
"""How deep `_refer` follows the project's own functions a tool calls."""
_MAX_ITEMS = 1000
"""How many values of a referenced mapping or sequence `_items` looks at."""


def graph_tools(graph: Any) -> GraphTools:
    """The tools of `graph` and of every graph it contains or its tools refer to, and whether
    those are all of them (`GraphTools.complete`)."""
    tools: dict[str, Any] = {}
    complete = _walk(graph, tools, set())
    return GraphTools(tools, complete)


def _is_graph(value: Any) -> bool:
    from langgraph.pregel import Pregel

    return isinstance(value, Pregel)


def _walk(graph: Any, tools: dict[str, Any], seen: set[int]) -> bool:
    """Add `graph`'s tools to `tools`; whether the graph can run no other tool."""
    if id(graph) in seen:
        return True
    seen.add(id(graph))
    nodes = getattr(graph, "nodes", None) if _is_graph(graph) else None
    if not isinstance(nodes, Mapping):
        return False  # an app's wrapper, a plain runnable: nothing to read
    complete = True
    for name, node in nodes.items():
        if name == "__start__":
            continue
        bound = getattr(node, "bound", None)
        if _is_graph(bound):
            complete = _walk(bound, tools, seen) and complete
            continue
        found = getattr(bound, "tools_by_name", None)
        if isinstance(found, Mapping):
            for tool in found.values():
                complete = _add_tool(tool, tools, seen) and complete
            continue
        func = getattr(bound, "func", None) or getattr(bound, "afunc", None)
        if _is_agent_machinery(func):
            continue
        _refer(func, tools, seen, _REFERENCE_DEPTH)  # its tools are known, not all of them
        complete = False
    return complete


def _is_agent_machinery(func: Any) -> bool:
    from langchain.agents.middleware import AgentMiddleware

    if isinstance(getattr(func, "__self__", None), AgentMiddleware):
        return True
    module = getattr(func, "__module__", None) or ""
    return module.startswith(_AGENT_MODULES)


def _add_tool(tool: Any, tools: dict[str, Any], seen: set[int]) -> bool:
    name = getattr(tool, "name", None)
    if isinstance(name, str):
        tools.setdefault(name, tool)
    complete = True
    for func in (getattr(tool, "func", None), getattr(tool, "coroutine", None)):
        if func is not None:
            complete = _refer(func, tools, seen, _REFERENCE_DEPTH) and complete
    return complete


def _refer(func: Any, tools: dict[str, Any], seen: set[int], depth: int) -> bool:
    """Add the tools of the graphs and tools `func`'s code refers to (closure cells, and the
    globals its code names, following the project's own functions `depth` deep); False when it
    refers to a graph builder (it may make an agent, and run its tools, at run time)."""
    if depth <= 0 or not callable(func) or id(func) in seen:
        return True
    seen.add(id(func))
    library = (getattr(func, "__module__", None) or "").startswith(_LIBRARIES)
    complete = True
    for value in _referenced(func, library):
        for item in _items(value):
            if _is_graph(item):
                complete = _walk(item, tools, seen) and complete
            elif _is_tool(item):
                complete = _add_tool(item, tools, seen) and complete
            elif library:
                continue
            elif _is_builder(item):
                complete = False
            elif inspect.isfunction(item) or inspect.ismethod(item):
                complete = _refer(item, tools, seen, depth - 1) and complete
    return complete


def _referenced(func: Any, library: bool) -> Iterator[Any]:
    """The values `func` can reach by name: its closure cells, and (for the project's own code,
    not a library's) the module globals its code and nested code name."""
    func = getattr(func, "__func__", func)
    for cell in getattr(func, "__closure__", None) or ():
        with contextlib.suppress(ValueError):  # an empty cell
            yield cell.cell_contents
    code = getattr(func, "__code__", None)
    scope = getattr(func, "__globals__", None)
    if library or code is None or not isinstance(scope, Mapping):
        return
    todo = [code]
    while todo:
        current = todo.pop()
        for name in current.co_names:
            if name in scope:
                yield scope[name]
        todo.extend(c for c in current.co_consts if inspect.iscode(c))


def _items(value: Any) -> Iterator[Any]:
    """`value`, or the values of a mapping or sequence of them (deepagents keeps its subagents
    in a dict)."""
    if isinstance(value, Mapping):
        yield from itertools.islice(value.values(), _MAX_ITEMS)
    elif isinstance(value, list | tuple | set | frozenset):
        yield from itertools.islice(value, _MAX_ITEMS)
    else:
        yield value


def _is_tool(value: Any) -> bool:
    from langchain_core.tools import BaseTool

    return isinstance(value, BaseTool)


def _is_builder(value: Any) -> bool:
    if not (inspect.isfunction(value) or inspect.isclass(value)):
        return False
    module = getattr(value, "__module__", None) or ""
    return value.__name__ in _BUILDERS and module.startswith(_LIBRARIES)
