"""hitl-sim: test and simulate human-in-the-loop approval flows.

The top level holds what every test uses; everything else comes from its subpackage
(`hitl_sim.durability`, `hitl_sim.scenarios`, `hitl_sim.reporting`, ...; see the README's
"Layout"). Names are imported lazily (PEP 562), so `import hitl_sim` (and the pytest plugin, which
pytest loads in every session) does not import langgraph or langchain until a name is used.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from hitl_sim.errors import (
    CheckFailed,
    HitlSimError,
    ScriptExhausted,
    ThreadError,
    UnexpectedInterrupt,
)

try:
    __version__ = version("hitl-sim")
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

if TYPE_CHECKING:  # the lazy names, for type checkers (tests/test_package.py keeps it in step)
    from hitl_sim.checking.violation import Violation as Violation
    from hitl_sim.decisions import answer as answer
    from hitl_sim.decisions import approve as approve
    from hitl_sim.decisions import edit as edit
    from hitl_sim.decisions import reject as reject
    from hitl_sim.decisions import respond as respond
    from hitl_sim.decisions import unchecked as unchecked
    from hitl_sim.decisions import update as update
    from hitl_sim.driving.api import arecover as arecover
    from hitl_sim.driving.api import aresume as aresume
    from hitl_sim.driving.api import asimulate as asimulate
    from hitl_sim.driving.api import recover as recover
    from hitl_sim.driving.api import resume as resume
    from hitl_sim.driving.api import simulate as simulate
    from hitl_sim.driving.capture import Spy as Spy
    from hitl_sim.harness import HitlSim as HitlSim
    from hitl_sim.models.chat import FunctionChatModel as FunctionChatModel
    from hitl_sim.models.chat import ScriptedChatModel as ScriptedChatModel
    from hitl_sim.models.chat import call as call
    from hitl_sim.models.chat import say as say
    from hitl_sim.models.override import block_real_models as block_real_models
    from hitl_sim.models.override import override_models as override_models
    from hitl_sim.reviewing.reviewer import Reviewer as Reviewer
    from hitl_sim.reviewing.reviewer import when as when
    from hitl_sim.run import Run as Run

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "simulate": "hitl_sim.driving.api",
    "asimulate": "hitl_sim.driving.api",
    "resume": "hitl_sim.driving.api",
    "aresume": "hitl_sim.driving.api",
    "recover": "hitl_sim.driving.api",
    "arecover": "hitl_sim.driving.api",
    "Run": "hitl_sim.run",
    "Reviewer": "hitl_sim.reviewing.reviewer",
    "when": "hitl_sim.reviewing.reviewer",
    "approve": "hitl_sim.decisions",
    "edit": "hitl_sim.decisions",
    "reject": "hitl_sim.decisions",
    "respond": "hitl_sim.decisions",
    "answer": "hitl_sim.decisions",
    "update": "hitl_sim.decisions",
    "unchecked": "hitl_sim.decisions",
    "ScriptedChatModel": "hitl_sim.models.chat",
    "FunctionChatModel": "hitl_sim.models.chat",
    "call": "hitl_sim.models.chat",
    "say": "hitl_sim.models.chat",
    "override_models": "hitl_sim.models.override",
    "block_real_models": "hitl_sim.models.override",
    "Spy": "hitl_sim.driving.capture",
    "HitlSim": "hitl_sim.harness",
    "Violation": "hitl_sim.checking.violation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(
            f"module 'hitl_sim' has no attribute {name!r}. The top level holds what every test "
            "uses; other names come from their subpackage (see the README's Layout section, or "
            "docs/api.md)."
        )
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CheckFailed",
    "HitlSimError",
    "ScriptExhausted",
    "ThreadError",
    "UnexpectedInterrupt",
    "__version__",
    *_LAZY,
]
