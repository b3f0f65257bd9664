"""The agents the property suite fuzzes: built once per session, reused by every example."""

from __future__ import annotations

from langchain_core.tools import tool

from hitl_sim.fuzzing.bench import FuzzAgent
from tests.agents import delete_file, send_email


@tool
def read_file(path: str) -> str:
    """Read a file (returns nothing: edits of it get a notice without 'Tool response:')."""
    return ""


@tool
def transfer(amount: int, to: str, memo: str = "") -> str:
    """Move money."""
    return f"moved {amount} to {to}{' ' + memo if memo else ''}"


TOOLS = [send_email, delete_file, read_file, transfer]


def _under_etc(request: object) -> bool:
    return str(request.tool_call["args"].get("path", "")).startswith("/etc")  # type: ignore[attr-defined]


INTERRUPT_ON = {
    "send_email": True,
    "delete_file": {"allowed_decisions": ["approve", "reject"], "when": _under_etc},
    "transfer": {"allowed_decisions": ["approve", "edit", "reject"]},
}

BATCHED = FuzzAgent(TOOLS, INTERRUPT_ON, interrupt_mode="batched")
PER_CALL = FuzzAgent(TOOLS, INTERRUPT_ON, interrupt_mode="per_call")
DEEP = FuzzAgent([send_email, delete_file, transfer], INTERRUPT_ON, agent="deep_agent")
"""deepagents' main agent (its own `read_file` built-in would clash with ours: left out)."""
