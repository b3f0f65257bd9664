"""The check of the application's own audit trail against what really ran.

`cross_check(run, records)` compares the application's audit records (a list of dicts, or log
records captured with `capture_log("hitl_audit")`) with the decisions really given, and
`app_audit_violations` turns each mismatch into a `Violation` for `run.check(app_audit=...)`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hitl_sim.checking.violation import Violation
from hitl_sim.errors import InvalidArgument
from hitl_sim.normalise import (
    Normaliser,
)

if TYPE_CHECKING:
    from hitl_sim.run import (
        DecisionRecord,
        Run,
    )

MismatchKind = Literal["unrecorded_decision", "misrecorded_decision", "unexpected_record"]

_SYNONYMS = {
    "approve": ("approve", "approved", "accept", "accepted", "allow", "allowed"),
    "reject": ("reject", "rejected", "deny", "denied", "decline", "declined"),
    "edit": ("edit", "edited", "modify", "modified"),
    "respond": ("respond", "responded", "response"),
}
_DECISION_WORDS = {word: kind for kind, words in _SYNONYMS.items() for word in words}
_LOG_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


@dataclass(frozen=True)
class AuditMismatch:
    """A decision the application's audit trail left out, got wrong, or made up."""

    kind: MismatchKind
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def app_record(record: Mapping[str, Any] | logging.LogRecord) -> dict[str, Any]:
    """One application audit record as a dict.

    A `logging.LogRecord` gives the dict it logged (`logger.info({...})`), the JSON object its
    message holds, and any `extra={...}` fields, merged in that order.
    """
    if isinstance(record, Mapping):
        return dict(record)
    out: dict[str, Any] = {}
    if isinstance(record.msg, Mapping):
        out.update(record.msg)
    else:
        try:
            parsed = json.loads(record.getMessage())
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            out.update(parsed)
    out.update({k: v for k, v in vars(record).items() if k not in _LOG_RECORD_FIELDS})
    return out


@contextmanager
def capture_log(
    name: str = "hitl_audit", *, level: int = logging.DEBUG
) -> Iterator[list[logging.LogRecord]]:
    """Collect what logger `name` emits inside the block, for `cross_check`.

    ```
    with capture_log("hitl_audit") as records:
        run = simulate(agent, "...", reviewer=[...])
    assert cross_check(run, records) == []
    ```
    """
    logger = logging.getLogger(name)
    records: list[logging.LogRecord] = []
    handler = _ListHandler(records, level)
    old_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord], level: int) -> None:
        super().__init__(level)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def cross_check(
    run: Run,
    records: Iterable[Mapping[str, Any] | logging.LogRecord],
    *,
    tool: str = "tool",
    decision: str = "decision",
    by: str | None = None,
    args: str | None = None,
    message: str | None = None,
) -> list[AuditMismatch]:
    """Compare the application's audit records with the decisions the reviewer really gave.

    Each keyword names the field of an application record holding that fact; `None` leaves it
    unchecked. Records are matched to decisions per tool, in order. Decision words are read
    loosely (`approved`, `denied`, `modified`, ...). A record with neither a `tool` nor a
    `decision` field is not a decision record and is ignored; every other record must match.

    Middleware decisions are compared with their type, the arguments that ran (an edit's), the
    reject/respond message and the reviewer id given with `by=`. For a raw `interrupt()`, the
    tool is the interrupt payload's `tool` field, and the decision, reviewer and message are
    the answer's fields of those names (a plain string answer is the decision itself; an answer
    with no decision field is read by its shape: `{"approved": True}` is approve, `False`
    reject, as is a bare bool, and `{"type" | "action" | "status": "approve"}` a decision word).
    Breakpoints, and raw interrupts whose payload names no tool, are not compared.
    """
    given = [app_record(r) for r in records]
    logged = [r for r in given if tool in r or decision in r]
    ignored = len(given) - len(logged)
    fields = {"decision": decision, "by": by, "args": args, "message": message}
    unmatched = list(range(len(logged)))
    norm = Normaliser()
    found: list[AuditMismatch] = []
    for record in run.decisions:
        facts = _facts(record, fields, tool)
        if facts is None:
            continue
        name, known = facts
        want: dict[str, Any] = {}
        for fact, value in known.items():
            field_name = fields[fact]
            if field_name is not None:
                want[field_name] = value
        expected = norm.plain({tool: name, **want})
        what = _decision_text(record)
        index = next((i for i in unmatched if logged[i].get(tool) == name), None)
        if index is None:
            found.append(
                AuditMismatch(
                    "unrecorded_decision",
                    f"The application's audit trail has no record of {what}. Expected a record "
                    f"with {_pairs({k: expected[k] for k in (tool, *want)})}; it logged "
                    f"{len(logged)} decision "
                    f"record(s){_listing(logged, norm)}{_ignored(ignored, tool, decision)}",
                    {"expected": expected},
                )
            )
            continue
        unmatched.remove(index)
        got = logged[index]
        wrong = [
            f"{key}: expected {value!r}, recorded {got.get(key)!r}"
            for key, value in want.items()
            if not _same(key == decision, value, got.get(key))
        ]
        if wrong:
            found.append(
                AuditMismatch(
                    "misrecorded_decision",
                    f"The application recorded {what} wrongly: {'; '.join(wrong)}. "
                    f"Its record: {norm.plain(got)!r}",
                    {"expected": expected, "record": norm.plain(got)},
                )
            )
    for index in unmatched:
        extra = norm.plain(logged[index])
        found.append(
            AuditMismatch(
                "unexpected_record",
                f"The application recorded a decision no reviewer gave: {extra!r}. Decisions "
                f"given: {[_decision_text(d) for d in run.decisions] or 'none'}.",
                {"record": extra},
            )
        )
    return [
        AuditMismatch(m.kind, norm.finish(m.message), norm.finish(dict(m.evidence))) for m in found
    ]


def _facts(
    record: DecisionRecord, fields: Mapping[str, str | None], tool: str
) -> tuple[str, dict[str, Any]] | None:
    """The tool a decision was about and what the application should have recorded of it."""
    action, given = record.action, record.decision
    payload = record.payload if isinstance(record.payload, Mapping) else {}
    if action is not None:
        kind = payload.get("type", given.type)
        edited = payload.get("edited_action") if kind == "edit" else None
        facts = {
            "decision": kind,
            "by": given.by,
            "args": dict((edited or {}).get("args", action.args)),
            "message": payload.get("message") if kind in ("reject", "respond") else None,
        }
        return action.name, facts
    value = record.interrupt.value
    if record.interrupt.kind != "raw" or not isinstance(value, Mapping) or tool not in value:
        return None
    answer = record.payload
    facts = {"by": given.by, "args": value.get(fields["args"] or "")}
    for fact in ("decision", "by", "message"):
        name = fields[fact]
        if isinstance(answer, Mapping) and name is not None and name in answer:
            facts[fact] = answer[name]
    if isinstance(answer, str):
        facts["decision"] = answer
    if "decision" not in facts:
        facts["decision"] = _raw_decision(answer)
    facts.setdefault("message", None)
    return str(value[tool]), facts


def _raw_decision(answer: Any) -> str | None:
    """The decision a raw `interrupt()` answer without a decision field carries, in the shapes
    applications use: `{"approved": True}` (the seed's), `{"type": "approve"}`, a bare bool."""
    if isinstance(answer, bool):
        return "approve" if answer else "reject"
    if not isinstance(answer, Mapping):
        return None
    approved = answer.get("approved")
    if isinstance(approved, bool):
        return "approve" if approved else "reject"
    for key in ("type", "action", "status"):
        word = _decision_word(answer.get(key))
        if word in _SYNONYMS:
            return str(word)
    return None


def _pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _same(is_decision: bool, want: Any, got: Any) -> bool:
    if is_decision:
        want, got = _decision_word(want), _decision_word(got)
    return bool(want == got)


def _decision_word(value: Any) -> Any:
    if isinstance(value, bool):  # `{"decision": True}`: an application logging the raw answer
        return "approve" if value else "reject"
    return _DECISION_WORDS.get(value.strip().lower(), value) if isinstance(value, str) else value


def _decision_text(record: DecisionRecord) -> str:
    about = record.action.name if record.action is not None else record.interrupt.label
    return f"{record.decision.describe()} for {about} ({record.interrupt.label})"


def _ignored(count: int, tool: str, decision: str) -> str:
    if not count:
        return ""
    return (
        f"\n({count} other record(s) have neither a {tool!r} nor a {decision!r} field and were "
        "not read as decisions. If your application names these facts differently, say so: "
        "AppAudit(records, tool=..., decision=...) or cross_check(run, records, tool=..., "
        "decision=...).)"
    )


def _listing(records: list[dict[str, Any]], norm: Normaliser) -> str:
    if not records:
        return "."
    return ":\n" + "\n".join(f"- {norm.finish(norm.plain(r))!r}" for r in records)


@dataclass(frozen=True)
class AppAudit:
    """The application's audit records, with the names of the fields that hold each fact.

    `run.check(app_audit=records)` reads records with the default field names;
    `run.check(app_audit=AppAudit(records, by="user_id", args="args"))` names them.
    """

    records: Sequence[Mapping[str, Any] | logging.LogRecord]
    tool: str = "tool"
    decision: str = "decision"
    by: str | None = None
    args: str | None = None
    message: str | None = None

    def mismatches(self, run: Run) -> list[AuditMismatch]:
        return cross_check(
            run,
            self.records,
            tool=self.tool,
            decision=self.decision,
            by=self.by,
            args=self.args,
            message=self.message,
        )


def app_audit_violations(run: Run, app_audit: Any) -> list[Violation]:
    """`run.check(app_audit=...)`'s violations: `app_audit` is an `AppAudit` or the records."""
    if isinstance(app_audit, str | bytes) or not isinstance(app_audit, AppAudit | Iterable):
        raise InvalidArgument(
            f"app_audit={app_audit!r} is not an audit trail. Pass the records the application "
            "logged (a list of dicts or logging.LogRecord, e.g. from capture_log('hitl_audit')), "
            "or AppAudit(records, by=..., args=...) to name their fields."
        )

    spec = app_audit if isinstance(app_audit, AppAudit) else AppAudit(list(app_audit))
    return [
        Violation(m.kind, m.message, tuple(f"{k}: {v!r}" for k, v in m.evidence.items()))
        for m in spec.mismatches(run)
    ]
