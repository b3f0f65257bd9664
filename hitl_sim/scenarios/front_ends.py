"""Running a scenario through the app's own approval surface (`reviewer: {kind: ...}`).

The scenario's agent is built as usual; then, instead of hitl-sim answering its interrupts,
the app's front end does (`hitl_sim.frontends`):

- ``terminal``: the app's prompt function, answered by keystrokes, inside `simulate()`;
- ``pty``: a real CLI program on a pseudo-terminal, answered by keystrokes; it runs its own agent
  on a SQLite file, on which the scenario's agent is then opened to read what the thread paused
  at (there is no run record: only the prompts and the front-end checks are judged);
- ``confirmation``: the functions the app's confirmation dialogs guard are wrapped for the run,
  and the dialogs answered by keystrokes, inside `simulate()`;
- ``http``: the graph handed to the app behind an `AppTap`, the run started through the app's
  own endpoint, and reviewed through its pending and approve endpoints (in-process, or a real
  uvicorn server on 127.0.0.1), with a real webhook receiver when the file has `webhook:`;
- ``chat``: the graph handed to the app behind an `AppTap`, and every message (the input, then
  the human's replies) sent through the app's own `send(thread_id, text)`.

`drive(scenario, graph)` returns the run (None when the front end stopped it), the front end's
violations (compared with `expect.frontend_violations`) and, for keystroke front ends, the
prompts (for `expect.prompts`). A front end that needs the optional `frontends` extra raises
`Unsupported` when it is missing: a skipped scenario, never a passed one.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitl_sim.errors import CheckFailed, ScenarioError, Unsupported
from hitl_sim.scenarios.build import import_factory
from hitl_sim.scenarios.schema import (
    ChatReviewerSpec,
    ConfirmationReviewerSpec,
    HttpReviewerSpec,
    KeysSpec,
    PtyReviewerSpec,
    Scenario,
    TerminalReviewerSpec,
)

if TYPE_CHECKING:
    from hitl_sim.checking.violation import Violation
    from hitl_sim.frontends.keys import Keys
    from hitl_sim.frontends.prompts import Prompt
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.normalise import Redactor
    from hitl_sim.run import Run

EXTRA = "pip install 'hitl-sim[frontends]'"
NEEDS: dict[str, tuple[str, ...]] = {
    "pty": ("pexpect",),
    "http": ("fastapi", "httpx"),
    "uvicorn": ("uvicorn",),
    "webhook": ("httpx",),
}
"""The `frontends` extra's modules each front end needs (terminal, confirmation and chat need
none)."""


@dataclass
class Driven:
    """What a front end did: the run it made, its violations, and the prompts it answered."""

    run: Run | None
    violations: list[Violation] = field(default_factory=list)
    prompts: list[Prompt] | None = None
    stopped: str | None = None
    """Why there is no run (the front end stopped it), for the report."""
    others: list[Run] = field(default_factory=list)
    """Every run the app made (an HTTP app's other threads too), for stable id labels."""
    failures: list[str] = field(default_factory=list)
    """What could not be judged (a program that failed, a thread that never paused)."""
    redactor: Redactor | None = None
    """The secrets the front end saw (keystrokes typed with `secret: true`, secret fields the
    app sent), masked in the scenario's report."""


def _stable(found: Sequence[Violation], interrupts: Iterable[PendingInterrupt]) -> list[Violation]:
    """`found` with every raw interrupt id (random per run) replaced by its label
    (`interrupt-1`, ... in order of appearance), so the report is the same on every run."""
    from hitl_sim.checking.violation import Violation

    labels: dict[str, str] = {}
    for interrupt in interrupts:
        if interrupt.id:
            labels.setdefault(interrupt.id, f"interrupt-{len(labels) + 1}")
    if not labels:
        return list(found)
    pattern = re.compile("|".join(re.escape(raw) for raw in sorted(labels, key=len)[::-1]))

    def text(value: str) -> str:
        return pattern.sub(lambda match: labels[match.group(0)], value)

    return [Violation(v.check, text(v.message), tuple(map(text, v.evidence))) for v in found]


def _interrupts(runs: Iterable[Run]) -> list[PendingInterrupt]:
    return [interrupt for run in runs for interrupt in run.interrupts]


def require_extra(scenario: Scenario) -> None:
    """Raise `Unsupported` when the front end needs a module of the `frontends` extra that is not
    installed."""
    spec = scenario.reviewer
    wanted: list[str] = []
    if isinstance(spec, HttpReviewerSpec):
        wanted += NEEDS["http"] + (NEEDS["uvicorn"] if spec.server == "uvicorn" else ())
    if scenario.webhook is not None:
        wanted += NEEDS["webhook"]
    if isinstance(spec, PtyReviewerSpec):
        wanted += NEEDS["pty"]
    missing = sorted({m for m in wanted if importlib.util.find_spec(m) is None})
    if missing:
        raise Unsupported(
            f"{scenario.where}: `reviewer.kind: {scenario.front_end}` needs "
            f"{', '.join(missing)} (the `frontends` extra), which is not installed.\n"
            f"Install it with: {EXTRA}"
        )


def drive(scenario: Scenario, graph: Any, options: dict[str, Any]) -> Driven:
    """Run `scenario` on `graph` through its front end. `options`: simulate()'s options."""
    require_extra(scenario)
    spec = scenario.reviewer
    assert not isinstance(spec, PtyReviewerSpec)  # drive_pty: no graph of its own here
    if isinstance(spec, TerminalReviewerSpec):
        driven = _terminal(scenario, spec, graph, options)
    elif isinstance(spec, ConfirmationReviewerSpec):
        driven = _confirmation(scenario, spec, graph, options)
    elif isinstance(spec, HttpReviewerSpec):
        driven = _http(scenario, spec, graph)
    else:
        assert isinstance(spec, ChatReviewerSpec)
        driven = _chat(scenario, spec, graph)
    runs = driven.others or ([driven.run] if driven.run is not None else [])
    if driven.redactor is not None:  # what the app may have echoed into the runs' own records
        for run in runs:
            run.secret_values.extend(sorted(driven.redactor.secrets))
    driven.violations = _stable(driven.violations, _interrupts(runs))
    return driven


def _keys(specs: Sequence[KeysSpec]) -> list[Keys]:
    from hitl_sim.frontends.keys import keys

    return [keys(k.type, at=k.at, after=k.after, secret=k.secret) for k in specs]


def _stopped(error: CheckFailed) -> Driven:
    found = list(getattr(error, "violations", None) or [])
    if not found:
        raise error
    return Driven(None, found, stopped=str(error).split("\n", 1)[0])


# --- keystroke front ends, inside simulate() -----------------------------------------------


def _terminal(
    scenario: Scenario, spec: TerminalReviewerSpec, graph: Any, options: dict[str, Any]
) -> Driven:
    from hitl_sim.driving.api import simulate
    from hitl_sim.frontends.terminal import TerminalReviewer

    ask = import_factory(spec.prompt, scenario.where)
    reviewer = TerminalReviewer(ask, _keys(spec.keys), by=spec.by)
    try:
        run = simulate(graph, scenario.input, reviewer, **options)
    except CheckFailed as error:  # the app's resume value cannot be sent: no faithful run
        driven = _stopped(error)
        driven.violations += [v for v in reviewer.violations() if v not in driven.violations]
        driven.prompts = reviewer.prompts
        driven.redactor = reviewer.terminal.redactor
        return driven
    return Driven(run, reviewer.violations(), reviewer.prompts, redactor=reviewer.terminal.redactor)


def drive_pty(scenario: Scenario, model: Any) -> Driven:
    """Run the scenario's CLI program on a pty (in a fresh directory, with its checkpoints in
    `{db}` there), then read the interrupts its thread paused at through the scenario's agent."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from hitl_sim.frontends.prompts import asked_on
    from hitl_sim.frontends.pty import PtySession
    from hitl_sim.scenarios.build import build_agent

    require_extra(scenario)
    spec = scenario.reviewer
    assert isinstance(spec, PtyReviewerSpec)
    thread = _thread(scenario)
    db = "checkpoints.db"  # relative to the program's own directory: no path in any message
    argv = [part.format(python=sys.executable, db=db, thread_id=thread) for part in spec.argv]
    with tempfile.TemporaryDirectory(prefix="hitl-sim-pty-") as folder:
        session = PtySession(argv, _keys(spec.keys), timeout=spec.timeout, cwd=folder)
        session.run()
        driven = Driven(None, prompts=session.prompts, redactor=session.redactor)
        if session.exitstatus != 0:
            driven.failures.append(
                f"pty: the program exited with status {session.exitstatus!r}; its screen:\n"
                + "\n".join(f"    | {line}" for line in session.output.splitlines()[-20:])
            )
        with SqliteSaver.from_conn_string(str(Path(folder) / db)) as saver:
            interrupts = asked_on(build_agent(scenario, model, saver), thread)
    if not interrupts:
        driven.failures.append(
            f"pty: thread {thread!r} in {{db}} never paused at an interrupt, so what the prompts "
            "showed cannot be judged. Expected the program to keep its checkpoints in `{db}` "
            "on thread `{thread_id}` (see its argv)."
        )
    driven.violations = _stable(session.violations(interrupts, spec.groups), interrupts)
    return driven


def _confirmation(
    scenario: Scenario, spec: ConfirmationReviewerSpec, graph: Any, options: dict[str, Any]
) -> Driven:
    from hitl_sim.driving.api import simulate
    from hitl_sim.frontends.confirmation import Confirmations
    from hitl_sim.frontends.terminal import Terminal
    from hitl_sim.reviewing.reviewer import Reviewer

    terminal = Terminal(_keys(spec.keys))
    levels = Confirmations(terminal, yes=spec.yes)
    with _guarded(scenario, spec, levels), terminal.typing():
        run = simulate(graph, scenario.input, Reviewer(spec.decisions), **options)
    found = [*levels.violations(), *_unused(terminal.left)]
    return Driven(run, found, terminal.prompts, redactor=terminal.redactor)


@contextlib.contextmanager
def _guarded(scenario: Scenario, spec: ConfirmationReviewerSpec, levels: Any) -> Iterator[None]:
    """Each guarded function replaced in its module by `levels.guard(...)` for the block."""
    restore: list[tuple[Any, str, Any]] = []
    try:
        for guard in spec.guards:
            original = import_factory(guard.function, scenario.where)
            module_name, _, name = guard.function.partition(":")
            module = importlib.import_module(module_name)
            wrapped = levels.guard(original, guard.level, phrase=guard.phrase)
            restore.append((module, name, original))
            setattr(module, name, wrapped)
        yield
    finally:
        for module, name, original in reversed(restore):
            setattr(module, name, original)


def _unused(left: Sequence[Keys]) -> list[Violation]:
    from hitl_sim.checking.violation import Violation

    if not left:
        return []
    return [
        Violation(
            "unused_keys",
            f"{len(left)} keystroke(s) were never asked for.",
            tuple(k.describe() for k in left),
        )
    ]


# --- front ends that make their own graph calls, behind an AppTap --------------------------


def _thread(scenario: Scenario) -> str:
    return scenario.run.thread_id or "thread-1"


def _tap(scenario: Scenario, graph: Any) -> Any:
    from hitl_sim.driving.clock import start_time
    from hitl_sim.frontends.tap import AppTap

    clock = scenario.run.clock
    if clock is False:
        return AppTap(graph, clock=None)
    return AppTap(graph) if clock is None else AppTap(graph, clock=start_time(clock))


def _built(scenario: Scenario, reference: str, given: dict[str, Any]) -> Any:
    """`reference(**given)`, or a `ScenarioError` naming its signature."""
    from hitl_sim.scenarios.build import call_named

    factory = import_factory(reference, scenario.where)
    return call_named(factory, ("reviewer.app", reference), given, scenario.where)


def _http(scenario: Scenario, spec: HttpReviewerSpec, graph: Any) -> Driven:
    from hitl_sim.frontends.http import HttpReviewer
    from hitl_sim.frontends.server import serve
    from hitl_sim.frontends.webhook import WebhookReceiver
    from hitl_sim.reviewing.reviewer import Reviewer

    thread = _thread(scenario)
    hook_spec = scenario.webhook
    with contextlib.ExitStack() as stack:
        hook = None
        if hook_spec is not None:
            hook = stack.enter_context(
                WebhookReceiver(fields=hook_spec.fields, timestamp_key=hook_spec.timestamp_key)
            )
        tap = stack.enter_context(_tap(scenario, graph))
        given = {**spec.options, **({"webhook": hook.url} if hook is not None else {})}
        app = _built(scenario, spec.app, {"graph": tap, **given})
        reviewer = Reviewer(spec.decisions, by=spec.by)
        if spec.server == "uvicorn":
            http = HttpReviewer(tap, reviewer, base_url=stack.enter_context(serve(app)))
        else:
            http = HttpReviewer(tap, reviewer, app=app)
        for started in (thread, *spec.also_start):
            answer = http.request(
                "POST", spec.start, {"thread_id": started, "message": scenario.input}
            )
            if not answer.is_success:
                raise ScenarioError(
                    f"{scenario.where}: the app refused to start a run: POST {spec.start} "
                    f"answered {answer.status_code}: {http.exchanges[-1].answer!r}.\n"
                    "Expected `reviewer.start` to be the app's endpoint taking "
                    "{thread_id, message}; fix it, or the app."
                )
        run = http.review(thread)
        found = [*http.findings(), *tap.hygiene()]
    if hook is not None:
        found += hook.violations(list(tap.runs.values()))
    redactor = tap.redactor()
    for exchange in http.exchanges:
        redactor.learn(exchange.sent)
        redactor.learn(exchange.answer)
    return Driven(run, found, redactor=redactor, others=list(tap.runs.values()))


def _chat(scenario: Scenario, spec: ChatReviewerSpec, graph: Any) -> Driven:
    thread = _thread(scenario)
    with _tap(scenario, graph) as tap:
        app = _built(scenario, spec.app, {"graph": tap, **spec.options})
        send = getattr(app, "send", None)
        if not callable(send):
            raise ScenarioError(
                f"{scenario.where}: reviewer.app {spec.app!r} returned {app!r}, which has no "
                "send(thread_id, text) method.\nExpected the chat app object."
            )
        assert isinstance(scenario.input, str)  # checked by the schema
        for text in (scenario.input, *spec.replies):
            send(thread, text)
    return Driven(tap.run(thread), tap.hygiene(), redactor=tap.redactor())
