"""hitl-sim: test and simulate human-in-the-loop approval flows.

Public names are imported lazily (PEP 562), so `import hitl_sim` (and the pytest plugin, which
pytest loads in every session) does not import langgraph or langchain until a name is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from hitl_sim.errors import (
    CheckFailed,
    CheckpointerUnavailable,
    HitlSimError,
    InvalidArgument,
    OracleMismatch,
    ProcessFailed,
    RealModelBlocked,
    ScenarioError,
    ScriptExhausted,
    ThreadError,
    TooManyResumes,
    UnexpectedInterrupt,
    UnknownName,
    UnusedScript,
)

if TYPE_CHECKING:  # the lazy names, for type checkers (keep in step with _LAZY)
    from hitl_sim.audit import AppAudit as AppAudit
    from hitl_sim.audit import AuditEvent as AuditEvent
    from hitl_sim.audit import AuditLog as AuditLog
    from hitl_sim.audit import AuditMismatch as AuditMismatch
    from hitl_sim.audit import capture_log as capture_log
    from hitl_sim.audit import cross_check as cross_check
    from hitl_sim.capture import Spy as Spy
    from hitl_sim.checkpointers import CheckpointStore as CheckpointStore
    from hitl_sim.checkpointers import checkpoint_store as checkpoint_store
    from hitl_sim.checkpointers import open_async_checkpointer as open_async_checkpointer
    from hitl_sim.checkpointers import open_checkpointer as open_checkpointer
    from hitl_sim.checks import Violation as Violation
    from hitl_sim.decision_models import DecisionRequest as DecisionRequest
    from hitl_sim.decision_models import FunctionDecisionModel as FunctionDecisionModel
    from hitl_sim.decision_models import ScriptedDecisionModel as ScriptedDecisionModel
    from hitl_sim.decision_models import Verdict as Verdict
    from hitl_sim.decision_models import allow as allow
    from hitl_sim.decision_models import block as block
    from hitl_sim.decisions import Decision as Decision
    from hitl_sim.decisions import answer as answer
    from hitl_sim.decisions import approve as approve
    from hitl_sim.decisions import edit as edit
    from hitl_sim.decisions import reject as reject
    from hitl_sim.decisions import respond as respond
    from hitl_sim.decisions import unchecked as unchecked
    from hitl_sim.decisions import update as update
    from hitl_sim.driver import arecover as arecover
    from hitl_sim.driver import asimulate as asimulate
    from hitl_sim.driver import recover as recover
    from hitl_sim.driver import simulate as simulate
    from hitl_sim.facade import HitlSim as HitlSim
    from hitl_sim.facade import HitlSimOptions as HitlSimOptions
    from hitl_sim.fuzzing import FuzzAgent as FuzzAgent
    from hitl_sim.fuzzing import PlannedTurn as PlannedTurn
    from hitl_sim.fuzzing import RunPlan as RunPlan
    from hitl_sim.gates import gates_of as gates_of
    from hitl_sim.interrupts import ActionRequest as ActionRequest
    from hitl_sim.interrupts import PendingInterrupt as PendingInterrupt
    from hitl_sim.model_override import block_real_models as block_real_models
    from hitl_sim.model_override import override_models as override_models
    from hitl_sim.models import ChatRequest as ChatRequest
    from hitl_sim.models import FunctionChatModel as FunctionChatModel
    from hitl_sim.models import ScriptedChatModel as ScriptedChatModel
    from hitl_sim.models import Turn as Turn
    from hitl_sim.models import TurnInfo as TurnInfo
    from hitl_sim.models import call as call
    from hitl_sim.models import say as say
    from hitl_sim.oracle import HitlConfig as HitlConfig
    from hitl_sim.restart import CrashReport as CrashReport
    from hitl_sim.restart import Ledger as Ledger
    from hitl_sim.restart import clock_for_resume as clock_for_resume
    from hitl_sim.restart import crash_during_resume as crash_during_resume
    from hitl_sim.restart import outcome_differences as outcome_differences
    from hitl_sim.restart import simulate_with_restarts as simulate_with_restarts
    from hitl_sim.reviewer import Responder as Responder
    from hitl_sim.reviewer import Reviewer as Reviewer
    from hitl_sim.reviewer import when as when
    from hitl_sim.run import DecisionRecord as DecisionRecord
    from hitl_sim.run import ModelRequest as ModelRequest
    from hitl_sim.run import PolicyBlock as PolicyBlock
    from hitl_sim.run import Run as Run
    from hitl_sim.run import RunError as RunError
    from hitl_sim.run import ToolExecution as ToolExecution
    from hitl_sim.scenario import Scenario as Scenario
    from hitl_sim.scenario import load_scenario as load_scenario
    from hitl_sim.scenario import load_scenarios as load_scenarios
    from hitl_sim.scenario_runner import ScenarioResult as ScenarioResult
    from hitl_sim.scenario_runner import run_scenario as run_scenario
    from hitl_sim.snapshots import assert_snapshot_file as assert_snapshot_file
    from hitl_sim.snapshots import run_matcher as run_matcher
    from hitl_sim.snapshots import snapshot_text as snapshot_text

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "FuzzAgent": "hitl_sim.fuzzing",
    "PlannedTurn": "hitl_sim.fuzzing",
    "RunPlan": "hitl_sim.fuzzing",
    "HitlConfig": "hitl_sim.oracle",
    "AppAudit": "hitl_sim.audit",
    "AuditEvent": "hitl_sim.audit",
    "AuditLog": "hitl_sim.audit",
    "AuditMismatch": "hitl_sim.audit",
    "capture_log": "hitl_sim.audit",
    "cross_check": "hitl_sim.audit",
    "CheckpointStore": "hitl_sim.checkpointers",
    "checkpoint_store": "hitl_sim.checkpointers",
    "open_async_checkpointer": "hitl_sim.checkpointers",
    "open_checkpointer": "hitl_sim.checkpointers",
    "CrashReport": "hitl_sim.restart",
    "Ledger": "hitl_sim.restart",
    "clock_for_resume": "hitl_sim.restart",
    "crash_during_resume": "hitl_sim.restart",
    "outcome_differences": "hitl_sim.restart",
    "simulate_with_restarts": "hitl_sim.restart",
    "Decision": "hitl_sim.decisions",
    "answer": "hitl_sim.decisions",
    "approve": "hitl_sim.decisions",
    "edit": "hitl_sim.decisions",
    "reject": "hitl_sim.decisions",
    "respond": "hitl_sim.decisions",
    "unchecked": "hitl_sim.decisions",
    "update": "hitl_sim.decisions",
    "DecisionRequest": "hitl_sim.decision_models",
    "FunctionDecisionModel": "hitl_sim.decision_models",
    "ScriptedDecisionModel": "hitl_sim.decision_models",
    "Verdict": "hitl_sim.decision_models",
    "allow": "hitl_sim.decision_models",
    "block": "hitl_sim.decision_models",
    "ActionRequest": "hitl_sim.interrupts",
    "PendingInterrupt": "hitl_sim.interrupts",
    "block_real_models": "hitl_sim.model_override",
    "override_models": "hitl_sim.model_override",
    "ChatRequest": "hitl_sim.models",
    "FunctionChatModel": "hitl_sim.models",
    "ScriptedChatModel": "hitl_sim.models",
    "Turn": "hitl_sim.models",
    "TurnInfo": "hitl_sim.models",
    "call": "hitl_sim.models",
    "say": "hitl_sim.models",
    "DecisionRecord": "hitl_sim.run",
    "ModelRequest": "hitl_sim.run",
    "PolicyBlock": "hitl_sim.run",
    "Run": "hitl_sim.run",
    "RunError": "hitl_sim.run",
    "ToolExecution": "hitl_sim.run",
    "assert_snapshot_file": "hitl_sim.snapshots",
    "run_matcher": "hitl_sim.snapshots",
    "snapshot_text": "hitl_sim.snapshots",
    "Responder": "hitl_sim.reviewer",
    "Reviewer": "hitl_sim.reviewer",
    "when": "hitl_sim.reviewer",
    "Violation": "hitl_sim.checks",
    "HitlSim": "hitl_sim.facade",
    "HitlSimOptions": "hitl_sim.facade",
    "Spy": "hitl_sim.capture",
    "arecover": "hitl_sim.driver",
    "asimulate": "hitl_sim.driver",
    "recover": "hitl_sim.driver",
    "simulate": "hitl_sim.driver",
    "gates_of": "hitl_sim.gates",
    "Scenario": "hitl_sim.scenario",
    "load_scenario": "hitl_sim.scenario",
    "load_scenarios": "hitl_sim.scenario",
    "ScenarioResult": "hitl_sim.scenario_runner",
    "run_scenario": "hitl_sim.scenario_runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hitl_sim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CheckFailed",
    "CheckpointerUnavailable",
    "HitlSimError",
    "InvalidArgument",
    "OracleMismatch",
    "ProcessFailed",
    "RealModelBlocked",
    "ScenarioError",
    "ScriptExhausted",
    "ThreadError",
    "TooManyResumes",
    "UnexpectedInterrupt",
    "UnknownName",
    "UnusedScript",
    *_LAZY,
]
