"""`Call`: one tool call, the same value wherever it appears (a scripted model turn, an oracle
plan, a Hypothesis strategy's draw). Build it with `hitl_sim.call(name, **args)`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hitl_sim.errors import InvalidArgument


@dataclass(frozen=True)
class Call:
    """A tool call: its tool's name, its arguments, and its id (None: the scripted model's next
    deterministic id, `call_1`, `call_2`, ...)."""

    name: str
    args: Mapping[str, Any]
    id: str | None = None

    def with_id(self, id: str) -> Call:
        """The same call, emitted with this exact tool-call id."""
        return replace(self, id=id)

    @classmethod
    def of(cls, value: Any) -> Call:
        """Read a call from a `ToolCall` dict, a `Call`, or any object with name/args/id."""
        if isinstance(value, Call):
            return value
        if isinstance(value, Mapping):
            return cls(value["name"], dict(value.get("args") or {}), value.get("id"))
        try:
            return cls(value.name, dict(value.args or {}), value.id)
        except AttributeError:
            raise InvalidArgument(
                f"{value!r} is not a tool call. Expected a dict with 'name', 'args' and 'id' "
                "(a LangChain ToolCall) or an object with those attributes."
            ) from None

    def __repr__(self) -> str:
        args = "".join(f", {key}={value!r}" for key, value in self.args.items())
        made = f"call({self.name!r}{args})"
        return made if self.id is None else f"{made}.with_id({self.id!r})"


__all__ = ["Call"]
