"""The seeds' confirmation dialog (`ConfirmationLevel` INFO / CONFIRM / VERIFY) guarding the
tools of an agent, a correct version and the broken twins selected by `BUGS`:

- ``loose_verify``: the VERIFY phrase compared stripped and case-insensitively;
- ``prefix_verify``: any answer starting like the phrase is accepted;
- ``empty_yes``: CONFIRM takes an empty answer (just Enter) as yes;
- ``info_delete``: deletion asks at level INFO (it only notifies);
- ``terse_verify``: the VERIFY prompt shows neither the details nor the phrase to type.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from hitl_sim import ScriptedChatModel

KNOWN_BUGS = ("loose_verify", "prefix_verify", "empty_yes", "info_delete", "terse_verify")
BUGS: set[str] = set()
DONE: list[str] = []


class ConfirmationLevel(str, Enum):  # noqa: UP042 (as in the seed)
    INFO = "info"  # Just notify
    CONFIRM = "confirm"  # Simple yes/no
    VERIFY = "verify"  # Require typing confirmation


class ConfirmationRequest(BaseModel):
    action: str
    level: ConfirmationLevel
    details: dict[str, Any]
    verification_phrase: str | None = None


def request_confirmation(request: ConfirmationRequest, bugs: Collection[str] | None = None) -> bool:
    """Request user confirmation based on level (`bugs`: the broken twins; default `BUGS`)."""
    bugs = BUGS if bugs is None else bugs
    if request.level == ConfirmationLevel.INFO:
        print(f"[INFO] {request.action}")
        return True
    if request.level == ConfirmationLevel.CONFIRM:
        print(f"[CONFIRM] {request.action}")
        print(f"Details: {request.details}")
        response = input("Proceed? (y/n): ")
        if "empty_yes" in bugs:
            return response.lower() in ("y", "yes", "")
        return response.strip().lower() in ("y", "yes")
    if "terse_verify" in bugs:
        print("[VERIFY] Type the confirmation phrase:")
    else:
        print(f"[VERIFY] {request.action}")
        print(f"Details: {request.details}")
        print(f"Type '{request.verification_phrase}' to confirm:")
    response = input("> ")
    phrase = request.verification_phrase or ""
    if "loose_verify" in bugs:
        return response.strip().lower() == phrase.lower()
    if "prefix_verify" in bugs:
        return bool(response) and phrase.startswith(response)
    return response == phrase


def perform_deletion(resource_id: str) -> None:
    DONE.append(f"deleted {resource_id}")


def restart_service(name: str) -> None:
    DONE.append(f"restarted {name}")


def tools(bugs: Collection[str] | None = None) -> list[BaseTool]:
    """delete_resource (VERIFY), restart (CONFIRM) and send_email, with the broken twins in
    `bugs` (default: whatever `BUGS` holds when a tool runs). The guarded actions are looked up
    in this module when they run, so a test can wrap them (`Confirmations.guard`)."""

    @tool
    def delete_resource(resource_id: str) -> str:
        """Delete a resource."""
        chosen = BUGS if bugs is None else bugs
        level = ConfirmationLevel.INFO if "info_delete" in chosen else ConfirmationLevel.VERIFY
        confirmed = request_confirmation(
            ConfirmationRequest(
                action=f"Delete resource {resource_id}",
                level=level,
                details={"resource_id": resource_id, "type": "database"},
                verification_phrase=f"DELETE {resource_id}",
            ),
            bugs,
        )
        if confirmed:
            perform_deletion(resource_id)
            return f"deleted {resource_id}"
        return "cancelled by the user"

    @tool
    def restart(name: str) -> str:
        """Restart a service."""
        confirmed = request_confirmation(
            ConfirmationRequest(
                action=f"Restart {name}", level=ConfirmationLevel.CONFIRM, details={"name": name}
            ),
            bugs,
        )
        if confirmed:
            restart_service(name)
            return f"restarted {name}"
        return "cancelled by the user"

    @tool
    def send_email(to: str, body: str) -> str:
        """Send an email."""
        return f"sent to {to}"

    return [delete_resource, restart, send_email]


def agent(turns: list[Any]) -> Any:
    """Deletion and restarts confirm in the terminal; email goes through HITL review."""
    return confirm_agent(ScriptedChatModel(turns), InMemorySaver())


def confirm_agent(model: Any, checkpointer: Any, bugs: Collection[str] | None = None) -> Any:
    """The agent of `agent()` on a given model and checkpointer, with the broken twins in `bugs`
    (a scenario file's `agent: {kind: factory, options: {bugs: [loose_verify]}}`)."""
    unknown = sorted(set(bugs or ()) - set(KNOWN_BUGS))
    if unknown:
        raise ValueError(f"unknown bugs {unknown}; known: {', '.join(KNOWN_BUGS)}")
    return create_agent(
        model,
        tools=tools(None if bugs is None else frozenset(bugs)),
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"send_email": True})],
        checkpointer=checkpointer,
    )
