"""A real webhook receiver on 127.0.0.1 that records every notification the app sends.

`with WebhookReceiver() as hook:` serves HTTP on a free port (`hook.url`) in a background
thread; every POST is kept as a `Notification` (path, JSON body, headers, arrival time on the
frozen clock), secrets masked in every output. `hook.violations(run)` (or `hook.check(run)`)
holds the notifications against the interrupts the run really paused at:

- ``notification_missing``: an interrupt produced no notification;
- ``notified_twice``: an interrupt produced more than one;
- ``notified_without_interrupt``: a notification matches no interrupt (e.g. one sent for a call
  that was auto-approved, or for a thread that never paused);
- ``notification_fields_missing``: a notification lacks a field the app promises (`fields=`);
- ``notification_time_off``: its timestamp (`timestamp_key=`) is not the moment the interrupt
  happened on the frozen clock.

A notification is matched to an interrupt by its `interrupt_id` (`id_key=`) when it has one, else
by its `data` (`data_key=`) being the interrupt's payload, and by `thread_id` when present.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from hitl_sim import Violation
from hitl_sim.frontends.findings import raise_found
from hitl_sim.normalise import Redactor

if TYPE_CHECKING:
    from hitl_sim.interrupts import PendingInterrupt
    from hitl_sim.run import Run

SEED_FIELDS = ("type", "data", "timestamp")
"""What the seeds' `notify_approver` sends."""


@dataclass(frozen=True)
class Notification:
    """One POST the receiver got."""

    path: str
    body: Any
    """The JSON body (the raw text when it is not JSON)."""
    headers: Mapping[str, str]
    at: datetime


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        self.server.received(Notification(self.path, body, dict(self.headers), datetime.now(UTC)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows what the test prints, not the server's log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.notifications: list[Notification] = []

    def received(self, notification: Notification) -> None:
        with self.lock:
            self.notifications.append(notification)


class WebhookReceiver:
    """A recording webhook endpoint. See the module docs."""

    def __init__(
        self,
        *,
        fields: Sequence[str] = SEED_FIELDS,
        id_key: str = "interrupt_id",
        data_key: str = "data",
        timestamp_key: str | None = "timestamp",
    ) -> None:
        self.fields = tuple(fields)
        self.id_key = id_key
        self.data_key = data_key
        self.timestamp_key = timestamp_key
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebhookReceiver:
        self._server = _Server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    @property
    def url(self) -> str:
        """Where the app must POST, e.g. 'http://127.0.0.1:40123/hook'."""
        if self._server is None:
            from hitl_sim.errors import InvalidArgument

            raise InvalidArgument(
                "WebhookReceiver.url is known once it serves: use `with WebhookReceiver() as "
                "hook:` and read hook.url inside the block."
            )
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    @property
    def notifications(self) -> list[Notification]:
        """Every notification so far, in arrival order."""
        if self._server is None:
            return []
        with self._server.lock:
            return list(self._server.notifications)

    # -- checks

    def _matches(self, body: Any, interrupt: PendingInterrupt, thread_id: str) -> bool:
        if not isinstance(body, Mapping):
            return False
        if "thread_id" in body and body["thread_id"] != thread_id:
            return False
        if body.get(self.id_key) is not None:
            return bool(body[self.id_key] == interrupt.id)
        return bool(body.get(self.data_key) == _plain(interrupt.value))

    def violations(self, runs: Run | Sequence[Run]) -> list[Violation]:
        """The notifications held against the interrupts of `runs`: see the module docs."""
        from hitl_sim.run import Run

        chosen = [runs] if isinstance(runs, Run) else list(runs)
        redactor = Redactor()
        for run in chosen:
            redactor.learn(run)
        got = self.notifications
        for notification in got:
            redactor.learn(notification.body)
            redactor.learn(dict(notification.headers))
        text = redactor.text
        found: list[Violation] = []
        used: set[int] = set()
        for run in chosen:
            times = {id(s.record): s.at for s in run.steps if s.kind == "interrupt"}
            for interrupt in run.interrupts:
                hits = [
                    i for i, n in enumerate(got) if self._matches(n.body, interrupt, run.thread_id)
                ]
                used.update(hits)
                about = f"{interrupt.label} on thread {run.thread_id!r}"
                if not hits:
                    found.append(
                        Violation(
                            "notification_missing",
                            f"{about} produced no notification: nobody was told to review "
                            f"{_calls(interrupt)}. Expected exactly one POST to the webhook.",
                            (f"{len(got)} notification(s) received",),
                        )
                    )
                    continue
                if len(hits) > 1:
                    found.append(
                        Violation(
                            "notified_twice",
                            f"{about} produced {len(hits)} notifications; expected exactly one.",
                            tuple(text(_shown(got[i])) for i in hits),
                        )
                    )
                first = got[hits[0]]
                found.extend(self._fields(first, about, times.get(id(interrupt)), text))
        for i, notification in enumerate(got):
            if i not in used:
                found.append(
                    Violation(
                        "notified_without_interrupt",
                        "A notification matches no interrupt of the run (a call that was not "
                        "reviewed, or a thread that never paused): the approver is asked "
                        "about something nobody waits on.",
                        (text(_shown(notification)),),
                    )
                )
        return found

    def _fields(
        self, notification: Notification, about: str, at: datetime | None, text: Any
    ) -> list[Violation]:
        body = notification.body
        found: list[Violation] = []
        missing = [f for f in self.fields if not isinstance(body, Mapping) or f not in body]
        if missing:
            found.append(
                Violation(
                    "notification_fields_missing",
                    f"The notification for {about} lacks {', '.join(map(repr, missing))} "
                    f"(promised: {', '.join(self.fields)}).",
                    (text(_shown(notification)),),
                )
            )
        key = self.timestamp_key
        if key is None or not isinstance(body, Mapping) or key not in body or at is None:
            return found
        try:
            stamped = datetime.fromisoformat(str(body[key]))
        except ValueError:
            stamped = None
        if stamped is not None and stamped.tzinfo is None:
            stamped = stamped.replace(tzinfo=UTC)
        if stamped != at:
            found.append(
                Violation(
                    "notification_time_off",
                    f"The notification for {about} is stamped {body[key]!r}; the interrupt "
                    f"happened at {at.isoformat()} (frozen clock). Expected the time of the "
                    "interrupt, from the (patched) clock the app reads.",
                    (text(_shown(notification)),),
                )
            )
        return found

    def check(self, runs: Run | Sequence[Run]) -> None:
        raise_found(self.violations(runs), "The app's webhook notifications")


def _plain(value: Any) -> Any:
    """`value` as it comes back from JSON."""
    return json.loads(json.dumps(value, default=str))


def _calls(interrupt: PendingInterrupt) -> str:
    return ", ".join(a.describe() for a in interrupt.actions) or repr(interrupt.value)


def _shown(notification: Notification) -> str:
    return f"POST {notification.path} at {notification.at.isoformat()}: {notification.body!r}"
