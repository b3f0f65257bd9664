"""Scripted human reviewers: who answers each interrupt, with what, and how fast.

A *responder* is anything with `decide(interrupt, run)` and `unused()`. `Reviewer` covers the
usual shapes:

- `Reviewer([approve(), reject("no")])`: answers action requests in order, one decision each
  (a batched interrupt with three action requests consumes three);
- `Reviewer.by_tool({"send_email": approve()}, default=reject())` and
  `Reviewer.rules(when("delete_file", path=lambda p: p.startswith("/etc")) >> reject("no"))`:
  decisions keyed by what they are about, so the harness builds the positional list itself;
- `Reviewer.function(fn)` (or a plain callable): `fn(action_or_interrupt[, interrupt[, run]])`;
- `Reviewer.always(decision)`, `Reviewer.unavailable()`;
- `Reviewer.chain(manager=..., director=..., vp=...)`: escalation, or sign-off by level with
  `key="level"`.

A single `Decision` given as a rule or level is a standing policy (used any number of times, never
reported unused); a list is a script that must be used up. Every reviewer takes `by=` (the default
reviewer id) and a timeout policy: `timeout=timedelta(hours=24), on_timeout=reject("Approval
timeout")` replaces any decision slower than the deadline (or escalates, in a chain).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from hitl_sim.decisions import Decision, check_span, reviewer_id
from hitl_sim.errors import InvalidArgument, ScriptExhausted, UnexpectedInterrupt

if TYPE_CHECKING:
    from hitl_sim.interrupts import ActionRequest, PendingInterrupt
    from hitl_sim.run import Run

__all__ = ["Reviewer", "Responder", "Rule", "as_responder", "when"]


class Responder(Protocol):
    """What the driver asks for answers."""

    def decide(self, interrupt: PendingInterrupt, run: Run) -> Sequence[Decision] | None:
        """One decision per action request (batched), or exactly one (per_call, raw,
        breakpoint); None when the reviewer is unavailable, which leaves the interrupt pending."""
        ...

    def unused(self) -> list[Decision]:
        """Scripted decisions nobody asked for (reported at the end of the run)."""
        ...


@dataclass(frozen=True)
class Ask:
    """One question put to a reviewer: an action request, or a whole raw interrupt/breakpoint."""

    interrupt: PendingInterrupt
    index: int
    """0-based position of the action within the interrupt (0 for raw and breakpoints)."""
    action: ActionRequest | None
    run: Run | None

    @property
    def subject(self) -> str:
        """How messages name the question: the call under review, or the raw payload."""
        where = self.interrupt.label
        if self.action is not None:
            total = len(self.interrupt.actions)
            return f"{where}, action {self.index + 1} of {total}: {self.action.describe()}"
        if self.interrupt.kind == "breakpoint":
            return where
        return f"{where} with payload {self.interrupt.value!r}"

    @property
    def fields(self) -> Mapping[str, Any]:
        """What `when(...)` matchers and chain keys look at: the call's arguments, or the raw
        payload when it is a mapping."""
        if self.action is not None:
            return self.action.args
        value = self.interrupt.value
        return value if isinstance(value, Mapping) else {}


class _OutOfDecisions(Exception):
    """A scripted list ran out (turned into `ScriptExhausted` with the context)."""


class _NoRule(Exception):
    """No rule matched (turned into `UnexpectedInterrupt` with the context)."""

    def __init__(self, candidates: list[str], fix: str) -> None:
        super().__init__(candidates, fix)
        self.candidates = candidates
        self.fix = fix


class _Source(Protocol):
    def answer(self, ask: Ask) -> Decision | None: ...

    def unused(self) -> list[Decision]: ...


class _Script:
    """A list used up in order."""

    def __init__(self, decisions: Iterable[Decision], where: str) -> None:
        self.left = [_checked(d, where) for d in decisions]

    def answer(self, ask: Ask) -> Decision | None:
        if not self.left:
            raise _OutOfDecisions
        return self.left.pop(0)

    def unused(self) -> list[Decision]:
        return list(self.left)


class _Policy:
    """One decision for every question."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision

    def answer(self, ask: Ask) -> Decision | None:
        return self.decision

    def unused(self) -> list[Decision]:
        return []


class _Unavailable:
    def answer(self, ask: Ask) -> Decision | None:
        return None

    def unused(self) -> list[Decision]:
        return []


class _Function:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.arity = _positional_arity(fn)

    def answer(self, ask: Ask) -> Decision | None:
        subject: Any = ask.action if ask.action is not None else ask.interrupt
        result = self.fn(*(subject, ask.interrupt, ask.run)[: self.arity])
        if result is None or isinstance(result, Decision):
            return result
        raise InvalidArgument(
            f"Reviewer function {_name(self.fn)} returned {result!r} for {ask.subject}. "
            "Expected a Decision (approve(), edit(...), reject(...), respond(...), answer(...)) "
            "or None for an unavailable reviewer."
        )

    def unused(self) -> list[Decision]:
        return []


def _source(value: object, where: str) -> _Source:
    if isinstance(value, Decision):
        return _Policy(value)
    if isinstance(value, Reviewer):
        return _Nested(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return _Script(value, where)
    raise InvalidArgument(
        f"{where} is {value!r}. Expected a Decision (a standing policy), a list of Decisions "
        "(used up in order) or a Reviewer."
    )


class _Nested:
    def __init__(self, reviewer: Reviewer) -> None:
        self.reviewer = reviewer

    def answer(self, ask: Ask) -> Decision | None:
        return self.reviewer.answer(ask)

    def unused(self) -> list[Decision]:
        return self.reviewer.unused()


@dataclass(frozen=True)
class Match:
    """The left side of a rule: `when("delete_file", path=...)`. Combine with `>>`."""

    tool: str | None
    matchers: Mapping[str, Any]

    def __call__(self, ask: Ask) -> bool:
        if self.tool is not None and (ask.action is None or ask.action.name != self.tool):
            return False
        fields = ask.fields
        for key, expected in self.matchers.items():
            if key not in fields:
                return False
            ok = expected(fields[key]) if callable(expected) else fields[key] == expected
            if not ok:
                return False
        return True

    def __rshift__(self, decisions: Decision | Sequence[Decision]) -> Rule:
        return Rule(self, _source(decisions, f"The rule {self}"))

    def __str__(self) -> str:
        parts = [repr(self.tool)] if self.tool is not None else []
        parts.extend(
            f"{k}={getattr(v, '__name__', None) or v!r}" if callable(v) else f"{k}={v!r}"
            for k, v in self.matchers.items()
        )
        return f"when({', '.join(parts)})"


def when(tool: str | None = None, /, **matchers: Any) -> Match:
    """Match questions by tool name and by argument (or raw payload) values.

    Each matcher is a value (compared with ==) or a predicate: `when("delete_file",
    path=lambda p: p.startswith("/etc"))`; `when(level="vp")` matches a raw interrupt whose
    payload has `level == "vp"`. `when() >> reject(...)` with `>>` makes a `Rule`.
    """
    if tool is not None and not isinstance(tool, str):
        raise InvalidArgument(f"when() takes a tool name as a str, got {tool!r}.")
    return Match(tool, matchers)


@dataclass(frozen=True)
class Rule:
    """`when(...) >> decision` (a standing policy) or `>> [d1, d2]` (used up in order)."""

    match: Match
    source: _Source


class _Rules:
    def __init__(
        self,
        rules: Sequence[Rule],
        default: Decision | None,
        *,
        by_tool: bool = False,
        check_names: bool = True,
    ) -> None:
        for rule in rules:
            if not isinstance(rule, Rule):
                raise InvalidArgument(
                    f"Reviewer.rules() takes rules built as when(...) >> decision, got {rule!r}."
                )
        self.rules = list(rules)
        self.default = None if default is None else _checked(default, "default=")
        self.by_tool = by_tool
        self.check_names = check_names

    def name_problems(self, tools: Mapping[str, Any]) -> list[str]:
        """Rules naming a tool the agent lacks, or an argument their tool does not take: they
        would never match, and another decision (or none) would answer instead."""
        from hitl_sim.reviewing.validation import arg_names, nearest

        if not self.check_names:
            return []
        found: list[str] = []
        for rule in self.rules:
            tool = rule.match.tool
            if tool is None:
                continue
            what = f"Reviewer.by_tool key {tool!r}" if self.by_tool else f"The rule {rule.match}"
            if tool not in tools:
                found.append(
                    f"{what} names no tool of the agent. Its tools: "
                    f"{', '.join(sorted(tools))}{_nearest_hint(tool, nearest(tool, tools))}."
                )
                continue
            known = arg_names(tools[tool])
            for arg in rule.match.matchers:
                if known is not None and arg not in known:
                    found.append(
                        f"{what} matches argument {arg!r}, which {tool} does not take. Its "
                        f"arguments: {', '.join(known) or '(none)'}"
                        f"{_nearest_hint(arg, nearest(arg, known))}."
                    )
        return found

    def answer(self, ask: Ask) -> Decision | None:
        for rule in self.rules:
            if rule.match(ask):
                return rule.source.answer(ask)
        if self.default is not None:
            return self.default
        raise _NoRule(
            [str(rule.match) for rule in self.rules],
            "Add a rule for it, or a default= decision.",
        )

    def unused(self) -> list[Decision]:
        return [d for rule in self.rules for d in rule.source.unused()]


@dataclass(frozen=True)
class _Consumed:
    ask: Ask
    decision: Decision

    def __str__(self) -> str:
        interrupt = self.ask.interrupt
        about = (
            self.ask.action.describe()
            if self.ask.action is not None
            else f"payload {interrupt.value!r}"
        )
        return f"- interrupt #{interrupt.seq}, {about}: {self.decision.describe()}"


class Reviewer:
    """A scripted human (or a chain of them). See the module docs for the shapes."""

    def __init__(
        self,
        decisions: Iterable[Decision] = (),
        *,
        by: str | None = None,
        timeout: timedelta | None = None,
        on_timeout: Decision | None = None,
    ) -> None:
        if isinstance(decisions, Decision | str | Mapping):
            raise InvalidArgument(
                f"Reviewer() takes a list of decisions, got {decisions!r}. Write "
                "Reviewer([approve()]) for one decision, Reviewer.always(approve()) for every "
                "question, or Reviewer.by_tool({...}) to answer by tool name."
            )
        self._setup([(None, _Script(decisions, "Reviewer([...])"))], by, timeout, on_timeout)

    def _setup(
        self,
        levels: list[tuple[str | None, _Source]],
        by: str | None,
        timeout: timedelta | None,
        on_timeout: Decision | None,
        key: str | None = None,
    ) -> None:
        if timeout is not None and not isinstance(timeout, timedelta):
            raise InvalidArgument(
                f"timeout={timeout!r} is not a timedelta, e.g. timeout=timedelta(hours=24)."
            )
        if timeout is not None:
            check_span(timeout, "timeout", "A timeout")
        if (timeout is None) != (on_timeout is None):
            raise InvalidArgument(
                "timeout= and on_timeout= go together: timeout=timedelta(hours=24), "
                "on_timeout=reject('Approval timeout') replaces any decision slower than the "
                "deadline."
            )
        self._levels = levels
        self._by = reviewer_id(by)
        self._timeout = timeout
        self._on_timeout = None if on_timeout is None else _checked(on_timeout, "on_timeout=")
        self._key = key
        self._consumed: list[_Consumed] = []

    @classmethod
    def _of(
        cls,
        source: _Source,
        by: str | None,
        timeout: timedelta | None,
        on_timeout: Decision | None,
    ) -> Reviewer:
        reviewer = cls.__new__(cls)
        reviewer._setup([(None, source)], by, timeout, on_timeout)
        return reviewer

    @classmethod
    def by_tool(
        cls,
        decisions: Mapping[str, Decision | Sequence[Decision]],
        *,
        default: Decision | None = None,
        by: str | None = None,
        timeout: timedelta | None = None,
        on_timeout: Decision | None = None,
        check_names: bool = True,
    ) -> Reviewer:
        """Answer each tool call by its tool name; `default` answers every other question.

        A key that names no tool of the agent is an `UnknownName` before the run starts;
        `check_names=False` accepts it (a tool hitl-sim cannot see in the graph)."""
        rules = [when(name) >> value for name, value in decisions.items()]
        source = _Rules(rules, default, by_tool=True, check_names=check_names)
        return cls._of(source, by, timeout, on_timeout)

    @classmethod
    def rules(
        cls,
        *rules: Rule,
        default: Decision | None = None,
        by: str | None = None,
        timeout: timedelta | None = None,
        on_timeout: Decision | None = None,
        check_names: bool = True,
    ) -> Reviewer:
        """The first matching `when(...) >> decision` rule answers; `default` answers the rest.

        A rule naming a tool the agent lacks, or an argument its tool does not take, is an
        `UnknownName` before the run starts; `check_names=False` accepts such names."""
        return cls._of(_Rules(rules, default, check_names=check_names), by, timeout, on_timeout)

    @classmethod
    def function(
        cls,
        fn: Callable[..., Decision | None],
        *,
        by: str | None = None,
        timeout: timedelta | None = None,
        on_timeout: Decision | None = None,
    ) -> Reviewer:
        """`fn(action_or_interrupt[, interrupt[, run]]) -> Decision | None` answers each question.

        It gets the `ActionRequest` for tool reviews and the `PendingInterrupt` for raw
        interrupts and breakpoints; returning None leaves the interrupt pending.
        """
        if not callable(fn):
            raise InvalidArgument(f"Reviewer.function() takes a callable, got {fn!r}.")
        return cls._of(_Function(fn), by, timeout, on_timeout)

    @classmethod
    def always(
        cls,
        decision: Decision,
        *,
        by: str | None = None,
        timeout: timedelta | None = None,
        on_timeout: Decision | None = None,
    ) -> Reviewer:
        """Answer every question with `decision`."""
        return cls._of(_Policy(_checked(decision, "Reviewer.always()")), by, timeout, on_timeout)

    @classmethod
    def unavailable(
        cls, *, timeout: timedelta | None = None, on_timeout: Decision | None = None
    ) -> Reviewer:
        """Nobody answers: the run ends pending (pass `expect_pending=True` to `simulate`).

        With a timeout policy, the policy answers instead once the deadline passes.
        """
        return cls._of(_Unavailable(), None, timeout, on_timeout)

    @classmethod
    def chain(
        cls,
        levels: Mapping[str, Decision | Sequence[Decision] | Reviewer] | None = None,
        /,
        *,
        key: str | None = None,
        timeout: timedelta | None = None,
        on_timeout: Decision | None = None,
        **named: Decision | Sequence[Decision] | Reviewer,
    ) -> Reviewer:
        """An escalation chain: `Reviewer.chain(manager=..., director=..., vp=...)`.

        Without `key`, each question goes to the first level; a level that is unavailable or
        slower than `timeout` passes it up to the next, and `on_timeout` answers when the last one
        does too (latency adds up: 24 h waiting on the manager, then the director's own). With
        `key="level"`, the question's own field (the raw payload's or the call's argument) names
        the level that answers, as in multi-level sign-off. Decisions without `by=` are signed by
        their level's name.
        """
        given = {**(levels or {}), **named}
        if not given:
            raise InvalidArgument(
                "Reviewer.chain() needs at least one level, e.g. "
                "Reviewer.chain(manager=approve(), director=reject('over budget'))."
            )
        reviewer = cls.__new__(cls)
        sources: list[tuple[str | None, _Source]] = [
            (name, _source(value, f"Level {name!r}")) for name, value in given.items()
        ]
        reviewer._setup(sources, None, timeout, on_timeout, key=key)
        return reviewer

    # -- answering -----------------------------------------------------------------------------

    def decide(self, interrupt: PendingInterrupt, run: Run | None) -> list[Decision] | None:
        asks = (
            [Ask(interrupt, i, action, run) for i, action in enumerate(interrupt.actions)]
            if interrupt.kind == "batched"
            else [Ask(interrupt, 0, interrupt.actions[0] if interrupt.actions else None, run)]
        )
        decisions: list[Decision] = []
        spent = timedelta(0)
        for ask in asks:
            decision = self.answer(ask, spent)
            if decision is None:
                return None
            decisions.append(decision)
            spent += decision.after
        return decisions

    def answer(self, ask: Ask, spent: timedelta = timedelta(0)) -> Decision | None:
        """The decision for one question (None: unavailable), with timeout and escalation.

        `spent` is the time already taken on earlier actions of the same interrupt: the deadline
        counts from the interrupt, so the actions of a batch share one window (each further level
        of a chain gets a full one).
        """
        waited = timedelta(0)
        window = None if self._timeout is None else max(self._timeout - spent, timedelta(0))
        for name, source in self._levels_for(ask):
            try:
                decision = source.answer(ask)
            except _OutOfDecisions:
                raise self._exhausted(ask, name) from None
            except _NoRule as no_rule:
                raise self._no_rule(ask, no_rule) from None
            expired = window is not None and window <= timedelta(0)
            if decision is not None and (
                window is None or (not expired and decision.after <= window)
            ):
                signed = replace(
                    decision, by=decision.by or name or self._by, after=waited + decision.after
                )
                self._consumed.append(_Consumed(ask, signed))
                return signed
            if decision is not None:
                self._consumed.append(_Consumed(ask, decision))
            if window is not None:
                waited += window
                window = self._timeout
        if self._on_timeout is None:
            return None
        policy = replace(self._on_timeout, after=waited)
        self._consumed.append(_Consumed(ask, policy))
        return policy

    def _levels_for(self, ask: Ask) -> list[tuple[str | None, _Source]]:
        if self._key is None:
            return self._levels
        fields = ask.fields
        names = [name for name, _ in self._levels]
        if self._key in fields:
            wanted = fields[self._key]
            found = [(name, src) for name, src in self._levels if name == wanted]
            if found:
                return found
            what = f"names level {wanted!r}"
        else:
            what = f"has no {self._key!r} field"
        raise UnexpectedInterrupt(
            f"The reviewer chain cannot answer {ask.subject}: it {what}.\n"
            f"Levels: {', '.join(map(repr, names))}.\n"
            f"Add that level to Reviewer.chain(...), or check key={self._key!r}."
        )

    def unused(self) -> list[Decision]:
        return [d for _, source in self._levels for d in source.unused()]

    def name_problems(self, tools: Mapping[str, Any]) -> list[str]:
        """What this reviewer names that `tools` (the agent's, by name) do not have: by_tool
        keys, `when(...)` tool and argument names. The driver refuses to start on any."""
        found: list[str] = []
        for _, source in self._levels:
            if isinstance(source, _Rules):
                found.extend(source.name_problems(tools))
                found.extend(
                    problem
                    for rule in source.rules
                    if isinstance(rule.source, _Nested)
                    for problem in rule.source.reviewer.name_problems(tools)
                )
            elif isinstance(source, _Nested):
                found.extend(source.reviewer.name_problems(tools))
        return found

    @property
    def runs_user_code(self) -> bool:
        """Whether deciding may call the test's own functions (`Reviewer.function`, predicate
        matchers in `when(...)`): the driver then re-reads the thread before resuming, in case
        they acted on it. A subclass that overrides how it decides counts as user code."""
        overridden = (
            type(self).decide is not Reviewer.decide or type(self).answer is not Reviewer.answer
        )
        return overridden or any(_runs_user_code(source) for _, source in self._levels)

    @property
    def consumed(self) -> list[Decision]:
        """Every decision given so far, in order (timed-out ones included)."""
        return [c.decision for c in self._consumed]

    def _history(self) -> str:
        if not self._consumed:
            return "No decision was consumed before it."
        count = len(self._consumed)
        lines = "\n".join(str(c) for c in self._consumed)
        return f"{count} decision{'s' * (count != 1)} consumed before it:\n{lines}"

    def _exhausted(self, ask: Ask, level: str | None) -> ScriptExhausted:
        who = "The reviewer" if level is None else f"Reviewer level {level!r}"
        error = ScriptExhausted(
            f"{who} ran out of decisions at {ask.subject}.\n{self._history()}\n"
            "Add a decision for it (one per action request, in order), or answer by tool with "
            "Reviewer.by_tool({...}, default=...)."
        )
        error.interrupt = ask.interrupt
        error.consumed = self.consumed
        return error

    def _no_rule(self, ask: Ask, no_rule: _NoRule) -> UnexpectedInterrupt:
        rules = "\n".join(f"- {c}" for c in no_rule.candidates) or "- (none)"
        error = UnexpectedInterrupt(
            f"No reviewer rule matches {ask.subject}.\nRules:\n{rules}\n{no_rule.fix}"
        )
        error.interrupt = ask.interrupt
        return error

    def __repr__(self) -> str:
        levels = ", ".join(name or "reviewer" for name, _ in self._levels)
        return f"<Reviewer {levels}: {len(self._consumed)} consumed, {len(self.unused())} left>"


class _NoReviewer:
    """`reviewer=None`: any interrupt is a surprise."""

    def decide(self, interrupt: PendingInterrupt, run: Run | None) -> list[Decision] | None:
        about = (
            ", ".join(action.describe() for action in interrupt.actions)
            if interrupt.actions
            else f"payload {interrupt.value!r}"
        )
        error = UnexpectedInterrupt(
            f"{interrupt.label} asks about {about}, but the run has no reviewer.\n"
            "Pass reviewer=[...] with one decision per action request, or "
            "reviewer=Reviewer.unavailable() with expect_pending=True to leave it pending."
        )
        error.interrupt = interrupt
        raise error

    def unused(self) -> list[Decision]:
        return []


def as_responder(obj: object) -> Responder:
    """What `simulate(reviewer=...)` accepts: a Responder, a list of Decisions, a callable, None."""
    if obj is None:
        return _NoReviewer()
    if hasattr(obj, "decide") and hasattr(obj, "unused"):
        return cast("Responder", obj)
    if isinstance(obj, list | tuple):
        return Reviewer(obj)
    if callable(obj) and not isinstance(obj, Decision):
        return Reviewer.function(obj)
    raise InvalidArgument(
        f"reviewer={obj!r} is not a reviewer. Expected a list of decisions "
        "([approve(), reject('no')]), a Reviewer, a function returning a Decision, or None."
        + (" For one decision write [decision]." if isinstance(obj, Decision) else "")
    )


def _runs_user_code(source: _Source) -> bool:
    if isinstance(source, _Script | _Policy | _Unavailable):
        return False
    if isinstance(source, _Nested):
        return source.reviewer.runs_user_code
    if isinstance(source, _Rules):
        return any(
            _runs_user_code(rule.source) or any(map(callable, rule.match.matchers.values()))
            for rule in source.rules
        )
    return True


def _nearest_hint(name: str, match: str | None) -> str:
    return f"; nearest match for {name!r}: {match!r}" if match is not None else ""


def _checked(decision: object, where: str) -> Decision:
    if not isinstance(decision, Decision):
        raise InvalidArgument(
            f"{where} got {decision!r}, which is not a Decision. Build decisions with approve(), "
            "edit(...), reject(...), respond(...), answer(...), update(...) or unchecked(...)."
        )
    return decision


def _positional_arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return 3
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return max(1, min(3, sum(kind in positional for kind in kinds)))


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
