"""Which tools an agent puts to a human: read from its own `HumanInTheLoopMiddleware`.

`gates_of(graph)` finds every middleware instance behind the compiled graph's nodes (a
`create_agent` hook node runs a bound method of its middleware) and returns the normalized
`interrupt_on` (tool -> allowed decision types) of those that are `HumanInTheLoopMiddleware`
instances, subclasses and renamed ones included. Deep agents' subagents are reached through the
`task` tool and their gates are merged in (a subagent's own `interrupt_on` replaces its
parent's, per deepagents).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
