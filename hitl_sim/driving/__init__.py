"""The driver: runs any compiled graph to completion, answering every interrupt.

Owns `simulate` / `asimulate`, `resume` / `aresume`, `recover` / `arecover` (`api`), the LangChain
callbacks that record what really executed (`capture`, with `Spy`), the frozen clock (`clock`),
reading the HITL gates off a compiled graph (`gates`), the run context (`context`) and policy
blocks (`policy`). It may import the records, `hitl_sim.models` and `hitl_sim.reviewing`; it
never imports the checks or the reports (they read the `Run` it returns).
"""

from __future__ import annotations

from hitl_sim.driving.api import arecover, aresume, asimulate, recover, resume, simulate
from hitl_sim.driving.capture import Spy
from hitl_sim.driving.gates import gates_of

__all__ = [
    "Spy",
    "arecover",
    "aresume",
    "asimulate",
    "gates_of",
    "recover",
    "resume",
    "simulate",
]
