"""Scenario file texts shared by the scenario, CLI and plugin-collection tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

EMAIL_AGENT_AND_MODEL = """\
agent:
  kind: create_agent
  tools:
    send_email:
      args: {to: str, body: str}
      returns: "sent to {to}"
  interrupt_on:
    send_email: true
model:
  - call: {send_email: {to: bob@example.com, body: hi}}
  - say: Sent.
"""

# The agent and its script, no reviewer and no expectations: each test adds its own.
EMAIL_AGENT = "description: Approve an email.\n" + EMAIL_AGENT_AND_MODEL

# A whole passing scenario file, tagged `smoke`.
APPROVED = (
    "description: The reviewer approves the email.\ntags: [smoke]\n"
    + EMAIL_AGENT_AND_MODEL
    + "reviewer: [approve]\nexpect:\n  executed: [send_email]\n"
)


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    """A scenario file `name` in `tmp_path` holding `text` (dedented)."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path
