"""Fake decision models: scripted answers for the tool-risk policy of langchain 1.5, offline.

langchain 1.5 adds `AutoModeMiddleware`, which asks a decision model
(`langchain_core.decisions.BaseDecisionModel`, langchain-core 1.8) whether each call of a listed
tool is risky, and blocks the call (an error `ToolMessage`, the tool never runs) when the answer's
probability is 0.5 or more. `ScriptedDecisionModel([allow(), block("reason"), ...])` answers each
classification with the next scripted verdict, records what it was asked in `.requests`, and
raises `ScriptExhausted` instead of cycling; `FunctionDecisionModel(fn)` computes each verdict.

This module imports on any langchain-core; building a model needs `langchain_core.decisions`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import PrivateAttr

from hitl_sim.errors import InvalidArgument, ScenarioError, ScriptExhausted, UnusedScript
from hitl_sim.run import POLICY_NOTES

if TYPE_CHECKING:
    from langchain_core.decisions import BaseDecisionModel as _Base
    from langchain_core.decisions import ClassifierResponse, Question, State
    from langchain_core.messages import BaseMessage
else:
    try:
        from langchain_core.decisions import BaseDecisionModel as _Base
    except ImportError:  # langchain-core < 1.8 has no decision models

        class _Base:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                raise ImportError(_NEEDS_DECISIONS.format(name=type(self).__name__))


_NEEDS_DECISIONS = (
    "{name} needs langchain_core.decisions (langchain-core >= 1.8, used by langchain 1.5's "
    "AutoModeMiddleware), and the installed langchain-core has none. Fix: "
    "pip install 'langchain>=1.5' 'langchain-core>=1.8'."
)
_THRESHOLD = 0.5
"""AutoModeMiddleware blocks a call whose risk probability is at or above this."""


@dataclass(frozen=True)
class Verdict:
    """A scripted answer to a yes/no (`Noul`) question such as AutoMode's "is this call risky?".
    Build it with `block(...)` or `allow(...)`."""

    blocked: bool
    reason: str | None = None
    """Why, for the test's record (`run.blocked`, the timeline); AutoMode's ToolMessage carries
    only the probability, so the agent never sees it."""
    probability: float = 1.0
    """The probability sent back (`NoulAnswer.noul`)."""

    def __repr__(self) -> str:
        word, default = ("block", 1.0) if self.blocked else ("allow", 0.0)
        shown = [repr(self.reason)] if self.reason is not None else []
        if self.probability != default:
            shown.append(f"probability={self.probability}")
        return f"{word}({', '.join(shown)})"


def block(reason: str | None = None, *, probability: float = 1.0) -> Verdict:
    """The policy refuses this call: the decision model answers `probability` (>= 0.5)."""
    _check_probability("block", reason, probability, _THRESHOLD, 1.0)
    return Verdict(True, reason, float(probability))


def allow(reason: str | None = None, *, probability: float = 0.0) -> Verdict:
    """The policy lets this call run: the decision model answers `probability` (< 0.5)."""
    _check_probability("allow", reason, probability, 0.0, _THRESHOLD)
    return Verdict(False, reason, float(probability))


def _check_probability(word: str, reason: Any, probability: Any, low: float, high: float) -> None:
    if reason is not None and not isinstance(reason, str):
        raise InvalidArgument(f"{word}() takes the reason as a str, got {reason!r}.")
    if _is_probability(probability) and (
        low <= probability <= high if word == "block" else low <= probability < high
    ):
        return
    limits = f"{low} <= probability {'<=' if word == 'block' else '<'} {high}"
    raise InvalidArgument(
        f"{word}(probability={probability!r}) is outside {limits}: AutoModeMiddleware blocks a "
        f"call at probability {_THRESHOLD} or more. Use block(...) for a refusal and allow(...) "
        "for a pass."
    )


DecisionTurn: TypeAlias = "Verdict | float | Mapping[str, Any] | ClassifierResponse"
"""One scripted answer: a `Verdict` or a probability for a request with one `Noul` question
(AutoMode's), a mapping from question id to answer (a probability or `Verdict` for a `Noul`, a
label for a `Choice`, a level for a `Score`, or an `Answer` model), or a `ClassifierResponse`
sent as is."""


@dataclass(frozen=True)
class DecisionRequest:
    """One classification a fake decision model was asked for, and what it answered."""

    turn: int
    """1-based count of this model's classifications."""
    state: Any
    """The state sent (AutoMode: `messages`, `tool_call`, `tool_description`)."""
    questions: Mapping[str, Any]
    """The questions, by id (AutoMode asks one `Noul`, `'is_risky'`)."""
    agent: str | None = None
    """`lc_agent_name` of the calling agent, when known."""
    scripted: Any = None
    """The scripted answer used (None when the model raised instead of answering)."""
    response: ClassifierResponse | None = None

    @property
    def tool_call(self) -> Mapping[str, Any] | None:
        """The tool call under classification (`state["tool_call"]`: name, args, id)."""
        found = self.state.get("tool_call") if isinstance(self.state, Mapping) else None
        return found if isinstance(found, Mapping) else None

    @property
    def messages(self) -> tuple[BaseMessage, ...]:
        """The conversation sent with it (`state["messages"]`; AutoMode sends the last 30)."""
        found = self.state.get("messages") if isinstance(self.state, Mapping) else None
        return tuple(found) if isinstance(found, Sequence) else ()

    def describe(self) -> str:
        """What was asked: the tool call (AutoMode), else the question ids."""
        call = self.tool_call
        if call is not None:
            return _call_text(call)
        return "questions " + ", ".join(map(repr, self.questions))


class _FakeDecisionModel(_Base):
    """Shared machinery: the request log, answers built from verdicts, the run record."""

    model: str = "hitl-sim-decisions"

    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)
    _requests: list[DecisionRequest] = PrivateAttr(default_factory=list)

    @property
    def _provider(self) -> str:
        return "hitl-sim"

    @property
    def requests(self) -> list[DecisionRequest]:
        """Every classification asked of this model, in order."""
        with self._lock:
            return list(self._requests)

    def _next(self, request: DecisionRequest) -> Any:
        raise NotImplementedError

    def _classify(self, state: State, questions: dict[str, Question]) -> ClassifierResponse:
        from langchain_core.runnables import ensure_config

        name = ensure_config().get("metadata", {}).get("lc_agent_name")
        agent = str(name) if name is not None else None
        with self._lock:
            request = DecisionRequest(len(self._requests) + 1, state, dict(questions), agent)
            self._requests.append(request)
            scripted = self._next(request)
            label = f"{type(self).__name__} decision {request.turn} ({request.describe()})"
            response = _response_of(scripted, request, self.model, label)
            self._requests[request.turn - 1] = replace(
                request, scripted=scripted, response=response
            )
        _note_for_run(request, scripted)
        return response

    async def _aclassify(self, state: State, questions: dict[str, Question]) -> ClassifierResponse:
        return self._classify(state, questions)


class ScriptedDecisionModel(_FakeDecisionModel):
    """A decision model that answers with scripted verdicts, in order, and never cycles.

    `decisions` is a list of `block(reason)` / `allow()` (or any `DecisionTurn`), one per
    classification: `AutoModeMiddleware` asks once per call of each tool it guards, right before
    the tool would run (after any human approval).
    """

    _script: list[Any] = PrivateAttr(default_factory=list)
    _used: int = PrivateAttr(default=0)

    def __init__(self, decisions: Sequence[DecisionTurn], /, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(decisions, str | bytes | Mapping) or not isinstance(decisions, Sequence):
            raise InvalidArgument(
                f"ScriptedDecisionModel needs a list of decisions, got {decisions!r}.\n"
                "Pass e.g. [allow(), block('Deletes outside /tmp')]."
            )
        self._script = list(decisions)
        for index, turn in enumerate(self._script, start=1):
            _check_turn(turn, f"ScriptedDecisionModel decision {index}")

    @property
    def remaining(self) -> list[Any]:
        """The scripted decisions nobody asked for yet."""
        with self._lock:
            return self._script[self._used :]

    def assert_consumed(self) -> None:
        """Raise `UnusedScript` if any scripted decision was never asked for."""
        left = self.remaining
        if not left:
            return
        first = len(self._script) - len(left) + 1
        lines = [f"- decision {first + i}: {turn!r}" for i, turn in enumerate(left)]
        raise UnusedScript(
            f"ScriptedDecisionModel has {_count(len(left), 'scripted decision')} nobody asked "
            "for:\n" + "\n".join(lines) + "\nRemove them from the script, or find out why the "
            "policy classified fewer tool calls (a call the reviewer rejected never reaches it)."
        )

    def _next(self, request: DecisionRequest) -> Any:
        if self._used >= len(self._script):
            asked = list(self._requests[:-1])
            consumed = "\n".join(
                f"- decision {r.turn}, {r.describe()}: {r.scripted!r}" for r in asked
            )
            error = ScriptExhausted(
                f"ScriptedDecisionModel ran out of decisions: it was asked for decision "
                f"{request.turn}, about {request.describe()}, but the script has "
                f"{_count(len(self._script), 'decision')}.\n"
                + (f"Consumed before it:\n{consumed}\n" if consumed else "")
                + "Add a decision for it (block('reason') or allow()), or find out why the "
                "policy was asked again."
            )
            error.consumed = [r.scripted for r in asked]
            raise error
        self._used += 1
        return self._script[self._used - 1]


class FunctionDecisionModel(_FakeDecisionModel):
    """A decision model whose every answer comes from `fn(request)`.

    `fn` gets the `DecisionRequest` (`.tool_call`, `.messages`, `.questions`, `.turn`) and
    returns a `DecisionTurn`, e.g. `block("outside /tmp") if ... else allow()`.
    """

    _fn: Callable[[DecisionRequest], DecisionTurn] = PrivateAttr()

    def __init__(self, fn: Callable[[DecisionRequest], DecisionTurn], /, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(fn):
            raise InvalidArgument(
                f"FunctionDecisionModel needs a function (request) -> decision, got {fn!r}."
            )
        self._fn = fn

    def _next(self, request: DecisionRequest) -> Any:
        turn = self._fn(request)
        _check_turn(turn, f"FunctionDecisionModel decision {request.turn}")
        return turn


# --- answers -------------------------------------------------------------------------------


def _check_turn(turn: Any, label: str) -> None:
    if isinstance(turn, Verdict | Mapping) or _is_probability(turn):
        return
    if type(turn).__name__ == "ClassifierResponse":
        return
    raise InvalidArgument(
        f"{label} is {turn!r}: a decision is block('reason'), allow(), a probability between 0 "
        "and 1, a mapping from question id to answer, or a ClassifierResponse."
    )


def _is_probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _response_of(
    scripted: Any, request: DecisionRequest, model: str, label: str
) -> ClassifierResponse:
    from langchain_core.decisions import ClassifierResponse

    if isinstance(scripted, ClassifierResponse):
        return scripted.model_copy(deep=True)
    questions = request.questions
    if not isinstance(scripted, Mapping):
        nouls = [key for key, question in questions.items() if _kind(question) == "noul"]
        if len(nouls) != 1 or len(questions) != 1:
            asked = ", ".join(f"{key!r} ({_kind(q)})" for key, q in questions.items())
            raise ScenarioError(
                f"{label}: scripted {scripted!r} answers one yes/no (Noul) question, but the "
                f"request asks {asked or 'nothing'}.\n"
                "Script a mapping from question id to answer for it, e.g. "
                + "{"
                + ", ".join(f"{key!r}: ..." for key in questions)
                + "}."
            )
        scripted = {nouls[0]: scripted}
    missing = [key for key in questions if key not in scripted]
    extra = [key for key in scripted if key not in questions]
    if missing or extra:
        raise ScenarioError(
            f"{label}: the scripted answers are for {sorted(map(str, scripted))}, but the request "
            f"asks {sorted(questions)}.\n"
            "Script exactly one answer per question id."
        )
    answers = {
        key: _answer(questions[key], scripted[key], f"{label}, {key!r}") for key in questions
    }
    return ClassifierResponse(model=model, answers=answers)


def _kind(question: Any) -> str:
    return str(getattr(question, "type", type(question).__name__))


def _answer(question: Any, value: Any, label: str) -> Any:
    from langchain_core.decisions import ChoiceAnswer, NoulAnswer, ScoreAnswer

    kind = _kind(question)
    if hasattr(value, "type") and not isinstance(value, Verdict):  # an Answer model, as is
        return value
    if kind == "noul":
        if isinstance(value, Verdict):
            return NoulAnswer(type="noul", noul=value.probability)
        if _is_probability(value):
            return NoulAnswer(type="noul", noul=float(value))
    elif kind == "choice" and isinstance(value, str):
        labels = list(question.criteria)
        if value not in labels:
            raise ScenarioError(
                f"{label}: {value!r} is not one of the choice's labels {labels}.\n"
                "Script one of those labels."
            )
        probabilities = {name: float(name == value) for name in labels}
        return ChoiceAnswer(
            type="choice", choice=value, probabilities=probabilities, confidence=1.0
        )
    elif kind == "score" and isinstance(value, int) and not isinstance(value, bool):
        levels = dict(enumerate(question.criteria))
        if value not in levels:
            raise ScenarioError(
                f"{label}: level {value!r} is not one of the score's levels {sorted(levels)}.\n"
                "Script one of those levels."
            )
        probabilities = {level: float(level == value) for level in levels}
        return ScoreAnswer(
            type="score",
            score=float(value),
            legend=levels,
            probabilities=probabilities,
            confidence=1.0,
        )
    wanted = {
        "noul": "block(...), allow() or a probability",
        "choice": "one of its labels",
        "score": "an int level",
    }.get(kind, "an Answer model")
    raise ScenarioError(f"{label}: a {kind} question needs {wanted}, got {value!r}.")


def _note_for_run(request: DecisionRequest, scripted: Any) -> None:
    """Tell the run being simulated what the policy was shown and the scripted reason."""
    notes = POLICY_NOTES.get()
    call = request.tool_call
    if notes is None or call is None:
        return
    reason = scripted.reason if isinstance(scripted, Verdict) else None
    notes[str(call.get("id"))] = (reason, dict(call.get("args") or {}))


def _call_text(call: Mapping[str, Any]) -> str:
    args = call.get("args") or {}
    shown = ", ".join(f"{key}={value!r}" for key, value in args.items())
    made = f"{call.get('name')}({shown})"
    return f"{made} [{call['id']}]" if call.get("id") else made


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
