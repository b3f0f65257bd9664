"""A human answering through the application's HTTP approval API.

`HttpReviewer(tap, reviewer, app=asgi_app)` talks to the app in-process (httpx's
`ASGITransport`); `HttpReviewer(tap, reviewer, base_url="http://127.0.0.1:8123")` to a real
server (see `hitl_sim.frontends.server.serve`). `review(thread_id)` does what a person at the
approval page does, until the thread has nothing pending: read `GET /pending/{thread_id}`, check
the payload it shows is the interrupt really pending on the thread (read through the tap), ask the
scripted `reviewer` (any hitl-sim reviewer: `[approve(), reject("no")]`, `Reviewer.by_tool(...)`)
for the decisions, and `POST /approve` them, watching (`tap.expecting`) that the app resumes that
thread. The `Run` the tap recorded then shows what the graph did, for `run.check()`.

Its own checks, in `violations()` (the tap's follow):

- ``pending_not_shown``: the pending endpoint says nothing is pending while an interrupt is;
- ``pending_shows_other``: it shows another payload than the interrupt really pending;
- ``pending_after_finish``: it shows something pending on a thread with nothing pending;
- ``decision_refused``: the app answered a valid decision for what is pending with an error.

`get_pending`, `post_decision` and `post_decisions_together` (concurrent POSTs) reach the error
paths as users hit them. Every exchange is kept in `exchanges`, secrets masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hitl_sim import Violation
from hitl_sim.errors import HitlSimError, InvalidArgument
from hitl_sim.frontends.findings import raise_found
from hitl_sim.normalise import Redactor

if TYPE_CHECKING:
    import httpx

    from hitl_sim.frontends.tap import AppTap
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run

DOCS = "See docs/approval-front-ends.md#http-approval-apis"


class PendingTimeout(HitlSimError, AssertionError):
    """The app's pending endpoint never showed anything pending within the timeout."""


@dataclass(frozen=True)
class Exchange:
    """One request to the app and its answer (bodies with secrets masked)."""

    method: str
    path: str
    sent: Any
    status: int
    answer: Any
    at: datetime


def seed_pending(body: Any) -> tuple[bool, Any]:
    """The seeds' pending body: `{"pending": bool, "data": <interrupt value>}`."""
    if not isinstance(body, Mapping) or not isinstance(body.get("pending"), bool):
        return False, None
    return body["pending"], body.get("data")


def seed_approval(
    thread_id: str, interrupt: PendingInterrupt | None, decisions: Sequence[Any]
) -> dict[str, Any]:
    """The body `POST /approve` takes: thread, interrupt id and the middleware's decisions."""
    return {
        "thread_id": thread_id,
        "interrupt_id": None if interrupt is None else interrupt.id,
        "decisions": list(decisions),
    }


class HttpReviewer:
    """A scripted human at the app's approval API. See the module docs."""

    def __init__(
        self,
        tap: AppTap,
        reviewer: Any,
        *,
        app: Any = None,
        base_url: str | None = None,
        pending_path: str = "/pending/{thread_id}",
        approve_path: str = "/approve",
        read_pending: Callable[[Any], tuple[bool, Any]] = seed_pending,
        approval_body: Callable[..., Any] = seed_approval,
        timeout: float = 10.0,
    ) -> None:
        if (app is None) == (base_url is None):
            raise InvalidArgument(
                "HttpReviewer() takes either app= (an ASGI app, reached in-process) or "
                "base_url= (a running server, e.g. 'http://127.0.0.1:8123'), not "
                f"{'both' if app is not None else 'neither'}. {DOCS}"
            )
        from hitl_sim.reviewing.reviewer import as_responder

        self.tap = tap
        self.responder = as_responder(reviewer)
        self.app = app
        self.base_url = base_url or "http://app.test"
        self.pending_path = pending_path
        self.approve_path = approve_path
        self.read_pending = read_pending
        self.approval_body = approval_body
        self.timeout = timeout
        self.exchanges: list[Exchange] = []
        self.redactor = Redactor()
        self._violations: list[Violation] = []

    # -- HTTP

    def _client(self) -> httpx.AsyncClient:
        import httpx

        transport = None if self.app is None else httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url=self.base_url, timeout=self.timeout)

    async def _send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        async with self._client() as client:
            response = await client.request(method, path, json=body)
        self._keep(method, path, body, response)
        return response

    def _keep(self, method: str, path: str, body: Any, response: httpx.Response) -> None:
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text
        self.redactor.learn(body)
        self.redactor.learn(answer)
        self.exchanges.append(
            Exchange(
                method,
                path,
                self.redactor.data(body),
                response.status_code,
                self.redactor.data(answer),
                datetime.now(UTC),
            )
        )

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One request to the app (e.g. the app's own endpoint that starts a run)."""
        return asyncio.run(self._send(method, path, body))

    def get_pending(self, thread_id: str) -> httpx.Response:
        return self.request("GET", self.pending_path.format(thread_id=thread_id))

    def post_decision(
        self, thread_id: str, decisions: Sequence[Any], interrupt: PendingInterrupt | None = None
    ) -> httpx.Response:
        """POST decision payloads (`{"type": "approve"}`, ...) for `thread_id` as they are."""
        body = self.approval_body(thread_id, interrupt, decisions)
        return self.request("POST", self.approve_path, body)

    def post_decisions_together(
        self, thread_id: str, decisions: Sequence[Sequence[Any]]
    ) -> list[httpx.Response]:
        """Several POSTs for one thread at once (two people deciding together)."""

        async def together() -> list[httpx.Response]:
            bodies = [self.approval_body(thread_id, None, d) for d in decisions]
            return list(
                await asyncio.gather(*(self._send("POST", self.approve_path, b) for b in bodies))
            )

        return asyncio.run(together())

    def wait_for_pending(
        self, thread_id: str, *, timeout: float = 10.0, interval: float = 0.05
    ) -> httpx.Response:
        """Poll the pending endpoint until it shows something pending (an app that runs the
        graph in a background task), at most `timeout` real seconds; a `PendingTimeout` then,
        naming the last answer."""
        import time

        deadline = time.monotonic() + timeout
        polls = int(timeout / interval) + 1  # bounded even where a test froze time.monotonic
        for poll in range(polls + 1):
            response = self.get_pending(thread_id)
            if response.is_success and self.read_pending(response.json())[0]:
                return response
            if time.monotonic() > deadline or poll == polls:
                raise PendingTimeout(
                    f"GET {self.pending_path.format(thread_id=thread_id)} showed nothing "
                    f"pending for {timeout}s (last answer {response.status_code}: "
                    f"{self.exchanges[-1].answer!r}). Expected the app's run to pause for "
                    f"review. Check the run started, or raise timeout=. {DOCS}"
                )
            time.sleep(interval)
        raise AssertionError("unreachable: the last poll raises")  # pragma: no cover

    # -- reviewing

    def review(self, thread_id: str, *, max_rounds: int = 25) -> Run:
        """Answer everything pending on `thread_id` through the app, and return its `Run`."""
        from hitl_sim.interrupts import pending_in

        for _ in range(max_rounds):
            head = self.tap.graph.get_state({"configurable": {"thread_id": thread_id}})
            real = [p for p in pending_in(head) if p.kind != "breakpoint"]
            response = self.get_pending(thread_id)
            shown, data = (
                self.read_pending(response.json()) if response.is_success else (False, None)
            )
            if not real:
                if shown:
                    self._note(
                        "pending_after_finish",
                        f"GET {self.pending_path.format(thread_id=thread_id)} shows an approval "
                        f"pending on thread {thread_id!r}, which has nothing pending.",
                        [f"shown: {data!r}"],
                    )
                break
            run = self.tap.run(thread_id)
            interrupt = next((p for p in run.pending if p.id == real[0].id), real[0])
            self.redactor.learn(interrupt.value)
            if not shown:
                self._note(
                    "pending_not_shown",
                    f"GET {self.pending_path.format(thread_id=thread_id)} answered "
                    f"{response.status_code} and shows nothing pending, while "
                    f"{interrupt.label} waits on thread {thread_id!r}: the human never sees it.",
                    [f"answer: {self.exchanges[-1].answer!r}"],
                )
                break
            if data != interrupt.value:
                self._note(
                    "pending_shows_other",
                    f"GET {self.pending_path.format(thread_id=thread_id)} shows another "
                    f"payload than {interrupt.label}, really pending on thread {thread_id!r}: "
                    "the human decides on what they were not asked.",
                    [f"shown: {data!r}", f"pending: {interrupt.value!r}"],
                )
            decided = self.responder.decide(interrupt, run)
            if decided is None:
                break
            actions = interrupt.actions
            payloads = [
                d.payload_for(actions[i] if i < len(actions) else None)
                for i, d in enumerate(decided)
            ]
            noted = len(self.tap.hygiene())
            with self.tap.expecting(thread_id):
                answer = self.post_decision(thread_id, payloads, interrupt)
            if len(self.tap.hygiene()) > noted and answer.is_success:
                break  # the app did not resume this thread (the tap says how): stop here
            if not answer.is_success:
                self._note(
                    "decision_refused",
                    f"POST {self.approve_path} answered {answer.status_code} to a valid decision "
                    f"for {interrupt.label} on thread {thread_id!r}.",
                    [
                        f"sent: {self.exchanges[-1].sent!r}",
                        f"answer: {self.exchanges[-1].answer!r}",
                    ],
                )
                break
        return self.tap.run(thread_id)

    def _note(self, check: str, message: str, evidence: list[str]) -> None:
        text = self.redactor.text
        self._violations.append(Violation(check, text(message), tuple(map(text, evidence))))

    def findings(self) -> list[Violation]:
        """This reviewer's own findings (what the pending page showed, decisions refused),
        without the tap's."""
        return list(self._violations)

    def violations(self) -> list[Violation]:
        """This reviewer's findings, then the tap's (thread hygiene and `run.check()`)."""
        return [*self._violations, *self.tap.violations()]

    def check(self) -> None:
        raise_found(self.violations(), "The app's approval API", self.redactor)
