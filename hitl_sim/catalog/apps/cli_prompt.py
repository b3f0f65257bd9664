"""The seeds' command-line approval prompt (`[a]pprove / [e]dit / [r]eject`, JSON edits typed by
hand), a correct version and broken twins, each turning the interrupt value into the resume value.
"""

from __future__ import annotations

import json
from typing import Any


def get_user_decision(request: dict[str, Any]) -> dict[str, Any]:
    """Correct: shows each call and its arguments, offers every choice, rejects on anything else."""
    decisions: list[dict[str, Any]] = []
    for action in request["action_requests"]:
        print(f"Tool: {action['name']}")
        print(f"Args: {json.dumps(action['args'])}")
        choice = input("[a]pprove / [e]dit / [r]eject: ").strip().lower()
        if choice == "a":
            decisions.append({"type": "approve"})
        elif choice == "e":
            args = json.loads(input("Enter new args (JSON): "))
            decisions.append(
                {"type": "edit", "edited_action": {"name": action["name"], "args": args}}
            )
        else:
            decisions.append({"type": "reject", "message": input("Reason: ")})
    return {"decisions": decisions}


def hides_args(request: dict[str, Any]) -> dict[str, Any]:
    """Broken: the prompt shows the tool but not its arguments."""
    decisions: list[dict[str, Any]] = []
    for action in request["action_requests"]:
        print(f"Tool: {action['name']}")
        choice = input("[a]pprove / [e]dit / [r]eject: ")
        decisions.append({"type": "approve"} if choice == "a" else {"type": "reject"})
    return {"decisions": decisions}


def hides_choices(request: dict[str, Any]) -> dict[str, Any]:
    """Broken: asks only 'Approve? (y/n)' although edit is allowed too."""
    decisions: list[dict[str, Any]] = []
    for action in request["action_requests"]:
        print(f"Tool: {action['name']} Args: {action['args']}")
        yes = input("Approve? (y/n): ") == "y"
        decisions.append({"type": "approve" if yes else "reject"})
    return {"decisions": decisions}


def seed_shape(request: dict[str, Any]) -> dict[str, Any]:
    """Broken, as in the seed: resumes with its own `{"decision": ...}` shape."""
    action = request["action_requests"][0]
    print(f"Tool: {action['name']}")
    print(f"Args: {action['args']}")
    choice = input("[a]pprove / [e]dit / [r]eject: ")
    if choice == "a":
        return {"decision": "approve"}
    return {"decision": "reject", "reason": input("Reason: ")}


def yes_no(request: dict[str, Any]) -> dict[str, Any]:
    """Broken, as in the seeds' `approved = input("Approve this action? (y/n): ") == "y"`: one
    decision for the whole interrupt, however many calls it reviews."""
    print("Interrupt detected:")
    print(request)
    approved = input("Approve this action? (y/n): ") == "y"
    return {"decisions": [{"type": "approve" if approved else "reject"}]}
